#!/usr/bin/env bash
# flashd-soak: `make soak` (issue 11, "Soak"; not in CI). SOAK_BOARDS boards (default
# 1,000) go through the guest's ports (8 unless --boards says otherwise; the bench
# part scale runs it on 32 with no faults, issue 15 "Scale"), each board a fresh flashd-emu on a small eMMC
# running the seed plan (rootfs of SOAK_ROOTFS_MIB, default 2 MiB). SOAK_FAULT_PCT
# percent of them (default 5) get a fault, picked in turn: FAIL to the first flash
# command (--fault-fail), a bad SDP status (--fault-bad-status), no fastboot device
# after the jump (--fault-no-reenum), or an unplug at a random moment of the flash.
# Checks, per board: exactly one record; a board without a fault is "ok" with its eMMC
# byte for byte expected-emmc.img; a faulted board is "failed" (an unplugged one may
# also have finished: then "ok" and its eMMC checked). Every SOAK_SAMPLE_S seconds
# (default 20) `flashctl stats` gives flashd's resident set, descriptors and loop
# events, and /proc its CPU time; at the end (all ports empty) descriptors and loop events must equal the idle
# figures at the start, and RSS, descriptors and loop events from board 100 to the end
# are printed (OUT/soak.csv, OUT/soak.md) for docs/reliability.md, with flashd's CPU
# per board and its peak RSS over the idle one per port. With
# SOAK_EXPECT_ASAN=1 (flashd built with -fsanitize=address, `make soak-asan`) flashd's
# log must hold no AddressSanitizer or LeakSanitizer report after it stopped.
# vm-boards: 8
# vm-timeout: 14400
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

total=${SOAK_BOARDS:-1000}
pct=${SOAK_FAULT_PCT:-5}
sample_s=${SOAK_SAMPLE_S:-20}
FL_ROOTFS_MIB=${SOAK_ROOTFS_MIB:-2}
FL_EMMC_SIZE=$((16 << 20))
FL_SEED_BUILT=${SOAK_SEED:-$BUILDDIR/tests/vm/soak-seed}

fl_need
fl_seed
fl_conf settle=1s reenum-timeout=8s bootloop-guard=5s
fl_start
counter=$VM_TMP/soak.next
echo 1 >"$counter"
: >"$OUT/soak.boards"

stats_line() { # BOARDS-DONE: one CSV line of flashd's own figures and its CPU ticks
	local s cpu
	s=$(fl_ctl stats --json) || return 0
	cpu=$(cpu_ticks "$FL_PID")
	printf '%s,%s,%s\n' "$1" "$(jq -r '.process | [.rss_kib, .fds, .loop_events] | join(",")' <<<"$s")" "$cpu"
}
done_count() { wc -l <"$OUT/soak.boards"; }

# the next board number (flock: eight workers share the counter); empty when done
claim() {
	local n
	exec {lk}<>"$counter.lock"
	flock "$lk"
	n=$(<"$counter")
	echo $((n + 1)) >"$counter"
	exec {lk}>&-
	((n <= total)) && echo "$n"
}

# fault N: the fault board N gets ("" for none)
fault() {
	local n=$1
	((n * 7919 % 100 < pct)) || return 0
	case $((n % 4)) in
	0) echo fail ;;
	1) echo bad-status ;;
	2) echo no-reenum ;;
	3) echo unplug ;;
	esac
}

# worker K: boards on port K until the counter runs out
worker() {
	local k=$1 port n f rec opts res seen=0
	port=$(usb_port "$k")
	while [[ ! -e $VM_TMP/soak.stop ]] && n=$(claim); do
		f=$(fault "$n")
		opts=()
		case $f in
		fail) opts=(--fault-fail 'flash:*') ;;
		bad-status) opts=(--fault-bad-status) ;;
		no-reenum) opts=(--fault-no-reenum) ;;
		esac
		seen=$((seen + 1))
		fl_board "$k" "${opts[@]}"
		if [[ $f == unplug ]]; then
			fl_sleep "$((n % 7 + 2)).$((n % 10))"
			stop_board "$k"
		fi
		FL_LENIENT=1 fl_wait_any "$port" "$seen" 300
		res=$FL_RES
		case $f,$res in
		,ok | unplug,ok)
			cmp -s "$(board_emmc "$k")" "$FL_EXPECTED" ||
				fail "board $n (port $port): ok but its eMMC differs from expected-emmc.img"
			;;
		?*,failed | unplug,failed) ;;
		*) fail "board $n (port $port, fault '${f:-none}'): result $res" ;;
		esac
		stop_board "$k"
		# done -> empty takes the settle time once the board left; with 32 ports
		# polling flashctl at once on the bed's two vCPUs 30 s were too short twice
		# (make bench's scale part, the port empty in the message that failed it)
		fl_wait_state "$port" empty 120
		echo "$n $port ${f:-none} $res" >>"$OUT/soak.boards"
	done
}

# fl_wait_any PORT N TIMEOUT: wait for PORT's N-th record; FL_RES its result
fl_wait_any() {
	local end=$((SECONDS + $3))
	while :; do
		fl_scan "$1" ''
		((FL_N < $2)) || break
		((SECONDS < end)) || fail "port $1: no record #$2 after $3 s"
		fl_sleep 1
	done
	FL_RES=$(fl_records ".port == \"$1\"" | sed -n "$2p" | jq -r .result)
}

idle=$(stats_line 0)
echo "boards,rss_kib,fds,loop_events,cpu_ticks" >"$OUT/soak.csv"
echo "$idle" >>"$OUT/soak.csv"
pids=()
for ((k = 0; k < NBOARDS; k++)); do
	{ worker "$k" || { touch "$VM_TMP/soak.stop"; exit 1; }; } &
	pids+=($!)
done
last=0
while :; do
	running=0
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null && running=1
	done
	((running)) || break
	fl_sleep "$sample_s"
	d=$(done_count)
	stats_line "$d" >>"$OUT/soak.csv"
	if ((d / 100 > last / 100)); then
		note "soak: $d of $total boards"
	fi
	last=$d
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a soak worker failed (see above)"
done
fl_sleep 10 # the ports' boot-loop guards (5 s) run out
end=$(stats_line "$(done_count)")
echo "$end" >>"$OUT/soak.csv"
expect_eq "boards done" "$(done_count)" "$total"
expect_eq "journal records" "$(wc -l <"$FL_JOURNAL")" "$total"
expect_eq "idle descriptors, start and end" "$(cut -d, -f3 <<<"$end")" "$(cut -d, -f3 <<<"$idle")"
expect_eq "idle loop events, start and end" "$(cut -d, -f4 <<<"$end")" "$(cut -d, -f4 <<<"$idle")"
faults=$(awk '$3 != "none"' "$OUT/soak.boards" | wc -l)
ok=$(awk '$4 == "ok"' "$OUT/soak.boards" | wc -l)
# from board 100 on: min and max of each figure
awk -F, -v total="$total" -v faults="$faults" -v ok="$ok" -v idle="$idle" -v end="$end" \
	-v ports="$NBOARDS" -v hz="$(getconf CLK_TCK)" '
NR > 1 && $2 > peak { peak = $2 }
NR > 1 && $1 >= 100 {
	for (i = 2; i <= 4; i++) {
		if (!(i in lo) || $i < lo[i]) lo[i] = $i
		if (!(i in hi) || $i > hi[i]) hi[i] = $i
	}
	n++
}
END {
	printf "| ports | boards | faults | ok | samples from board 100 | RSS KiB min-max | descriptors min-max | loop events min-max | idle at start (RSS, fds, events) | idle at end | flashd CPU ms per board | peak RSS over idle, KiB per port |\n"
	printf "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
	split(idle, a, ","); split(end, b, ",")
	for (i = 2; i <= 4; i++)   # no sample from board 100 on (a short run): "-"
		r[i] = n ? lo[i] "-" hi[i] : "-"
	printf "| %d | %d | %d | %d | %d | %s | %s | %s | %d, %d, %d | %d, %d, %d | %.1f | %.1f |\n", ports, total, faults, ok, n,
		r[2], r[3], r[4], a[2], a[3], a[4], b[2], b[3], b[4],
		(b[5] - a[5]) * 1000 / hz / total, (peak - a[2]) / ports
}' "$OUT/soak.csv" | tee "$OUT/soak.md"
fl_stop || true
if [[ ${SOAK_EXPECT_ASAN:-0} == 1 ]] && grep -E "ERROR: (AddressSanitizer|LeakSanitizer)" "$FL_LOG"; then
	fail "flashd: sanitizer report (see $FL_LOG)"
fi
note "flashd-soak: ok"
