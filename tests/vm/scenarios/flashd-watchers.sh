#!/usr/bin/env bash
# flashd-watchers: a watcher that never reads does not slow flashing, and flashd's
# memory stays bounded. Four boards are flashed twice: first with two `flashctl watch
# --json` clients reading, then again with a third client that subscribed and then
# stopped reading (a flashctl watch frozen with SIGSTOP: its socket stays open and
# nothing is read). The guest's socket send buffers (net.core.wmem_default 8K) and
# flashd's client queue (16K) are small, so the stalled client really fills its queue
# (asserted: flashd logs the overflow for its pid). Prints both flashing times
# (asserts only a generous bound: the second at most 3x the first plus 30 s) and
# flashd's peak RSS (VmHWM, asserted below 64 MiB plus the size of the plan's images,
# which flashd maps); the reading watchers see every event (no seq gap, no overflow)
# and all eight results; every eMMC is byte for byte expected-emmc.img.
# vm-boards: 4
# vm-timeout: 700
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
# bootloop-guard 0: the same boards come back in their ROM for the second round
sysctl -qw net.core.wmem_default=8192
fl_conf client-queue=16K bootloop-guard=0s settle=1s
fl_start
fl_watch "$OUT/watch1.ndjson"
fl_watch "$OUT/watch2.ndjson"

# round N: flash the four boards; ROUND_MS = how long it took (not a subshell: the
# boards' pids must stay known)
round() {
	local n=$1 k t0
	t0=${EPOCHREALTIME/./}
	for k in 0 1 2 3; do
		fl_board "$k"
	done
	for k in 0 1 2 3; do
		fl_wait_result "$(usb_port "$k")" ok 400 "$n"
	done
	ROUND_MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
}

# unplug all boards and wait for flashd to see every port empty
unplug_all() {
	local k
	for k in 0 1 2 3; do
		stop_board "$k"
	done
	for k in 0 1 2 3; do
		fl_wait_state "$(usb_port "$k")" empty 30
	done
}

check_emmcs() {
	local k
	for k in 0 1 2 3; do
		fl_expect_emmc "$k"
	done
}

round 1
ms1=$ROUND_MS
note "round 1 (two reading watchers): ${ms1} ms"
check_emmcs
unplug_all
rm -f "$VM_TMP"/emmc?.img # blank boards again

fl_watch "$OUT/stalled.ndjson"
stalled=$FL_LAST_BG
kill -STOP "$stalled"
note "stalled watcher: pid $stalled (stopped)"
round 2
ms2=$ROUND_MS
note "round 2 (plus a watcher that never reads): ${ms2} ms"
check_emmcs
kill -CONT "$stalled" 2>/dev/null || true

hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$FL_PID/status")
images=0
for f in $(fl_plan_args "$FL_PLANS/full.lst" | sort -u); do
	images=$((images + $(stat -c %s "$f")))
done
grep -E '^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem):' "/proc/$FL_PID/status" >&2
note "flashd VmHWM $((hwm / 1024)) MiB (plan images: $((images >> 20)) MiB mapped)"
printf 'flashd-watchers: round 1 %d ms, round 2 (stalled watcher) %d ms, VmHWM %d KiB\n' \
	"$ms1" "$ms2" "$hwm" | tee "$OUT/figures.txt" >&2
((ms2 <= 3 * ms1 + 30000)) || fail "a stalled watcher slowed flashing: $ms1 ms -> $ms2 ms"
((hwm * 1024 < (64 << 20) + images)) || fail "flashd VmHWM $hwm KiB"

# the reading watchers missed nothing
sleep 1
for w in watch1 watch2; do
	f=$OUT/$w.ndjson
	expect_eq "$w: seq gaps" "$(fl_seq_gaps "$f")" 0
	expect_eq "$w: overflows" "$(fl_wevents "$f" '.event == "overflow"' | wc -l)" 0
	expect_eq "$w: ok results" "$(fl_wevents "$f" '.event == "result" and .result == "ok"' | wc -l)" 8
done
grep -F "client pid $stalled uid 0: output queue full" "$FL_LOG" >&2 ||
	fail "the stalled watcher (pid $stalled) never overflowed: the test did not test it"
fl_ctl stats --json >&2
fl_alive
fl_stop
note "flashd-watchers: ok"
