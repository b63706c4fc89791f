#!/usr/bin/env bash
# flashd-journal-full: the results journal lives on a tmpfs of 64 KiB that is filled
# up after flashd started. Board 0 is flashed (the example bootloader plan): its
# record cannot be written, so the "result" event says "durable": false, a
# "journal" event raises the alarm, `flashctl status` says HELD and why, and the
# journal file stays empty. Board 1 plugged in meanwhile is not started: its port
# waits in "paused" with the journal's reason and sees no SDP upload. Then the
# filler is removed: within the retry back-off the record lands in the journal
# (exactly once, whole), a "durable" event announces it, the alarm clears, and
# board 1 is flashed; its record is durable at once. Both eMMCs are checked.
# vm-boards: 2
# vm-timeout: 500
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
jfs=$VM_TMP/jfs
mkdir -p "$jfs"
mount -t tmpfs -o size=64k,mode=0755 flashd-journal "$jfs"
FL_JOURNAL=$jfs/results.jsonl
plan=$FL_PLANS/bootloader.lst
fl_conf plan="$plan" settle=1s bootloop-guard=0s
fl_start
watch=$OUT/watch.ndjson
fl_watch "$watch"
[[ -e $FL_JOURNAL ]] || fail "flashd did not create its journal"
# the disk is full: nothing more fits on the journal's filesystem
head -c 1M /dev/zero >"$jfs/filler" 2>/dev/null || true
note "journal filesystem: $(df -k "$jfs" | tail -n 1)"

# board 0: flashed, its record not durable, the station held
fl_board 0
fl_until 180 0.5 grep -q '"event":"result"' "$watch" || fail "no result event for board 0"
res=$(fl_wevents "$watch" '.event == "result" and .port == "1-1"')
expect_eq "board 0 result" "$(fl_json_get "$res" .result)" ok
expect_eq "board 0 durable" "$(fl_json_get "$res" .durable)" false
expect_eq "journal bytes while full" "$(stat -c %s "$FL_JOURNAL")" 0
alarm=$(fl_wevents "$watch" '.event == "journal"' | head -n 1)
[[ -n $alarm ]] || fail "no journal event"
expect_eq "alarm: writable, backlog" "$(fl_json_get "$alarm" '[.journal.writable, .journal.backlog] | @tsv')" \
	"$(printf 'false\t1')"
[[ $(fl_json_get "$alarm" .journal.reason) == *"No space left on device"* ]] ||
	fail "alarm reason: $(fl_json_get "$alarm" .journal.reason)"
text=$(fl_ctl status)
note "status while held: $(head -n 2 <<<"$text" | tr '\n' '|')"
[[ $text == *"station HELD"* && $text == *"JOURNAL ALARM"* && $text == *"1 record"* ]] ||
	fail "flashctl status does not say why: $text"

# board 1 arrives while held: it waits, with the reason
fl_board 1
fl_wait_state 2-1 paused 60
reason=$(fl_port 2-1 .reason)
[[ $reason == *"the results journal cannot be written"* ]] || fail "2-1 reason: $reason"
sleep 3
expect_eq "board 1 SDP uploads while held" "$(fl_uploads 1)" 0
expect_eq "status journal backlog" "$(fl_status | jq .journal.backlog)" 1

# space again: the record lands (once), the alarm clears, board 1 is flashed
rm -f "$jfs/filler"
t0=$SECONDS
fl_wait_result 1-1 ok 60
note "board 0's record in the journal $((SECONDS - t0)) s after the space came back"
fl_until 30 0.3 grep -q '"event":"durable"' "$watch" || fail "no durable event"
dur=$(fl_wevents "$watch" '.event == "durable"')
expect_eq "durable events" "$(grep -c . <<<"$dur")" 1
expect_eq "durable record = journal" "$(jq -cS 'del(.event, .seq, .ts, .durable)' <<<"$dur")" \
	"$(jq -cS . <<<"$FL_REC")"
fl_wait_result 2-1 ok 240
expect_eq "journal records" "$(fl_records | wc -l)" 2
expect_eq "journal ports in order" "$(fl_records | jq -r .port | tr '\n' ' ')" "1-1 2-1 "
res=$(fl_wevents "$watch" '.event == "result" and .port == "2-1"')
expect_eq "board 1 durable" "$(fl_json_get "$res" .durable)" true
last=$(fl_wevents "$watch" '.event == "journal"' | tail -n 1)
expect_eq "alarm cleared" "$(fl_json_get "$last" '[.journal.writable, .journal.backlog] | @tsv')" \
	"$(printf 'true\t0')"
expect_eq "board 1 SDP uploads" "$(fl_uploads 1)" 1
fl_ctl status
fl_ctl history
grep -E "results journal|journal .*cut back" "$FL_LOG" | tail -n 5 >&2 || true
fl_stop
note "flashd-journal-full: ok"
