#!/usr/bin/env bash
# emu-uuu: Debian's unmodified uuu runs a factory script against the board emulator:
# SDP: boot of a mkimage-made U-Boot image, then over fastboot an MBR, a raw root file
# system with -raw2sparse (the emulator's max-download-size is 2 MiB, so uuu splits it
# into several sparse pieces) and the bootloader into the raw region at 0x400.
# Afterwards the emulated eMMC must equal, byte for byte, an image built with dd.
# vm-boards: 1
# vm-timeout: 240
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

emmc_mib=64
part_lba=8192     # partition 1 at 4 MiB …
part_sectors=32768 # … 16 MiB long
log=$(board_log 0)

random_file payload.bin $((256 * 1024))
make_imx uboot.imx payload.bin 0x17800000
make_mbr mbr.bin "$part_lba" "$part_sectors"
# random, zero and random again, 4 KiB blocks (uuu -raw2sparse fills the rest of a
# partial last block with stale bytes of its buffer, as seen with uuu 1.4.193, so a
# byte-exact check needs whole blocks); not a multiple of the 2 MiB pieces
{
	head -c $((1024 * 1024)) /dev/urandom
	head -c $((2 * 1024 * 1024)) /dev/zero
	head -c $((3 * 1024 * 1024 + 12 * 1024)) /dev/urandom
} >rootfs.img
cat >flash.uuu <<UUU
uuu_version 1.4.0
# flashd test bed: boot U-Boot over SDP, then partition and flash the eMMC
SDP: boot -f uboot.imx
FB: getvar version-bootloader
FB: flash mbr mbr.bin
FB: flash -raw2sparse rootfs rootfs.img
FB: flash bootloader uboot.imx
FB: done
UUU

# the expected eMMC: zeros, the MBR, the bootloader at 0x400, the root fs in partition 1
truncate -s "${emmc_mib}M" expected.img
dd if=mbr.bin of=expected.img conv=notrunc status=none
dd if=uboot.imx of=expected.img bs=1024 seek=1 conv=notrunc status=none
dd if=rootfs.img of=expected.img bs=512 seek="$part_lba" conv=notrunc status=none

start_board 0 --soc 6q --uid 0123456789abcdef --emmc-size "${emmc_mib}M" \
	--max-download-size 0x200000
wait_usb 0 15a2:0054 30
rc=0
run_client 180 uuu -v flash.uuu >"$OUT/uuu.txt" 2>&1 || rc=$?
((rc == 0)) || fail "uuu exited with $rc: $(tr '\r' '\n' <"$OUT/uuu.txt" | grep -v '^$' | tail -n 2 | tr '\n' ' ')"
# uuu -v prints "Okay (time)" after every command that succeeded
okays=$(tr '\r' '\n' <"$OUT/uuu.txt" | grep -c 'Okay' || true)
((okays >= 6)) || fail "uuu printed $okays Okay lines, want at least 6"

wait_phase 0 fastboot 5
pieces=$(count_events "$log" flash '.part == "rootfs" and .kind == "sparse" and .result == "OKAY"')
((pieces >= 3)) || fail "rootfs arrived in $pieces sparse pieces, want several (2 MiB limit)"
expect_eq "failed commands" "$(count_events "$log" fb-reply '.reply | startswith("FAIL") and (contains("Variable not implemented") | not)')" 0

stop_board 0 # flushes and closes the eMMC file
expect_eq "eMMC size" "$(stat -c %s "$(board_emmc 0)")" "$((emmc_mib * 1024 * 1024))"
cmp "$(board_emmc 0)" expected.img >&2 || {
	cp "$(board_emmc 0)" "$OUT/emmc.img"
	cp expected.img "$OUT/"
	fail "the eMMC differs from the expected image (both saved in OUT)"
}
note "emu-uuu ok: $pieces sparse pieces"
