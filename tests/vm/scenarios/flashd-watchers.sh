#!/usr/bin/env bash
# flashd-watchers: a watcher that never reads does not break flashing, flashd's
# memory stays bounded, and a result hook (flashd-hook) handles every record exactly
# once across restarts of the hook and of flashd. Four boards are flashed twice:
# first with two `flashctl watch --json` clients reading, then again with a third
# client that subscribed and then stopped reading (a flashctl watch frozen with
# SIGSTOP: its socket stays open and nothing is read). The guest's socket send
# buffers (net.core.wmem_default 8K) and flashd's client queue (16K) are small, so
# the stalled client really fills its queue (asserted: flashd logs the overflow for
# its pid). Prints both flashing times (figures only: `make bench`'s clients part
# measures the cost of watchers) and flashd's peak RSS (VmHWM, asserted below 64 MiB
# plus the size of the plan's images); the reading watchers see every event (no seq
# gap, no overflow) and all eight results; every eMMC is byte for byte
# expected-emmc.img. flashd-hook runs during round 1, is stopped for round 2, and is
# started again while flashd is stopped; once flashd is back it must have run its
# command once for each of the eight records, in journal order, with the record on
# stdin and FLASHD_LINE its journal line.
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

# the hook's command: one line per record, from its environment and its stdin
hook_out=$OUT/hook.out
cat >"$VM_TMP/hook-cmd" <<'EOF'
#!/usr/bin/env bash
rec=$(cat)
printf '%s %s %s %s\n' "$FLASHD_LINE" "$FLASHD_PORT" "$FLASHD_RESULT" "$(jq -r .uid <<<"$rec")" \
	>>"$HOOK_OUT"
EOF
chmod +x "$VM_TMP/hook-cmd"
HOOK_PID=''
hook_start() {
	HOOK_OUT=$hook_out "$BUILDDIR/flashd-hook" --socket "$FL_SOCK" \
		--cursor "$VM_TMP/hook.cursor" -- "$VM_TMP/hook-cmd" 2>>"$OUT/hook.log" &
	HOOK_PID=$!
	FL_BG_PIDS+=("$HOOK_PID")
}
hook_stop() {
	kill -TERM "$HOOK_PID"
	wait "$HOOK_PID" || fail "flashd-hook exited $? on SIGTERM: $(tail -n 3 "$OUT/hook.log")"
}
hook_lines() {
	if [[ -e $hook_out ]]; then wc -l <"$hook_out"; else echo 0; fi
}
hook_has() {
	(($(hook_lines) >= $1))
}
hook_start
fl_until 20 0.1 test -s "$VM_TMP/hook.cursor" || fail "flashd-hook did not start: $(cat "$OUT/hook.log")"

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
fl_until 30 0.1 hook_has 4 || fail "flashd-hook ran $(hook_lines) commands for 4 records"
hook_stop # round 2's records come while no hook runs
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

# the hook again, started while flashd is down: it waits, then handles round 2
fl_stop
hook_start
fl_start
fl_until 60 0.2 hook_has 8 || fail "flashd-hook ran $(hook_lines) commands for 8 records"
sleep 1 # a ninth run would be a record handled twice
hook_stop
expect_eq "hook: each record once, in journal order" "$(cat "$hook_out")" \
	"$(jq -rR 'input_line_number as $n | fromjson? | "\($n) \(.port) \(.result) \(.uid)"' "$FL_JOURNAL")"
fl_stop
note "flashd-watchers: ok"
