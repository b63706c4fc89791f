#!/usr/bin/env bash
# emu-uuu-emmc_all: NXP's built-in emmc_all script, exactly as Debian's uuu prints it
# (uuu -bshow emmc_all), run by "uuu -b emmc_all BOOTLOADER IMAGE" against an emulated
# board with NXP's U-Boot (--uboot nxp): SDP boot of a full U-Boot image, then
# "FB: flash -raw2sparse all IMAGE" (whole user area), "FB: flash ... bootloader
# BOOTLOADER" (uboot-imx: boot partition 1 at 0x400) and "mmc partconf ${emmc_dev}
# ${emmc_ack} 1 0" (boot from boot0). Afterwards the user area must equal IMAGE byte
# for byte, boot0 must hold the bootloader at 0x400, PARTITION_CONFIG must enable
# boot0, and a reboot (AOSP fastboot, unmodified) must boot from boot0.
# Board 1 runs the same script with an SPL flash.bin (SPL + u-boot.img, tests/vm/lib.sh
# make_spl_flash): the script's SDPV lines take it through the SPL ("-skipspl"), the
# bootloader lands in boot0, and after the reboot SPL loads u-boot.img from boot0
# (common/spl/spl_mmc.c, the partition PARTITION_CONFIG enables) at sector 0x88.
# vm-boards: 2
# vm-timeout: 300
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

emmc_mib=64
log=$(board_log 0)
emmc=$(board_emmc 0)

uuu -bshow emmc_all >"$OUT/emmc_all.uuu"
grep -q '^FB: flash -raw2sparse all _image$' "$OUT/emmc_all.uuu" ||
	fail "uuu's emmc_all has no 'FB: flash -raw2sparse all _image' line"
# shellcheck disable=SC2016 # the literal text of the script
grep -q '^FB: ucmd mmc partconf ${emmc_dev} ${emmc_ack} 1 0$' "$OUT/emmc_all.uuu" ||
	fail "uuu's emmc_all does not set partconf as expected"

make_emmc_all_files "$emmc_mib"

start_board 0 --soc 6q --uboot nxp --emmc-size "${emmc_mib}M" --max-download-size 0x200000 \
	--exit-when booted
start_board 1 --soc 6q --uboot nxp --emmc-size "${emmc_mib}M" --max-download-size 0x200000 \
	--spl-uboot-sector 0x88 --exit-when booted
wait_usb 0 15a2:0054 30
wait_usb 1 15a2:0054 30
(run_client 200 uuu -v -m 1:1 -b emmc_all flash.bin image.wic >"$OUT/uuu.txt" 2>&1) &
pid0=$!
(run_client 200 uuu -v -m 2:1 -b emmc_all spl-flash.bin image.wic >"$OUT/uuu1.txt" 2>&1) &
pid1=$!
rc=0
wait "$pid0" || rc=$?
((rc == 0)) || fail "uuu exited with $rc: $(tr '\r' '\n' <"$OUT/uuu.txt" | grep -v '^$' | tail -n 2 | tr '\n' ' ')"
rc=0
wait "$pid1" || rc=$?
((rc == 0)) || fail "uuu (SPL board) exited with $rc: $(tr '\r' '\n' <"$OUT/uuu1.txt" | grep -v '^$' | tail -n 2 | tr '\n' ' ')"

wait_phase 0 fastboot 5
expect_eq "failed commands" "$(count_events "$log" fb-reply '.reply | startswith("FAIL")')" 0
pieces=$(count_events "$log" flash '.part == "all" and .kind == "sparse" and .result == "OKAY"')
((pieces >= 3)) || fail "the image arrived in $pieces sparse pieces, want several (2 MiB limit)"
expect_eq "bootloader" "$(events "$log" flash '.part == "bootloader"' | jq -r '"\(.hwpart) \(.offset) \(.result)"')" \
	"boot0 1024 OKAY"
expect_eq "partconf" "$(events "$log" partconf | tail -n 1 | jq -r '"\(.ack) \(.boot_partition) \(.access)"')" "0 1 0"

# reboot: the ROM boots what partconf enabled
fastboot_reboot_board 0
fastboot_reboot_board 1
expect_eq "boot" "$(events "$log" boot | jq -r '"\(.result) \(.source)"')" "booted boot0"
log1=$(board_log 1)
seq=$(events "$log1" phase | jq -r .phase | tr '\n' ' ')
[[ $seq == "rom jump reenum spl spl-jump reenum fastboot reboot booted "* ]] ||
	fail "board 1: phases '$seq', want rom jump reenum spl spl-jump reenum fastboot reboot booted"
expect_eq "board 1 boot" "$(events "$log1" boot | jq -r '"\(.result) \(.source) \(.spl) \(.uboot_offset)"')" \
	"booted boot0 true $((0x88 * 512))"
expect_bytes "$(board_emmc 1).boot0" 1024 spl-flash.bin
cmp "$(board_emmc 1)" expected.img >&2 || fail "board 1: the user area differs from the image"

cmp "$emmc" expected.img >&2 || {
	cp "$emmc" "$OUT/emmc.img"
	fail "the user area differs from the image (saved in OUT)"
}
expect_bytes "$emmc.boot0" 1024 flash.bin
note "emu-uuu-emmc_all ok: $pieces sparse pieces"
