#!/usr/bin/env bash
# flashd-spl: SPL boards, end to end (issue 10, scenario 2). Two i.MX6ULL boards whose
# U-Boot boots an SPL first: the boot ROM gets the SPL over SDP, the board comes back
# as U-Boot SPL's own SDP gadget (0525:b4a4, bcdDevice 0x0500: SDPV), flashd sends
# U-Boot proper and jumps, the board comes back as fastboot on the same port.
#  board 0 (1-1): one flash.bin (SPL with u-boot.img right after it), uuu's form
#     "SDP: boot -f flash.bin", "SDPV: write -f flash.bin -skipspl", "SDPV: jump";
#     flashed to the eMMC at 0x400, then "FB: reboot": the board boots SPL ->
#     u-boot.img from its eMMC.
#  board 1 (2-1): separate SPL and u-boot.img on a mainline U-Boot (raw partitions from
#     its environment); unplugged while flashd sends u-boot.img to the SPL: the port
#     records FAILED at that SDPV step; plugged in again (a fresh board in its ROM on the
#     same eMMC): flashed, ok.
# Checks: eMMCs byte for byte; each ok record has the SPL's steps; the watcher saw
# sdp -> wait-reenum -> spl-sdp -> wait-reenum -> fastboot -> done; the board logs show
# rom -> spl -> fastboot.
# vm-boards: 2
# vm-timeout: 420
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
emmc=$((32 << 20))
spl_size=$((0x10C00)) # mkimage: boot_data.length 0x11000, -skipspl lands after the SPL
text_base=0x87800000  # u-boot.img loads here; the SPL's CONFIG_SDP_LOADADDR is 0x877fffc0

# u-boot.img of 900 KiB: fits raw "bootloader" (0x7fe blocks) with the SPL
make_spl_flash SPL u-boot.img flash.bin "$spl_size" "$text_base" $((900 * 1024 + 123))

cat >combined.lst <<'PLAN'
uuu_version 1.4.0
SDP: boot -f flash.bin
SDPV: delay 100
SDPV: write -f flash.bin -skipspl
SDPV: jump
FB: getvar version-bootloader
FB: flash bootloader flash.bin
FB: reboot
FB: done
PLAN
cat >separate.lst <<'PLAN'
uuu_version 1.4.0
SDP: boot -f SPL
SDPV: write -f u-boot.img
SDPV: jump
FB: flash bootloader SPL
FB: flash uboot u-boot.img
FB: done
PLAN
for p in combined.lst separate.lst; do
	"$FL_FLASHD" --check-plan "$p" >"$OUT/check-$p.txt" 2>&1 ||
		fail "$p does not load: $(tail -n 3 "$OUT/check-$p.txt")"
done
grep -q 'spl' "$OUT/check-combined.lst.txt" || note "check-plan: $(cat "$OUT/check-combined.lst.txt")"

# the expected eMMCs: SPL at 0x400, u-boot.img right after it (sector 0x88)
truncate -s "$emmc" expected.img
dd if=flash.bin of=expected.img bs=1024 seek=1 conv=notrunc status=none

fl_conf plan="$VM_TMP/combined.lst" plan-args= settle=1s
fl_start
watch=$OUT/watch.ndjson
fl_watch "$watch"
fl_ctl use "$VM_TMP/separate.lst" 2-1 >/dev/null || fail "use separate.lst 2-1 refused"

fl_board 0 --soc 6ull --emmc-size "$emmc" --spl-uboot-sector 0x88 --exit-when booted
# board 1 loses power in the middle of the SPL's first SDP command, the write of
# u-boot.img (flashd-emu --unplug-at; it stays off). Not a poll for the step and
# then an unplug: on a quiet machine that write can be over before the next poll.
fl_board 1 --soc 6ull --emmc-size "$emmc" --uboot mainline \
	--env "fastboot_raw_partition_bootloader=0x2 0x86" \
	--env "fastboot_raw_partition_uboot=0x88 0x1000" \
	--unplug-at middle:spl:1 --replug-after 600000

fl_wait_result 2-1 failed 120
wait_event "$(board_log 1)" unplug '.where == "spl"' 10 >/dev/null ||
	fail "board 1 did not lose power in the SPL stage"
stop_board 1
rec=$FL_REC
note "unplugged in the SPL stage: $(fl_json_get "$rec" '[.failed_step, .reason] | join(": ")')"
expect_eq "failed step" "$(fl_json_get "$rec" .failed_step)" "SDPV: write -f u-boot.img"
[[ $(fl_json_get "$rec" .reason) == *disconnect* || $(fl_json_get "$rec" .reason) == *"No such device"* ]] ||
	fail "unplug reason: $(fl_json_get "$rec" .reason)"
fl_wait_state 2-1 empty 30
fl_board 1 --soc 6ull --emmc-size "$emmc" --uboot mainline \
	--env "fastboot_raw_partition_bootloader=0x2 0x86" \
	--env "fastboot_raw_partition_uboot=0x88 0x1000"

fl_wait_ok 1-1 240
rec0=$FL_REC
fl_wait_ok 2-1 240
rec1=$FL_REC

# the records carry the SPL's steps
expect_eq "1-1 SPL steps" \
	"$(fl_json_get "$rec0" '[.steps[].text | select(startswith("SDPV:"))] | join(", ")')" \
	"SDPV: delay 100, SDPV: write -f flash.bin -skipspl, SDPV: jump"
expect_eq "2-1 SPL steps" \
	"$(fl_json_get "$rec1" '[.steps[].text | select(startswith("SDPV:"))] | join(", ")')" \
	"SDPV: write -f u-boot.img, SDPV: jump"

# the boards went rom -> spl -> fastboot; board 0 then booted its eMMC
for k in 0 1; do
	seq=$(events "$(board_log "$k")" phase | jq -r .phase | tr '\n' ' ')
	[[ $seq == *"rom jump reenum spl spl-jump reenum fastboot "* ]] ||
		fail "board $k: phases '$seq', want rom jump reenum spl spl-jump reenum fastboot"
done
wait_board_exit 0 60 || fail "board 0 did not boot from its eMMC"
expect_eq "board 0 boot" "$(events "$(board_log 0)" boot | jq -r '"\(.result) \(.spl)"' | tail -n 1)" \
	"booted true"
cmp "$(board_emmc 0)" expected.img >&2 || fail "board 0: the eMMC differs from expected.img"
stop_board 1
cmp "$(board_emmc 1)" expected.img >&2 || fail "board 1: the eMMC differs from expected.img"

# the watcher saw the stage
sleep 1
for port in 1-1 2-1; do
	states=$(fl_wevents "$watch" ".event == \"port\" and .port == \"$port\"" | jq -r .state |
		uniq | tr '\n' ' ')
	note "$port states: $states"
	[[ $states == *"sdp wait-reenum spl-sdp wait-reenum fastboot done "* ]] ||
		fail "watch: $port states '$states', want sdp wait-reenum spl-sdp wait-reenum fastboot done"
done
fl_ctl status
fl_stop
note "flashd-spl: ok"
