#!/usr/bin/env bash
# flashd-seed: the seed flow on one blank board, end to end. flashd (root, the example
# plan conf/plans/full.lst with the mkseed images) sees the boot ROM on port 1-1,
# uploads the fastboot U-Boot over SDP, follows the board's re-enumeration as a
# fastboot device, writes the MBR, U-Boot at 0x400, a zeroed environment and the
# rootfs (raw, sent as several sparse pieces: the board's max-download-size is
# smaller than the image's data) and reboots it; the board then boots what was
# flashed. Checks: the eMMC is byte for byte expected-emmc.img; the journal has exactly
# one record for 1-1, "ok", with the plan's SHA-256 and the images' hashes; a
# `flashctl watch --json` started before the board saw the port go through every
# state, a progress event for every step, and the result.
# vm-boards: 1
# vm-timeout: 400
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
plan=$FL_PLANS/full.lst
fl_conf
fl_start
watch=$OUT/watch.ndjson
fl_watch "$watch"

fl_board 0
fl_wait_result 1-1 ok 300
rec=$FL_REC
note "result: $(fl_json_get "$rec" '[.result, .bytes, (.end_ms - .start_ms)] | @tsv') ms"
wait_event "$(board_log 0)" boot '.result == "booted"' 30 >/dev/null ||
	fail "the board did not boot what was flashed"
fl_expect_emmc 0

# the journal: one record, ok, the plan's and the images' hashes
expect_eq "journal records" "$(fl_records | wc -l)" 1
expect_eq "record port, plan, plan_sha256" \
	"$(fl_json_get "$rec" '[.port, .plan, .plan_sha256] | join(" ")')" \
	"1-1 $plan $(sha256sum "$plan" | cut -d' ' -f1)"
# shellcheck disable=SC2046 # one argument per image path (no blanks in them)
want=$(sha256sum $(fl_plan_args "$plan") | awk '{ print $2, $1 }' | sort -u)
expect_eq "record images" "$(fl_json_get "$rec" '.images[] | "\(.path) \(.sha256)"' | sort -u)" "$want"

# the rootfs went as several sparse pieces, none above max-download-size
pieces=$(count_events "$(board_log 0)" fb-cmd '.cmd == "flash:rootfs"')
((pieces >= 2)) || fail "rootfs flashed in $pieces piece(s), want several"
big=$(count_events "$(board_log 0)" download ".size > $((FL_MAXDL))")
expect_eq "downloads above max-download-size" "$big" 0
expect_eq "SDP uploads" "$(fl_uploads 0)" 1

# the watcher saw every state, every step and the result
fl_ctl status
fl_ctl history
sleep 1 # the watcher's last lines
expect_eq "watch: snapshot events" "$(fl_wevents "$watch" '.event == "snapshot"' | wc -l)" 1
states=$(fl_wevents "$watch" '.event == "port" and .port == "1-1"' | jq -r .state | uniq | tr '\n' ' ')
note "states seen: $states"
[[ $states == *"sdp wait-reenum fastboot done "* ]] ||
	fail "watch: port 1-1 states '$states', want sdp wait-reenum fastboot done in order"
steps=$(fl_plan_steps "$plan")
seen=$(fl_wevents "$watch" '.event == "progress" and .port == "1-1"' | jq -r .step_index | sort -nu |
	tr '\n' ' ')
note "plan steps: $steps; progress seen for steps: $seen"
for ((i = 0; i < steps - 1; i++)); do # every step but the final "done"
	[[ " $seen" == *" $i "* ]] || fail "watch: no progress event for step $i (seen: $seen)"
done
rootfs_progress=$(fl_wevents "$watch" \
	".event == \"progress\" and .port == \"1-1\" and (.step | test(\"rootfs\")) and .bytes > 0" |
	wc -l)
((rootfs_progress >= 1)) || fail "watch: no progress with bytes during the rootfs"
wres=$(fl_wevents "$watch" '.event == "result" and .port == "1-1"')
expect_eq "watch: result events" "$(grep -c . <<<"$wres")" 1
expect_eq "watch: result" "$(fl_json_get "$wres" .result)" ok
# (journal_ms is the event's own: how long the append + fdatasync took)
expect_eq "watch: result's journal_ms" "$(jq -r '.journal_ms | type' <<<"$wres")" number
expect_eq "watch: result = journal" "$(jq -cS 'del(.event, .seq, .ts, .durable, .journal_ms)' <<<"$wres")" \
	"$(jq -cS . <<<"$rec")"
# seq numbers have no gap (nobody overflowed)
expect_eq "watch: seq gaps" "$(fl_seq_gaps "$watch")" 0
fl_stop
note "flashd-seed: ok"
