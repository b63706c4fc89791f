#!/usr/bin/env bash
# bed-smoke: the test bed itself, without flashd-emu. A configfs HID gadget that looks
# like an i.MX6Q ROM (15a2:0054) on every UDC must show up on port K+1-1 with udev's
# ID_USB_INTERFACES=:030000: and a hidraw node, and uuu must list it; re-binding it
# with U-Boot's 0525:a4a5 must re-enumerate on the same port with a new address.
# Also checks that a functionfs instance can be created and mounted.
# vm-boards: 3
# vm-timeout: 120
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

G=/sys/kernel/config/usb_gadget

# gadget K VID PID: a configfs gadget on dummy_udc.K with one HID function
gadget() {
	local g=$G/bed$1
	mkdir -p "$g/strings/0x409" "$g/configs/c.1" "$g/functions/hid.0"
	echo "0x$2" >"$g/idVendor"
	echo "0x$3" >"$g/idProduct"
	echo "Freescale SemiConductor Inc " >"$g/strings/0x409/manufacturer"
	echo "SE Blank bed$1" >"$g/strings/0x409/product"
	echo 64 >"$g/functions/hid.0/report_length"
	# vendor page 0xff00, one 64-byte input and one 64-byte output report
	printf '\x06\x00\xff\x09\x01\xa1\x01\x15\x00\x26\xff\x00\x75\x08\x95\x40\x09\x01\x81\x02\x95\x40\x09\x01\x91\x02\xc0' \
		>"$g/functions/hid.0/report_desc"
	ln -s "$g/functions/hid.0" "$g/configs/c.1/"
	echo "dummy_udc.$1" >"$g/UDC"
}

[[ -d $G ]] || fail "configfs usb_gadget is not mounted"
n=$(find /sys/class/udc -mindepth 1 -maxdepth 1 | wc -l)
expect_eq "UDC count" "$n" "$NBOARDS"

for ((k = 0; k < NBOARDS; k++)); do
	gadget "$k" 15a2 0054
done
for ((k = 0; k < NBOARDS; k++)); do
	wait_usb "$k" 15a2:0054 10
	expect_eq "port $(usb_port "$k") interfaces" "$(udev_prop "$k" ID_USB_INTERFACES)" ":030000:"
	expect_eq "port $(usb_port "$k") speed" "$(<"$(usb_sys "$k")/speed")" 480
	compgen -G "$(usb_sys "$k"):1.0/*/hidraw/hidraw*" >/dev/null ||
		fail "port $(usb_port "$k"): no hidraw node"
done
# uuu lists it as an i.MX6Q ROM on the first port
uuu -lsusb >"$OUT/lsusb.txt" 2>&1 || true
grep -q 'MX6Q' "$OUT/lsusb.txt" || fail "uuu -lsusb does not list an MX6Q device"

# re-enumerate board 0 with another identity on the same port
devnum=$(<"$(usb_sys 0)/devnum")
echo "" >"$G/bed0/UDC"
wait_usb_gone 0 10
rm "$G/bed0/configs/c.1/hid.0"
echo 0x0525 >"$G/bed0/idVendor"
echo 0xa4a5 >"$G/bed0/idProduct"
mkdir "$G/bed0/functions/ffs.bed0"
mkdir -p /dev/ffs-bed0
mount -t functionfs bed0 /dev/ffs-bed0
[[ -e /dev/ffs-bed0/ep0 ]] || fail "functionfs did not mount"
umount /dev/ffs-bed0
rmdir "$G/bed0/functions/ffs.bed0"
ln -s "$G/bed0/functions/hid.0" "$G/bed0/configs/c.1/"
echo dummy_udc.0 >"$G/bed0/UDC"
wait_usb 0 0525:a4a5 10
[[ $(<"$(usb_sys 0)/devnum") != "$devnum" ]] || fail "re-enumeration kept device number $devnum"
note "bed-smoke: $NBOARDS ports ok"
