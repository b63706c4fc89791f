#!/usr/bin/env bash
# flashd-restore: a board that is already running the fastboot U-Boot when it appears
# (flashd-emu --start fastboot, a restore) on an idle port runs only the plan's
# fastboot steps: the emulator never sees an SDP command, flashd's watch stream shows
# the port going straight to "fastboot" with no progress for the SDP step, the result
# is "ok" and the eMMC is byte for byte expected-emmc.img.
# vm-boards: 1
# vm-timeout: 300
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
fl_conf
fl_start
watch=$OUT/watch.ndjson
fl_watch "$watch"

fl_board 0 --start fastboot
fl_wait_result 1-1 ok 240
rec=$FL_REC
wait_event "$(board_log 0)" boot '.result == "booted"' 30 >/dev/null ||
	fail "the board did not boot what was flashed"
fl_expect_emmc 0

expect_eq "SDP commands seen by the board" "$(count_events "$(board_log 0)" sdp)" 0
expect_eq "SDP uploads" "$(fl_uploads 0)" 0
steps=$(fl_json_get "$rec" '[.steps[].index] | map(tostring) | join(" ")')
note "steps run: $steps"
[[ " $steps " != *" 0 "* ]] || fail "the journal lists the SDP step (0) as run: $steps"
[[ -n $steps ]] || fail "the journal lists no step"
sleep 1 # the watcher's last lines
states=$(fl_wevents "$watch" '.event == "port" and .port == "1-1"' | jq -r .state | uniq | tr '\n' ' ')
note "states seen: $states"
[[ $states == "fastboot done "* ]] || fail "watch: states '$states', want fastboot then done"
sdp_progress=$(fl_wevents "$watch" '.event == "progress" and .step_index == 0' | wc -l)
expect_eq "progress events of the SDP step" "$sdp_progress" 0
fl_stop
note "flashd-restore: ok"
