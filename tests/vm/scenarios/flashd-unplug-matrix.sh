#!/usr/bin/env bash
# flashd-unplug-matrix: the unplug matrix of docs/reliability.md (issue 11). The seed
# plan (conf/plans/full.lst on mkseed images, a small rootfs sent as several sparse
# pieces) and its SPL variant (SDP: boot of an SPL, SDPV: write -skipspl, SDPV: jump,
# then fastboot) run on boards that lose power (flashd-emu --unplug-at) just before,
# in the middle of, or just after each thing the board does: every ROM SDP command,
# every re-enumeration, every SPL SDP command, every fastboot command (each download
# and flash of each sparse piece among them). The cells are read off a baseline run
# of each plan (the board logs' commands), so the matrix covers whatever flashd sends.
# Each cell: the port's record is FAILED at the step that was running, with a reason
# (or "ok" when the cut comes at the final reboot); once flashd saw it leave and the
# port is empty again, a fresh blank board is plugged in there and is flashed "ok", its
# eMMC byte for byte the expected image. Eleven ports run cells at once; port 1-1 flashes
# fault-free boards all along, each "ok" at once and byte for byte. The table is
# $OUT/unplug-matrix.md (docs/reliability.md "## unplug matrix" is a copy).
# MX_ONLY=REGEX (--env) runs only the cells whose id matches.
# vm-boards: 12
# vm-timeout: 2400
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"
# shellcheck source=tests/vm/matrix-lib.sh
. "$SRCDIR/tests/vm/matrix-lib.sh"

fl_need
((NBOARDS >= 2)) || fail "needs at least 2 ports"
# a small seed: 8 MiB rootfs, 1 MiB max-download-size (several sparse pieces)
FL_SEED=$VM_TMP/mseed
FL_EMMC_SIZE=$((32 << 20))
FL_MAXDL=0x100000
"$SRCDIR/tests/data/mkseed" "$FL_SEED" --rootfs-mib 8 --emmc-size "$FL_EMMC_SIZE" >&2
FL_EXPECTED=$FL_SEED/expected-emmc.img
# no known failures: a board that vanishes right after the host configured it can be
# seen by udev without its interfaces ("other"); flashd now waits on (port.c) and the
# cell records "no fastboot device" like its neighbours (docs/reliability.md finding 1)
MX_KNOWN=""
# every cut board stays off (--replug-after 0; the emulator would come back after 2 s):
# the scenario plugs in the fresh board once flashd has the port empty (THEN restart)
MX_TIMEOUT=240 # flashd's own timeouts are <= 15 s: longer is a hang, even on a loaded host

# the SPL variant: an SPL stage, then the same fastboot steps
make_spl_flash "$FL_SEED/SPL" "$FL_SEED/u-boot.img" "$FL_SEED/flash.bin" $((0x10C00)) 0x17800000 \
	$((300 * 1024 + 7))
full_plan=$(fl_plan_copy "$FL_PLANS/full.lst")
spl_plan=$FL_SEED/spl.lst
{
	echo "uuu_version 1.4.0"
	echo "SDP: boot -f flash.bin"
	echo "SDPV: write -f flash.bin -skipspl"
	echo "SDPV: jump"
	grep '^FB:' "$full_plan"
} >"$spl_plan"
"$FL_FLASHD" --check-plan "$spl_plan" >"$OUT/check-spl.txt" 2>&1 ||
	fail "the SPL plan does not load: $(tail -n 3 "$OUT/check-spl.txt")"

touch "$FL_JOURNAL"
fl_conf plan="$full_plan" plan-args= settle=1s bootloop-guard=0s reenum-timeout=10s
fl_start

baseline() { # K LOGNAME: one fault-free board; FL_REC = its record
	local k=$1 port
	port=$(usb_port "$k")
	MX_LOGNAME=$2
	mx_start "$k"
	fl_wait_result "$port" ok 240 $(($(fl_count "$port" ok) + 1))
	cmp "$(board_emmc "$k")" "$FL_EXPECTED" >&2 || fail "baseline $2: eMMC differs"
	stop_board "$k"
	fl_wait_state "$port" empty 30
}

# step_text REGEX: the first of STEPS (a baseline record's step texts) matching REGEX
STEPS=()
step_text() {
	local t
	for t in "${STEPS[@]}"; do
		[[ $t =~ $1 ]] && echo "$t" && return
	done
	echo "?"
}

# lines ARRAY TEXT: ARRAY = the lines of TEXT (none when TEXT is empty)
lines() {
	local -n arr=$1 # a nameref: the caller's array
	arr=()
	# shellcheck disable=SC2034 # (the nameref is set for the caller)
	[[ -z $2 ]] || mapfile -t arr <<<"$2"
}

# queue_cells KIND REC LOG: the cells of one plan, read off its baseline board's log
queue_cells() {
	local kind=$1 rec=$2 log=$3 i n cmd when exp next sdp_step fb_first spl_first
	local -a rom=() spl=() fb=()
	# (no process substitution: the guest has no /dev/fd)
	lines rom "$(jq -r 'select(.ev == "sdp") | .cmd' "$log")"
	lines spl "$(jq -r 'select(.ev == "spl-sdp") | .cmd' "$log")"
	lines fb "$(jq -r 'select(.ev == "fb-cmd") | .cmd' "$log")"
	lines STEPS "$(jq -r '.steps[].text' <<<"$rec")"
	n=$(jq -r 'select(.ev == "phase" and .phase == "reenum") | .phase' "$log" | wc -l)
	sdp_step=$(step_text '^SDP:')
	fb_first=$(step_text '^FB:')
	spl_first=$(step_text '^SDP[UV]:')
	note "$kind: ROM ${#rom[@]} commands (${rom[*]}), SPL ${#spl[@]} (${spl[*]}), fastboot ${#fb[@]}, re-enumerations $n"
	# fastboot command -> the plan step that sends it
	fb_step() {
		local j=$1 c
		for ((; j < ${#fb[@]}; j++)); do
			c=${fb[$j]}
			case $c in
			getvar:max-download-size) echo fastboot && return ;; # flashd's own, before step 1
			getvar:*) step_text "^FB: getvar ${c#getvar:}" && return ;;
			flash:*) step_text "^FB: flash (-[a-z0-9]+ )*${c#flash:} " && return ;;
			reboot) step_text '^FB: reboot' && return ;;
			download:*) ;;
			*) echo "?" && return ;;
			esac
		done
		echo ok
	}
	spl_step() {
		local j=$1
		((j < ${#spl[@]})) || { echo wait-reenum; return; }
		case ${spl[$j]} in
		JUMP_ADDRESS) echo "$(step_text '^SDP[UV]: jump') or wait-reenum" ;;
		*) step_text '^SDP[UV]: write' ;;
		esac
	}
	for when in before middle after; do
		for ((i = 0; i < ${#rom[@]}; i++)); do
			exp=$sdp_step
			# the jump is the last command: a board that leaves then looks like one
			# that jumped (the ROM need not answer it; uuu does not wait either)
			if [[ ${rom[$i]} == JUMP_ADDRESS ]]; then
				exp="$sdp_step or wait-reenum"
				[[ $when == after ]] && exp="wait-reenum~no .* device on the port"
			elif [[ $when == after && ${rom[$((i + 1))]:-} == JUMP_ADDRESS ]]; then
				# gone right after the last write's reply: the jump's report may
				# still be taken by the vanishing gadget, as "before" the jump
				# (seen once in CI, spl-rom1-after, 2026-12-07)
				exp="$sdp_step or wait-reenum"
			fi
			MX_CELLS+=("$kind-rom$((i + 1))-$when|--unplug-at $when:rom:$((i + 1)) --replug-after 0|failed:$exp|restart|$when ROM ${rom[$i]} ($((i + 1))/${#rom[@]})")
		done
		for ((i = 1; i <= n; i++)); do
			# gone while off the bus or enumerating: flashd waits in wait-reenum;
			# once configured the next stage's session may have started
			exp="wait-reenum~no .* device on the port or disconnect"
			if [[ $when == after ]]; then
				# configured, then gone: flashd may have taken the next stage's device
				# (its state is the failed step until a plan step began) or begun
				next="fastboot or $fb_first"
				[[ $kind == spl && $i == 1 ]] && next="spl-sdp or $spl_first"
				exp="wait-reenum or $next~no .* device on the port or disconnect"
			fi
			MX_CELLS+=("$kind-reenum$i-$when|--unplug-at $when:reenum:$i --replug-after 0|failed:$exp|restart|$when re-enumeration $i/$n")
		done
		for ((i = 0; i < ${#spl[@]}; i++)); do
			exp=$(spl_step "$i")
			[[ $when == after ]] && exp=$(spl_step $((i + 1)))
			MX_CELLS+=("$kind-spl$((i + 1))-$when|--unplug-at $when:spl:$((i + 1)) --replug-after 0|failed:$exp|restart|$when SPL ${spl[$i]} ($((i + 1))/${#spl[@]})")
		done
		[[ $kind == seed ]] || continue # the SPL variant's fastboot part is the seed's
		for ((i = 0; i < ${#fb[@]}; i++)); do
			cmd=${fb[$i]}
			if [[ $when == after ]]; then next=$(fb_step $((i + 1))); else next=$(fb_step "$i"); fi
			if [[ $next == ok ]]; then exp=ok; else exp=failed:$next; fi
			# the board goes away instead of answering "reboot" (or before it is
			# sent): flashd counts it as rebooted, every write was acknowledged
			[[ $exp == "failed:$(step_text '^FB: reboot')" ]] && exp=ok
			MX_CELLS+=("$kind-fb$((i + 1))-$when|--unplug-at $when:fb:$((i + 1)) --replug-after 0|$exp|restart|$when fastboot $cmd ($((i + 1))/${#fb[@]})")
		done
	done
}

fl_watch "$OUT/watch.ndjson"
baseline 0 baseline-seed
queue_cells seed "$FL_REC" "$OUT/baseline-seed.jsonl"
fl_ctl use "$spl_plan" >/dev/null || fail "use $spl_plan refused"
baseline 0 baseline-spl
queue_cells spl "$FL_REC" "$OUT/baseline-spl.jsonl"

if [[ -n ${MX_ONLY:-} ]]; then
	sel=()
	for c in "${MX_CELLS[@]}"; do [[ ${c%%|*} =~ $MX_ONLY ]] && sel+=("$c"); done
	MX_CELLS=("${sel[@]}")
fi
note "${#MX_CELLS[@]} cells"

# the SPL cells first (their plan is in use), then the seed plan's
spl_cells=() seed_cells=()
for c in "${MX_CELLS[@]}"; do
	if [[ $c == spl-* ]]; then spl_cells+=("$c"); else seed_cells+=("$c"); fi
done
MX_CELLS=("${spl_cells[@]}")
mx_run
fl_ctl use "$full_plan" >/dev/null || fail "use $full_plan refused"
MX_CELLS=("${seed_cells[@]}")
mx_run

mx_table >"$OUT/unplug-matrix.md"
cat "$OUT/unplug-matrix.md"
((MX_WITNESS_BAD == 0)) || fail "$MX_WITNESS_BAD witness board(s) disturbed"
((MX_WITNESS_OK > 0)) || fail "no witness board ran"
((MX_FAILED == 0)) || fail "$MX_FAILED cell(s) failed (table: $OUT/unplug-matrix.md)"
fl_stop
note "flashd-unplug-matrix: ok"
