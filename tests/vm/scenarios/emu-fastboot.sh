#!/usr/bin/env bash
# emu-fastboot: Debian's unmodified AOSP fastboot against the board emulator started in
# U-Boot's fastboot mode: getvar all; flash of an MBR; flash of a sparse image (raw,
# fill and zero chunks, made by img2simg) larger than the emulator's 1 MiB
# max-download-size, which the client must split; erase of that partition; flash of the
# bootloader at 0x400; reboot, after which the board boots what was flashed and leaves
# the bus. The eMMC is checked byte for byte after each step.
# vm-boards: 1
# vm-timeout: 240
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

emmc_mib=64
part_lba=8192      # partition 1 ("rootfs" = mmcsda1) at 4 MiB …
part_sectors=32768 # … 16 MiB long: a whole number of 512 KiB erase groups
serial=89abcdef01234567
log=$(board_log 0)
emmc=$(board_emmc 0)

# fb CMD...: fastboot on this board; its output goes to stdout and $OUT/fastboot.txt
fb() {
	run_client 120 fastboot -s "$serial" "$@" 2>&1 | tee -a "$OUT/fastboot.txt"
	return "${PIPESTATUS[0]}"
}

# emmc_region_is OFFSET FILE: the live eMMC holds FILE at byte OFFSET
emmc_region_is() {
	expect_bytes "$emmc" "$1" "$2"
}

random_file payload.bin $((256 * 1024))
make_imx uboot.imx payload.bin 0x17800000
make_mbr mbr.bin "$part_lba" "$part_sectors"
{
	head -c $((1024 * 1024)) /dev/urandom
	head -c $((1024 * 1024)) /dev/zero
	fill=$(printf '\xab\xcd\xef\x01%.0s' {1..16384}) # 64 KiB of one 32-bit word …
	for _ in {1..16}; do printf "%s" "$fill"; done     # … 1 MiB: a FILL chunk
	head -c $((3 * 1024 * 1024)) /dev/urandom
} >rootfs.raw
img2simg rootfs.raw rootfs.simg
sparse_size=$(stat -c %s rootfs.simg)
((sparse_size > 3 * 1024 * 1024)) || fail "the sparse image is only $sparse_size bytes"
head -c $((part_sectors * 512)) /dev/zero >zero-part.bin

start_board 0 --start fastboot --soc 6q --uid 0123456789abcdef --emmc-size "${emmc_mib}M" \
	--max-download-size 0x100000 --exit-when booted
wait_usb 0 0525:a4a5 30

fb getvar all >getvar.txt || fail "getvar all failed"
for want in "max-download-size: 0x00100000" "serialno: $serial" "version-bootloader: U-Boot"; do
	grep -q "(bootloader) $want" getvar.txt || fail "getvar all lacks '$want'"
done

fb flash mbr mbr.bin || fail "flash mbr failed"
emmc_region_is 0 mbr.bin

fb flash rootfs rootfs.simg || fail "flash rootfs failed"
pieces=$(count_events "$log" flash '.part == "rootfs" and .kind == "sparse" and .result == "OKAY"')
((pieces >= 4)) || fail "a $sparse_size-byte sparse image came in $pieces pieces (1 MiB limit)"
downloads=$(events "$log" download | jq -s 'map(.size) | max')
((downloads <= 1048576)) || fail "a download of $downloads bytes exceeds max-download-size"
emmc_region_is $((part_lba * 512)) rootfs.raw

fb erase rootfs || fail "erase rootfs failed"
emmc_region_is $((part_lba * 512)) zero-part.bin

fb flash bootloader uboot.imx || fail "flash bootloader failed"
emmc_region_is 1024 uboot.imx

fb reboot || fail "reboot failed"
wait_phase 0 booted 30
wait_usb_gone 0 10
rc=0
wait_board_exit 0 20 || rc=$?
expect_eq "emulator exit status (--exit-when booted)" "$rc" 0

truncate -s "${emmc_mib}M" expected.img
dd if=mbr.bin of=expected.img conv=notrunc status=none
dd if=uboot.imx of=expected.img bs=1024 seek=1 conv=notrunc status=none
cmp "$emmc" expected.img >&2 || fail "the final eMMC differs from the expected image"
note "emu-fastboot ok: $pieces sparse pieces"
