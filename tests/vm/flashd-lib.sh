# shellcheck shell=bash
# tests/vm/flashd-lib.sh: helpers for the flashd end-to-end scenarios
# (tests/vm/scenarios/flashd-*.sh) and tests/vm/demo.sh. Source it right after lib.sh:
#   . "$VM_LIB"
#   . "$SRCDIR/tests/vm/flashd-lib.sh"
# flashd runs as root in the guest with its configuration, socket and journal in
# $VM_TMP; its log (stderr, --log-level debug) is $OUT/flashd.log and the journal is
# copied to $OUT/results.jsonl at exit, so both are kept when a scenario fails.
#
# Seed images (tests/data/mkseed): `make check-vm` makes them once on the host in
# BUILDDIR/tests/vm/seed (tests/vm/vm.am); without them each scenario runs mkseed in the
# guest, which is slow under TCG. Boards run with a small eMMC and a max-download-size
# below the rootfs' data, so the raw->sparse rootfs is sent in several pieces.
#
# Process creation is expensive in the TCG guest and competes with the boards for the
# two vCPUs: the polling loops here sleep without forking (fl_sleep) and read the
# journal with bash alone; jq runs only once something is there to look at.

FL_FLASHD=$BUILDDIR/flashd
FL_FLASHCTL=$BUILDDIR/flashctl
FL_SOCK=$VM_TMP/run/flashd.sock
FL_CONF=$VM_TMP/flashd.conf
FL_JOURNAL=$VM_TMP/results.jsonl
FL_LOG=$OUT/flashd.log
FL_SEED=$VM_TMP/seed
FL_PLANS=$SRCDIR/conf/plans
# must match the seed rule in tests/vm/vm.am
FL_EMMC_SIZE=$((128 << 20))
FL_ROOTFS_MIB=32
FL_SEED_BUILT=${FLASHD_SEED_DIR:-$BUILDDIR/tests/vm/seed}
FL_EXPECTED=$FL_SEED/expected-emmc.img
FL_MAXDL=0x400000
# extra flashd-emu options for every board
FL_EMU_OPTS=()
FL_PID=''
FL_BG_PIDS=()
FL_LAST_BG=''
declare -A FL_MARK=()
FL_REC='' # the record the last fl_wait_result waited for

# fl_sleep SECONDS: sleep without a process (read with a timeout on a FIFO that
# never gets data)
mkfifo "$VM_TMP/.fl-sleep"
exec {FL_SLEEP_FD}<>"$VM_TMP/.fl-sleep"
fl_sleep() {
	read -r -t "$1" -u "$FL_SLEEP_FD" _ || true
}

# fl_until TIMEOUT INTERVAL CMD...: run CMD every INTERVAL seconds until it succeeds;
# status 1 on timeout
fl_until() {
	local end=$((SECONDS + $1)) iv=$2
	shift 2
	until "$@"; do
		((SECONDS < end)) || return 1
		fl_sleep "$iv"
	done
}

# fl_on_exit: stop what the scenario left running, keep the journal
fl_on_exit() {
	local p
	for p in "${FL_BG_PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null || true
		kill -TERM "$p" 2>/dev/null || true
	done
	fl_stop >/dev/null 2>&1 || true
	[[ ! -e $FL_JOURNAL ]] || cp "$FL_JOURNAL" "$OUT/results.jsonl" 2>/dev/null || true
}
trap 'fl_on_exit; vm_on_exit' EXIT

# fl_need: fail unless the programs the scenarios use are there
fl_need() {
	[[ -x $FL_FLASHD ]] || fail "flashd is not built ($FL_FLASHD)"
	[[ -x $FL_FLASHCTL ]] || fail "flashctl is not built ($FL_FLASHCTL)"
	need_emu
	command -v jq >/dev/null || fail "jq is not installed (tests/deps)"
}

# fl_seed: the seed-flow images in $FL_SEED and FL_EXPECTED, the expected eMMC:
# copied from the host-built set when it was made with our parameters, else made here
fl_seed() {
	local f want
	[[ ! -e $FL_SEED/rootfs.ext4 ]] || return 0
	want="rootfs-mib=$FL_ROOTFS_MIB emmc-size=$FL_EMMC_SIZE"
	mkdir -p "$FL_SEED"
	if [[ -r $FL_SEED_BUILT/params && $(<"$FL_SEED_BUILT/params") == "$want" ]]; then
		for f in uboot-fastboot.imx mbr.bin u-boot.imx env-zero.bin rootfs.ext4; do
			cp "$FL_SEED_BUILT/$f" "$FL_SEED/$f"
		done
		FL_EXPECTED=$FL_SEED_BUILT/expected-emmc.img # read in place (it is 128 MiB)
		note "seed images from $FL_SEED_BUILT"
		return 0
	fi
	note "mkseed in the guest ($FL_SEED_BUILT has none with $want)"
	"$SRCDIR/tests/data/mkseed" "$FL_SEED" --rootfs-mib "$FL_ROOTFS_MIB" \
		--emmc-size "$FL_EMMC_SIZE" >&2
	FL_EXPECTED=$FL_SEED/expected-emmc.img
	note "mkseed done"
}

# fl_seed_file PARAM: the seed image bound to a plan parameter of the example plans
fl_seed_file() {
	case "$1" in
	_fbuboot) echo "$FL_SEED/uboot-fastboot.imx" ;;
	_mbr) echo "$FL_SEED/mbr.bin" ;;
	_uboot) echo "$FL_SEED/u-boot.imx" ;;
	_env) echo "$FL_SEED/env-zero.bin" ;;
	_rootfs) echo "$FL_SEED/rootfs.ext4" ;;
	*) return 1 ;;
	esac
}

# fl_plan_params PLAN: the names of PLAN's "# @_name" parameters, in order
fl_plan_params() {
	sed -n 's/^[[:space:]]*#[[:space:]]*@\(_[A-Za-z0-9_]*\).*/\1/p' "$1"
}

# fl_plan_args PLAN: the seed images for PLAN's parameters, in the order the plan
# declares them (one a line)
fl_plan_args() {
	local p f params
	# no process substitution: the guest has no /dev/fd
	params=$(fl_plan_params "$1")
	for p in $params; do
		f=$(fl_seed_file "$p") || fail "$1: no seed image for parameter $p"
		echo "$f"
	done
}

# fl_plan_copy PLAN: copy PLAN into $FL_SEED with every parameter replaced by the
# name of its seed image, so that it loads without arguments (`flashctl use` passes
# none); prints the copy's path. (uuu, and flashd since it binds as uuu does, takes
# "[_other]" in a declaration only as another parameter's value, never a file name.)
fl_plan_copy() {
	local p f dst params
	dst=$FL_SEED/$(basename "$1")
	cp "$1" "$dst"
	params=$(fl_plan_params "$1")
	for p in $params; do
		f=$(fl_seed_file "$p") || fail "$1: no seed image for parameter $p"
		# the parameter's words on command lines, not in comments
		sed -E -i "/^[[:space:]]*#/! s/(^|[[:space:]])$p([[:space:]]|\$)/\1$(basename "$f")\2/g" "$dst"
	done
	echo "$dst"
}

# fl_conf [KEY=VALUE]...: write $FL_CONF: the socket, journal and full plan above,
# a short settle time, admin-group empty (root only) and socket-group nogroup (so
# that uid 65534 may connect but not change anything), plan-dirs the example plans
# and $VM_TMP (the scenarios' plans and seed images); KEY=VALUE adds or replaces a
# global key ("KEY=" drops it). The full plan's arguments are the seed images.
# shellcheck disable=SC2120 # the arguments are optional
fl_conf() {
	local kv k plan
	local -A c=()
	local -a order=(socket socket-group admin-group journal plan plan-args plan-dirs
		settle bootloop-guard reenum-timeout)
	c[socket]=$FL_SOCK
	c[socket-group]=nogroup
	c[admin-group]=''
	c[journal]=$FL_JOURNAL
	c[plan]=$FL_PLANS/full.lst
	c[plan-dirs]="\"$FL_PLANS\" \"$VM_TMP\""
	c[settle]=1s
	c[bootloop-guard]=1min
	c[reenum-timeout]=15s
	for kv in "$@"; do
		k=${kv%%=*}
		[[ " ${order[*]} " == *" $k "* ]] || order+=("$k")
		c[$k]=${kv#*=}
	done
	plan=${c[plan]}
	if [[ ! -v "c[plan-args]" ]] && [[ -n $plan ]]; then
		c[plan-args]=$(fl_plan_args "$plan" | tr '\n' ' ')
	fi
	{
		echo "# written by flashd-lib.sh for $SCENARIO_NAME"
		for k in "${order[@]}"; do
			[[ -v "c[$k]" ]] || continue
			# an empty admin-group is meaningful; other empty keys are dropped
			[[ -n ${c[$k]} || $k == admin-group ]] || continue
			echo "$k = ${c[$k]}"
		done
	} >"$FL_CONF"
	cp "$FL_CONF" "$OUT/flashd.conf"
	# the socket's folder is reachable by everyone (the socket itself is 0660)
	chmod 0711 "$VM_TMP"
	mkdir -p "${FL_SOCK%/*}"
	chmod 0755 "${FL_SOCK%/*}"
}

# fl_ctl ARG...: flashctl on the scenario's socket (30 s limit)
fl_ctl() {
	timeout -k 3 30 "$FL_FLASHCTL" --socket "$FL_SOCK" "$@"
}

# fl_ctl_as_nobody ARG...: flashctl as uid/gid 65534 (nobody/nogroup, no other
# groups): may connect (socket-group nogroup) but is no admin
fl_ctl_as_nobody() {
	fl_ctl_as 65534 65534 '' "$@"
}

# fl_ctl_as UID GID GROUPS ARG...: flashctl as UID with primary group GID and the
# supplementary groups GROUPS (comma-separated names or ids; '' = none)
fl_ctl_as() {
	local bin=${FL_SOCK%/*}/flashctl # the build tree may not be readable by others
	local -a who=(--reuid="$1" --regid="$2")
	if [[ -n $3 ]]; then who+=(--groups="$3"); else who+=(--clear-groups); fi
	shift 3
	[[ -x $bin ]] || install -m 0755 "$FL_FLASHCTL" "$bin"
	timeout -k 3 30 setpriv "${who[@]}" "$bin" --socket "$FL_SOCK" "$@"
}

fl_ready() {
	[[ -S $FL_SOCK ]] && fl_ctl status >/dev/null 2>&1
}

# fl_start [flashd options]: start flashd (as root) on $FL_CONF, wait until it answers
# shellcheck disable=SC2120 # the arguments are optional
fl_start() {
	[[ -z $FL_PID ]] || fail "flashd is already running"
	echo "---- flashd start $(date +%T)" >>"$FL_LOG"
	"$FL_FLASHD" -c "$FL_CONF" --log-level debug "$@" 2>>"$FL_LOG" {FL_SLEEP_FD}>&- &
	FL_PID=$!
	if ! fl_until 30 0.2 fl_ready; then
		kill -0 "$FL_PID" 2>/dev/null || fail "flashd exited at start: $(tail -n 3 "$FL_LOG")"
		fail "flashd does not answer on $FL_SOCK"
	fi
	note "flashd ready (pid $FL_PID)"
}

fl_gone() {
	! kill -0 "$1" 2>/dev/null
}

# fl_stop: SIGTERM flashd (SIGKILL after 10 s); status = flashd's exit status
fl_stop() {
	local pid=$FL_PID rc=0
	[[ -n $pid ]] || return 0
	FL_PID=''
	kill -TERM "$pid" 2>/dev/null || true
	if ! fl_until 10 0.1 fl_gone "$pid"; then
		note "flashd: no exit 10 s after SIGTERM, killing"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	return "$rc"
}

# fl_alive: fail unless flashd still runs
fl_alive() {
	if [[ -z $FL_PID ]] || ! kill -0 "$FL_PID" 2>/dev/null; then
		fail "flashd died: $(tail -n 5 "$FL_LOG")"
	fi
}

# fl_watch FILE: start `flashctl watch --json` writing to FILE; returns once the
# watcher is subscribed (its first line, the snapshot, is there). FL_LAST_BG = its pid.
fl_watch() {
	local f=$1
	: >"$f"
	"$FL_FLASHCTL" --socket "$FL_SOCK" watch --json >"$f" 2>"$f.err" {FL_SLEEP_FD}>&- &
	FL_LAST_BG=$!
	FL_BG_PIDS+=("$FL_LAST_BG")
	fl_until 20 0.1 test -s "$f" || fail "flashctl watch printed nothing: $(cat "$f.err")"
}

# fl_status: `flashctl status --json`
fl_status() {
	fl_ctl status --json
}

# fl_port PORT [JQ]: the port object of PORT in the status (or JQ applied to it)
fl_port() {
	fl_status | jq -c --arg p "$1" ".ports[]? | select(.port == \$p) | ${2:-.}"
}

fl_port_is() {
	[[ $(fl_port "$1" .state 2>/dev/null) == "\"$2\"" ]]
}

# fl_wait_state PORT STATE TIMEOUT: wait until flashctl status shows PORT in STATE
fl_wait_state() {
	if ! fl_until "$3" 0.5 fl_port_is "$1" "$2"; then
		fl_alive
		fail "port $1 not $2 after $3 s: $(fl_port "$1" 2>&1 | cut -c1-300)"
	fi
}

fl_step_has() {
	[[ $(fl_port "$1" .step 2>/dev/null) == *"$2"* ]]
}

# fl_wait_step PORT TEXT TIMEOUT: wait until PORT's current step contains TEXT
fl_wait_step() {
	if ! fl_until "$3" 0.5 fl_step_has "$1" "$2"; then
		fl_alive
		fail "port $1 never at a step with '$2' in $3 s: $(fl_port "$1" 2>&1 | cut -c1-300)"
	fi
}

# fl_records [JQFILTER]: the journal records (compact, one a line) matching FILTER
fl_records() {
	[[ -e $FL_JOURNAL ]] || return 0
	jq -cR "fromjson? | select(${1:-true})" "$FL_JOURNAL"
}

# fl_scan PORT RESULT: without a process, FL_N = records of PORT, FL_NR = those
# with RESULT, FL_OTHER = the first result other than RESULT after PORT's mark.
# Records are single lines whose only "port" and "result" keys are the record's own.
fl_scan() {
	local line res
	FL_N=0 FL_NR=0 FL_OTHER=''
	[[ -e $FL_JOURNAL ]] || return 0
	while IFS= read -r line; do
		[[ $line == *'"port":"'"$1"'"'* ]] || continue
		FL_N=$((FL_N + 1))
		res=''
		[[ $line =~ \"result\":\"([a-z-]+)\" ]] && res=${BASH_REMATCH[1]}
		if [[ $res == "$2" ]]; then
			FL_NR=$((FL_NR + 1))
		elif ((FL_N > ${FL_MARK[$1]:-0})) && [[ -z $FL_OTHER ]]; then
			FL_OTHER=$res
		fi
	done <"$FL_JOURNAL"
}

# fl_count PORT RESULT: journal records of PORT with RESULT
fl_count() {
	fl_records ".port == \"$1\" and .result == \"$2\"" | wc -l
}

# fl_mark PORT: the journal records of PORT so far are old news for fl_wait_result
fl_mark() {
	fl_scan "$1" ''
	FL_MARK[$1]=$FL_N
}

# fl_wait_result PORT RESULT TIMEOUT [N]: wait for the Nth (default 1st) record of
# PORT with RESULT in the journal; FL_REC = that record. Call it directly, not in
# $(…): it moves the port's mark. Fails at once when PORT gets a record with another
# result after its mark (set when its board is started and after each
# fl_wait_result), unless FL_LENIENT=1.
fl_wait_result() {
	local n=${4:-1} end=$((SECONDS + $3)) other
	while :; do
		fl_scan "$1" "$2"
		((FL_NR < n)) || break
		if [[ -n $FL_OTHER ]] && ((!${FL_LENIENT:-0})); then
			other=$(fl_records ".port == \"$1\" and .result == \"$FL_OTHER\"" | tail -n 1)
			fail "port $1: \"$(jq -r '[.result, .failed_step, .reason] | join(": ")' <<<"$other")\" instead of \"$2\""
		fi
		if ((SECONDS >= end)); then
			fl_alive
			fail "port $1: no \"$2\" record #$n after $3 s (state: $(fl_port "$1" \
				'[.state, .step, .bytes, .reason] | map(tostring) | join(" | ")' 2>&1))"
		fi
		fl_sleep 0.3
	done
	FL_MARK[$1]=$FL_N
	FL_REC=$(fl_records ".port == \"$1\" and .result == \"$2\"" | sed -n "${n}p")
	[[ -n $FL_REC ]] || fail "port $1: record #$n with $2 is not valid JSON"
}

# fl_wait_ok PORT TIMEOUT: fl_wait_result PORT ok TIMEOUT, then a note of the record's
# result, bytes and milliseconds; the record is in FL_REC
fl_wait_ok() {
	fl_wait_result "$1" ok "$2"
	note "$1: $(fl_json_get "$FL_REC" '[.result, .bytes, (.end_ms - .start_ms)] | @tsv') ms"
}

# fl_board K [flashd-emu options]: start board K with the scenario's eMMC size and
# max-download-size (later options win)
fl_board() {
	local k=$1
	shift
	fl_mark "$(usb_port "$k")"
	start_board "$k" --emmc-size "$FL_EMMC_SIZE" --max-download-size "$FL_MAXDL" \
		"${FL_EMU_OPTS[@]}" "$@"
}

# fl_expect_emmc K: board K's eMMC is byte for byte the expected image
fl_expect_emmc() {
	cmp "$(board_emmc "$1")" "$FL_EXPECTED" >&2 ||
		fail "board $1: eMMC differs from expected-emmc.img"
}

# fl_json_get JSON JQ: jq -r JQ on one JSON text
fl_json_get() {
	jq -r "$2" <<<"$1"
}

# fl_wevents FILE [JQFILTER]: the events of a watch file (compact, one a line)
# matching FILTER; torn lines are skipped
fl_wevents() {
	jq -cR "fromjson? | select(${2:-true})" "$1"
}

# fl_seq_gaps FILE: how many times the seq of FILE's events (snapshots and
# overflows aside) does not follow the previous one
fl_seq_gaps() {
	fl_wevents "$1" '.event != "snapshot" and .event != "overflow"' | jq -s \
		'[.[].seq] as $s | [range(1; $s | length) | select($s[.] != $s[. - 1] + 1)] | length'
}

# fl_plan_steps PLAN: the number of steps of PLAN with the seed images as arguments
fl_plan_steps() {
	# shellcheck disable=SC2046 # one argument per image path (no blanks in them)
	"$FL_FLASHD" --check-plan "$1" $(fl_plan_args "$1") --json | jq '.steps | length'
}

# fl_uploads K: how many images board K's ROM jumped into
fl_uploads() {
	count_events "$(board_log "$1")" jump
}
