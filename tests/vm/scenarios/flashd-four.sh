#!/usr/bin/env bash
# flashd-four: four blank boards at once, each with its own timing, one with a fault.
# Board 0 is plain, board 1 re-enumerates slowly (3 s), board 2 has a slow eMMC
# (4 MB/s), board 3 answers FAIL to every "flash:rootfs". Checks: boards 0-2 end "ok"
# with eMMCs byte for byte expected-emmc.img; board 3 ends FAILED at the rootfs step
# with the board's reason, in `flashctl status` and in the journal, and its rootfs area
# was never written; every board was uploaded to exactly once; the fault of one port
# did not delay the others (each good board's time is printed).
# vm-boards: 4
# vm-timeout: 500
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
fl_conf settle=2s
fl_start
fl_watch "$OUT/watch.ndjson"

fl_board 0
fl_board 1 --reenum-delay 3000
fl_board 2 --emmc-mbps 4
fl_board 3 --fault-fail 'flash:rootfs'

for k in 0 1 2; do
	fl_wait_result "$(usb_port "$k")" ok 400
	rec=$FL_REC
	note "board $k: ok in $(fl_json_get "$rec" '.end_ms - .start_ms') ms"
done
fl_wait_result 4-1 failed 60
rec=$FL_REC
note "board 3: $(fl_json_get "$rec" '[.failed_step, .reason, .bytes] | @tsv')"

# the failure: step and reason in the journal and in flashctl status (json and text)
[[ $(fl_json_get "$rec" .failed_step) == *rootfs* ]] ||
	fail "board 3 failed at '$(fl_json_get "$rec" .failed_step)', want the rootfs step"
[[ $(fl_json_get "$rec" .reason) == *"injected fault"* ]] ||
	fail "board 3: reason '$(fl_json_get "$rec" .reason)' does not carry the board's FAIL text"
port=$(fl_port 4-1)
expect_eq "4-1 state" "$(fl_json_get "$port" .state)" failed
expect_eq "4-1 result" "$(fl_json_get "$port" .result)" failed
expect_eq "4-1 failed_step" "$(fl_json_get "$port" .failed_step)" "$(fl_json_get "$rec" .failed_step)"
[[ $(fl_json_get "$port" .reason) == *"injected fault"* ]] || fail "status 4-1: no reason"
fl_ctl status | tee "$OUT/status.txt"
grep -E '^4-1[[:space:]]+failed' "$OUT/status.txt" >/dev/null || fail "flashctl status: 4-1 not failed"
grep -F "injected fault" "$OUT/status.txt" >/dev/null || fail "flashctl status: no reason for 4-1"

# bytes: the good boards hold exactly the expected image, the failed one got its
# first steps and nothing of the rootfs
for k in 0 1 2; do
	wait_event "$(board_log "$k")" boot '.result == "booted"' 30 >/dev/null ||
		fail "board $k did not boot what was flashed"
	fl_expect_emmc "$k"
done
expect_bytes "$(board_emmc 3)" 0 "$FL_SEED/mbr.bin"
expect_bytes "$(board_emmc 3)" 1024 "$FL_SEED/u-boot.imx"
cmp -n $((FL_EMMC_SIZE - (8 << 20))) -i $((8 << 20)):0 "$(board_emmc 3)" /dev/zero >&2 ||
	fail "board 3: its rootfs area was written"
for k in 0 1 2 3; do
	expect_eq "board $k SDP uploads" "$(fl_uploads "$k")" 1
done
expect_eq "journal records" "$(fl_records | wc -l)" 4
fl_ctl history
fl_stop
note "flashd-four: ok"
