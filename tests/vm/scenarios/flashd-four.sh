#!/usr/bin/env bash
# flashd-four: four blank boards at once, each with its own timing, one with a fault,
# on named fixture slots with an allow-list, and a fifth board on a port left out.
# Board 0 is plain, board 1 re-enumerates slowly (3 s), board 2 has a slow eMMC
# (4 MB/s), board 3 answers FAIL to every "flash:rootfs". Checks: boards 0-2 end "ok"
# with eMMCs byte for byte expected-emmc.img; board 3 ends FAILED at the rootfs step
# with the board's reason, in `flashctl status` and in the journal, and its rootfs area
# was never written; every board was uploaded to exactly once; the fault of one port
# did not delay the others (each good board's time is printed).
# Slots (flashd.conf(5)): ports 1-1 to 4-1 are slots A10, A9, B1, A2 (natural order
# A2 A9 A10 B1 differs from the ports' and from plain string order), slots-only is
# on, slot-alert is 1. Board 4 on port 5-1, no slot: never flashed (no SDP command
# reaches it, no record, eMMC untouched), listed as ignored, logged once. Status,
# watch events, the journal, history --port SLOT and stats carry the slot names;
# board 3's failure raises slot A2's alert.
# vm-boards: 5
# vm-timeout: 500
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
declare -A SLOT=([0]=A10 [1]=A9 [2]=B1 [3]=A2)
fl_conf settle=2s "slot ${SLOT[0]}=$(usb_port 0)" "slot ${SLOT[1]}=$(usb_port 1)" \
	"slot ${SLOT[2]}=$(usb_port 2)" "slot ${SLOT[3]}=$(usb_port 3)" slots-only=yes \
	slot-alert=1
grep -Fx "slot A2 = 4-1" "$FL_CONF" >/dev/null || fail "fl_conf did not write the slot lines"
fl_start
fl_watch "$OUT/watch.ndjson"

fl_board 0
fl_board 1 --reenum-delay 3000
fl_board 2 --emmc-mbps 4
fl_board 3 --fault-fail 'flash:rootfs'
fl_board 4

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
expect_eq "4-1 slot" "$(fl_json_get "$port" .slot)" A2
expect_eq "4-1 state" "$(fl_json_get "$port" .state)" failed
expect_eq "4-1 result" "$(fl_json_get "$port" .result)" failed
expect_eq "4-1 failed_step" "$(fl_json_get "$port" .failed_step)" "$(fl_json_get "$rec" .failed_step)"
[[ $(fl_json_get "$port" .reason) == *"injected fault"* ]] || fail "status 4-1: no reason"
expect_eq "slot A2 yield" "$(fl_json_get "$port" '.yield | [.ok, .failed, .failures_in_row] | @tsv')" \
	"$(printf '0\t1\t1')"
[[ $(fl_json_get "$port" .yield.alert) == *"check cable/pogo pins"* ]] ||
	fail "slot A2: no alert after a failure with slot-alert 1: $(fl_json_get "$port" .yield)"
fl_ctl status | tee "$OUT/status.txt"
grep -E '^A2[[:space:]]+4-1[[:space:]]+failed' "$OUT/status.txt" >/dev/null ||
	fail "flashctl status: slot A2 (4-1) not failed"
grep -F "injected fault" "$OUT/status.txt" >/dev/null || fail "flashctl status: no reason for 4-1"
grep -E '^A2 \(4-1\): SLOT ALERT: ' "$OUT/status.txt" >/dev/null || fail "flashctl status: no alert for A2"
grep -E '^-[[:space:]]+5-1[[:space:]]+ignored' "$OUT/status.txt" >/dev/null ||
	fail "flashctl status: 5-1 not shown as ignored"

# slots: status in natural order of the slot names, the port left out last
expect_eq "status order" "$(fl_status | jq -r '[.ports[] | "\(.slot // "-")=\(.port)"] | join(" ")')" \
	"A2=4-1 A9=2-1 A10=1-1 B1=3-1 -=5-1"
# the port left out: ignored, its board never flashed
port=$(fl_port 5-1)
expect_eq "5-1 ignored" "$(fl_json_get "$port" '[.ignored, .device, .state, .slot] | map(tostring) | join(" ")')" \
	"true rom empty null"
expect_eq "board 4 SDP commands" "$(jq -cR 'fromjson? | select(.ev | startswith("sdp"))' "$(board_log 4)" | wc -l)" 0
expect_eq "board 4 SDP uploads" "$(fl_uploads 4)" 0
expect_eq "records of 5-1" "$(fl_records '.port == "5-1"' | wc -l)" 0
if [[ -s $(board_emmc 4) ]]; then
	cmp -n "$FL_EMMC_SIZE" "$(board_emmc 4)" /dev/zero >&2 || fail "board 4: its eMMC was written"
fi
expect_eq "log lines: 5-1 ignored" \
	"$(fl_wevents "$OUT/watch.ndjson" '.event == "log" and .port == "5-1" and (.message | contains("ignored: the port is no slot"))' | wc -l)" 1
# slot names in the watch stream (port and progress events, results) and the journal
for k in 0 1 2 3; do
	p=$(usb_port "$k")
	for ev in port progress result; do
		n=$(fl_wevents "$OUT/watch.ndjson" ".event == \"$ev\" and .port == \"$p\" and .slot != \"${SLOT[$k]}\"" | wc -l)
		expect_eq "$p: $ev events without slot ${SLOT[$k]}" "$n" 0
	done
	expect_eq "$p: result events" "$(fl_wevents "$OUT/watch.ndjson" ".event == \"result\" and .slot == \"${SLOT[$k]}\"" | wc -l)" 1
	expect_eq "$p: journal slot" "$(fl_records ".port == \"$p\"" | jq -r .slot)" "${SLOT[$k]}"
done
# per-slot yield in stats, in slot order
expect_eq "stats slots" "$(fl_ctl stats --json | jq -c '[.slots[] | [.slot, .port, .ok, .failed]]')" \
	'[["A2","4-1",0,1],["A9","2-1",1,0],["A10","1-1",1,0],["B1","3-1",1,0]]'

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
fl_ctl history | tee "$OUT/history.txt"
grep -E '[[:space:]]A10[[:space:]]+1-1[[:space:]]+ok' "$OUT/history.txt" >/dev/null ||
	fail "flashctl history: no SLOT column with A10 for 1-1"
# history --port takes a slot name
fl_ctl history --port A2 | tee "$OUT/history-A2.txt"
expect_eq "history --port A2 rows" "$(($(wc -l <"$OUT/history-A2.txt") - 1))" 1
grep -E '[[:space:]]A2[[:space:]]+4-1[[:space:]]+failed' "$OUT/history-A2.txt" >/dev/null ||
	fail "flashctl history --port A2: not the record of 4-1"
# the board left out is still there, still untouched
expect_eq "board 4 SDP commands at the end" \
	"$(jq -cR 'fromjson? | select(.ev | startswith("sdp"))' "$(board_log 4)" | wc -l)" 0
fl_stop
note "flashd-four: ok"
