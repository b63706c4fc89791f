#!/usr/bin/env bash
# emu-smoke: N emulated boards (a different SoC on each port) enumerate as their boot
# ROMs on ports 1-1…N-1: the ROM's VID:PID, high speed, one HID interface
# (udev ID_USB_INTERFACES=:030000:, hidraw bound), no serial number; uuu lists them;
# stopping an emulator empties its port.
# vm-boards: 4
# vm-timeout: 120
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

socs=(6q 6dl 6ul 6ull 6sx 6sl)
declare -A pid=([6q]=0054 [6dl]=0061 [6sl]=0063 [6sx]=0071 [6ul]=007d [6ull]=0080)
declare -A uuuname=([6q]=MX6Q [6dl]=MX6D [6sl]=MX6SL [6sx]=MX6SX [6ul]=MX6UL [6ull]=MX6ULL)

for ((k = 0; k < NBOARDS; k++)); do
	soc=${socs[k % ${#socs[@]}]}
	start_board "$k" --soc "$soc" --uid "$(printf '%016x' $((0x1234500 + k)))"
done
for ((k = 0; k < NBOARDS; k++)); do
	soc=${socs[k % ${#socs[@]}]}
	port=$(usb_port "$k")
	wait_usb "$k" "15a2:${pid[$soc]}" 20
	wait_phase "$k" rom 5
	expect_eq "$port interfaces" "$(udev_prop "$k" ID_USB_INTERFACES)" ":030000:"
	expect_eq "$port speed" "$(<"$(usb_sys "$k")/speed")" 480
	[[ ! -e $(usb_sys "$k")/serial ]] || fail "$port: the ROM has a serial number"
	compgen -G "$(usb_sys "$k"):1.0/*/hidraw/hidraw*" >/dev/null || fail "$port: no hidraw node"
done

note "all ROMs enumerated"
uuu -lsusb >"$OUT/lsusb.txt" 2>&1 || true
note "uuu -lsusb done"
for ((k = 0; k < NBOARDS; k++)); do
	soc=${socs[k % ${#socs[@]}]}
	grep -Eq "^[[:space:]]*$((k + 1)):1[[:space:]]+${uuuname[$soc]}[[:space:]]+SDP:" "$OUT/lsusb.txt" ||
		fail "uuu -lsusb does not list ${uuuname[$soc]} on $((k + 1)):1"
done

for ((k = 0; k < NBOARDS; k++)); do
	stop_board "$k"
	wait_usb_gone "$k" 10
done
note "emu-smoke: $NBOARDS boards ok"
