#!/usr/bin/env bash
# flashd-emmc_all: NXP's built-in emmc_all script, exactly as Debian's uuu prints it
# (uuu -bshow emmc_all), as flashd's plan with uuu's two arguments, on boards with
# NXP's U-Boot (flashd-emu --uboot nxp) (issue 10, scenario 1).
#  board 0 (1-1): a full U-Boot (.imx): the script's SDPU/SDPV lines are not reached.
#  board 1 (2-1): an SPL flash.bin (SPL + u-boot.img): the ROM boots the SPL, the
#     script's SDPV lines send U-Boot proper (-skipspl), then fastboot.
#  board 2 (3-1): the older built-in `emmc` (bootloader only) with its one argument
#     (its _image defaults to _flash.bin): boot0 and partconf as for the others.
# Both: "FB: flash -raw2sparse all IMAGE" writes the whole user area (in several sparse
# pieces: max-download-size 2 MiB), "FB: flash -scanterm ... bootloader FLASH.BIN" puts
# the bootloader in boot partition 0 at 0x400 (uboot-imx's "bootloader"), and
# "mmc partconf ${emmc_dev} ${emmc_ack} 1 0" enables boot0. Checks: the user area is
# IMAGE byte for byte, boot0 holds the bootloader at 0x400, PARTITION_CONFIG enables
# boot0, the journal has ok records with the arguments' hashes, and after a reboot
# (AOSP fastboot, unmodified) each board boots from boot0.
# vm-boards: 3
# vm-timeout: 420
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
emmc_mib=64
plan=$VM_TMP/emmc_all.lst
uuu -bshow emmc_all >"$plan"
cp "$plan" "$OUT/emmc_all.lst"
grep -q '^FB: flash -raw2sparse all _image$' "$plan" ||
	fail "uuu's emmc_all has no 'FB: flash -raw2sparse all _image' line"

make_emmc_all_files "$emmc_mib"

"$FL_FLASHD" --check-plan "$plan" "$VM_TMP/spl-flash.bin" "$VM_TMP/image.wic" >"$OUT/check-spl.txt" 2>&1 ||
	fail "emmc_all with an SPL does not load: $(tail -n 3 "$OUT/check-spl.txt")"
fl_conf plan="$plan" plan-args="$VM_TMP/flash.bin $VM_TMP/image.wic" settle=1s
fl_start
fl_ctl use --args "$VM_TMP/spl-flash.bin" --args "$VM_TMP/image.wic" "$plan" 2-1 >/dev/null ||
	fail "use emmc_all (SPL) on 2-1 refused"
uuu -bshow emmc >"$VM_TMP/emmc.lst"
fl_ctl use --args "$VM_TMP/flash.bin" "$VM_TMP/emmc.lst" 3-1 >/dev/null ||
	fail "use emmc on 3-1 refused"
for k in 0 1 2; do
	fl_board "$k" --soc 6q --uboot nxp --emmc-size "${emmc_mib}M" --max-download-size 0x200000 \
		--spl-uboot-sector 0x88 --exit-when booted
done
fl_wait_ok 1-1 300
rec0=$FL_REC
fl_wait_ok 2-1 300
rec1=$FL_REC
fl_wait_ok 3-1 300

# the images in the records are the arguments
for r in "$rec0" "$rec1"; do
	got=$(fl_json_get "$r" '.images[] | "\(.path) \(.sha256)"' | sort -u)
	[[ $got == *"$VM_TMP/image.wic $(sha256sum image.wic | cut -d' ' -f1)"* ]] ||
		fail "record images: $got"
done
expect_eq "1-1 SPL steps" "$(fl_json_get "$rec0" '[.steps[].text | select(test("^SDP[UV]:"))] | length')" 0
# (step texts as the plan writes them; the images are in .images)
expect_eq "2-1 SPL steps" \
	"$(fl_json_get "$rec1" '[.steps[].text | select(test("^SDP[UV]:"))] | join(", ")')" \
	"SDPV: delay 1000, SDPV: write -f _flash.bin -skipspl -scanterm -scanlimited 0x800000, SDPV: jump -scanlimited 0x800000"

for k in 0 1; do
	log=$(board_log "$k")
	expect_eq "board $k failed commands" "$(count_events "$log" fb-reply '.reply | startswith("FAIL")')" 0
	pieces=$(count_events "$log" flash '.part == "all" and .kind == "sparse" and .result == "OKAY"')
	# 3 MiB of data (the zeros go as FILL chunks) in pieces of at most 2 MiB
	((pieces >= 2)) || fail "board $k: the image arrived in $pieces sparse pieces, want several"
	expect_eq "board $k bootloader" \
		"$(events "$log" flash '.part == "bootloader"' | jq -r '"\(.hwpart) \(.offset) \(.result)"')" \
		"boot0 1024 OKAY"
	expect_eq "board $k partconf" \
		"$(events "$log" partconf | tail -n 1 | jq -r '"\(.ack) \(.boot_partition) \(.access)"')" "0 1 0"
	cmp "$(board_emmc "$k")" expected.img >&2 || fail "board $k: the user area differs from the image"
done
expect_bytes "$(board_emmc 0).boot0" 1024 flash.bin
expect_bytes "$(board_emmc 1).boot0" 1024 spl-flash.bin
# board 2 (emmc): the bootloader in boot0, partconf enables it, the user area untouched
expect_bytes "$(board_emmc 2).boot0" 1024 flash.bin
expect_eq "board 2 partconf" \
	"$(events "$(board_log 2)" partconf | tail -n 1 | jq -r '"\(.ack) \(.boot_partition) \(.access)"')" "0 1 0"
expect_eq "board 2 failed commands" \
	"$(count_events "$(board_log 2)" fb-reply '.reply | startswith("FAIL")')" 0

# a reboot boots what partconf enabled: boot0
fl_stop
fastboot_reboot_board 0
fastboot_reboot_board 1
expect_eq "board 0 boot" "$(events "$(board_log 0)" boot | jq -r '"\(.result) \(.source)"')" "booted boot0"
expect_eq "board 1 boot" "$(events "$(board_log 1)" boot | jq -r '"\(.result) \(.source) \(.spl)"')" \
	"booted boot0 true"
note "flashd-emmc_all: ok"
