#!/usr/bin/env bash
# emu-imx_usb: Debian's unmodified imx_usb (imx-usb-loader) boots an i.MX6Q board
# emulator from an image made by `mkimage -T imximage` with a DCD. The emulator's log
# must show the DCD's writes and check in order, the file at the IVT's own address with
# the CRC of the bytes imx_usb sends (the image with the IVT's DCD pointer cleared), the
# jump to the IVT, and the board must come back on the same port as U-Boot's fastboot
# gadget that `fastboot devices` lists with the serial number made from the UID.
# vm-boards: 1
# vm-timeout: 240
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

uid=0123456789abcdef
serial=89abcdef01234567 # U-Boot: %08x%08x of OCOTP CFG0 (UID low), CFG1 (UID high)
log=$(board_log 0)

random_file payload.bin $((256 * 1024))
make_imx uboot.imx payload.bin 0x17800000
ivt_self=$(od -An -tx4 -j 20 -N 4 uboot.imx | tr -d ' ')
expect_eq "IVT self address" "$ivt_self" 177ff400
# what imx_usb writes: the whole file, with the IVT's DCD pointer cleared so that the
# ROM does not run the DCD a second time at the jump
cp uboot.imx sent.bin
printf '\0\0\0\0' | dd of=sent.bin bs=1 seek=12 conv=notrunc status=none

start_board 0 --soc 6q --uid "$uid" --reenum-delay 200
wait_usb 0 15a2:0054 30
rc=0
run_client 120 imx_usb -c "$SRCDIR/tests/vm/data" uboot.imx >"$OUT/imx_usb.txt" 2>&1 || rc=$?
((rc == 0)) || fail "imx_usb exited with $rc: $(tail -n 3 "$OUT/imx_usb.txt" | tr '\n' ' ')"

# the DCD: executed once, every command in order
dcd=$(wait_event "$log" dcd 5)
expect_eq "DCD result" "$(jq -r '"\(.result) \(.writes) \(.checks)"' <<<"$dcd")" "ok 4 1"
expect_eq "DCD runs" "$(count_events "$log" dcd)" 1
writes=$(events "$log" dcd-write | jq -r '"\(.addr)=\(.value)"' | tr '\n' ' ')
expect_eq "DCD writes" "$writes" \
	"0x020c4068=0x00c03f3f 0x021b001c=0x00008000 0x021b0000=0x831a0000 0x021b001c=0x00000000 "
events "$log" dcd-check '.addr == "0x021b001c" and .mask == "0x00004000" and .ok' | grep -q . ||
	fail "no successful DCD check of MDSCR.CON_ACK"

# the file, where the IVT says, byte for byte (CRC over everything the ROM stored)
file=$(wait_event "$log" file 5)
expect_eq "WRITE_FILE address" "$(jq -r .addr <<<"$file")" "0x$ivt_self"
expect_eq "WRITE_FILE bytes" "$(jq -r '"\(.count) \(.stored)"' <<<"$file")" \
	"$(stat -c %s sent.bin) $(stat -c %s sent.bin)"
expect_eq "RAM CRC-32" "$(jq -r .crc32 <<<"$file")" "0x$(file_crc sent.bin)"

# the jump, then U-Boot's fastboot gadget on the same port
jump=$(wait_event "$log" jump 5)
expect_eq "jump" "$(jq -r '"\(.addr) \(.entry) \(.result)"' <<<"$jump")" "0x$ivt_self 0x17800000 ok"
wait_phase 0 fastboot 30
phases=$(events "$log" phase | jq -r .phase | tr '\n' ' ')
expect_eq "phases" "$phases" "rom jump reenum fastboot "
wait_usb 0 0525:a4a5 30
expect_eq "fastboot interface" "$(udev_prop 0 ID_USB_INTERFACES)" ":ff4203:"
expect_eq "fastboot serial" "$(<"$(usb_sys 0)/serial")" "$serial"
run_client 30 fastboot devices >"$OUT/devices.txt" 2>&1 || fail "fastboot devices failed"
grep -Eq "^${serial}[[:space:]]+fastboot" "$OUT/devices.txt" ||
	fail "fastboot devices does not list $serial: $(cat "$OUT/devices.txt")"
got=$(run_client 30 fastboot -s "$serial" getvar serialno 2>&1) || fail "getvar serialno failed"
grep -q "^serialno: $serial" <<<"$got" || fail "getvar serialno: $got"
note "emu-imx_usb ok"
