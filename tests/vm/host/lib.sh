# shellcheck shell=bash
# tests/vm/host/lib.sh: helpers for a scenario's host companion, the program a
# "# vm-host: tests/vm/host/NAME" line makes tests/vm/run start on the host beside the
# guest. Source it first thing: . "$VM_HOST_LIB". Like tests/vm/lib.sh in the guest it
# sets `set -eEuo pipefail` and records the first failure as the companion's reason.
#
# Environment (set by tests/vm/run):
#   VM_SHARE        the scenario's result folder, the guest's /run/vm (sync files below)
#   VM_HOST_OUT     VM_SHARE/host: the companion's results (screenshots, scrapes), kept
#                   with the scenario's results on failure or with --keep
#   VM_URL          http://127.0.0.1:VM_HOSTPORT, forwarded to the guest's VM_GUESTPORT
#                   (only with "# vm-net: VM_GUESTPORT")
#   VM_HOSTPORT, VM_GUESTPORT
#   VM_HOST_TOOLS   tests/vm/host (prom, browse, free-port)
#   VM_HOST_TIMEOUT the scenario's timeout in seconds (the companion is killed then, and
#                   10 s after the guest has ended)
#   SRCDIR, BUILDDIR, SCENARIO_NAME
# Its standard output and error go to VM_SHARE/host.log. It runs as the user running
# tests/vm/run (root), in a process group of its own which is killed at the end: what
# it starts in the background dies with it.
#
# Synchronisation with the guest: files in VM_SHARE, each written under a temporary
# name and renamed:
#   phase-NAME   written by the guest (vm_phase NAME [TEXT]): host_wait_phase NAME T
#   host-NAME    written here (host_mark NAME [TEXT]): the guest's vm_wait_host NAME T
#   status       the guest's result: host_wait_phase fails at once when it appears
#   host-status  written by tests/vm/run when the companion exits
#   host-reason  the companion's FAIL reason (host_fail), shown by tests/vm/run

set -eEuo pipefail

HOST_T0=${EPOCHREALTIME/./}
# hnote MSG...: a time-stamped line in host.log
hnote() {
	local us=$((${EPOCHREALTIME/./} - HOST_T0))
	printf '# [host %d.%02d] %s\n' $((us / 1000000)) $((us % 1000000 / 10000)) "$*" >&2
}

host_reason() {
	[[ -s $VM_SHARE/host-reason ]] || echo "$*" >"$VM_SHARE/host-reason"
}

# host_fail MSG...: stop the companion; MSG is what tests/vm/run prints after FAIL
host_fail() {
	echo "FAIL: $*" >&2
	host_reason "$*"
	exit 1
}

host_on_err() {
	[[ $BASHPID == "$$" ]] || return 0
	host_reason "line $1: $2"
}
trap 'host_on_err "$LINENO" "$BASH_COMMAND"' ERR

host_sync_name() {
	[[ $1 =~ ^[A-Za-z0-9_.-]+$ ]] || host_fail "bad phase name '$1'"
}

# host_mark NAME [TEXT]: tell the guest the companion reached NAME (VM_SHARE/host-NAME)
host_mark() {
	host_sync_name "$1"
	printf '%s\n' "${2:-}" >"$VM_SHARE/.host-$1.tmp"
	mv "$VM_SHARE/.host-$1.tmp" "$VM_SHARE/host-$1"
	hnote "mark $1${2:+: $2}"
}

# host_wait_phase NAME TIMEOUT: wait until the guest writes phase NAME; print its text.
# Fails at the timeout, or at once when the guest has finished without it.
host_wait_phase() {
	local n=$1 t=$2 f end
	host_sync_name "$n"
	f=$VM_SHARE/phase-$n
	end=$((SECONDS + t))
	until [[ -e $f ]]; do
		if [[ -e $VM_SHARE/status ]]; then
			host_fail "the guest ended (status $(<"$VM_SHARE/status")) before phase '$n'"
		fi
		((SECONDS < end)) || host_fail "no phase '$n' from the guest within ${t}s"
		sleep 0.1
	done
	hnote "guest: phase $n"
	cat "$f"
}

# host_need_net: fail unless the scenario forwards a port ("# vm-net:")
host_need_net() {
	[[ -n ${VM_URL:-} ]] || host_fail "the scenario has no '# vm-net: PORT' line"
}

# host_expect_eq WHAT GOT WANT: fail unless GOT == WANT
host_expect_eq() {
	[[ $2 == "$3" ]] || host_fail "$1: got '$2', want '$3'"
}

# host_browser_start [browse options]: a long-lived headless Chromium (tests/vm/host/browse
# in its standard-input mode, as a coprocess) on about:blank; started early, its start
# (2-4 s) overlaps the guest's boot. Its answers are kept in VM_HOST_OUT/browse.jsonl,
# its errors in VM_HOST_OUT/browse.err; screenshots go to VM_HOST_OUT.
HB_PID='' HB_IN='' HB_OUT=''
host_browser_start() {
	local line
	[[ -z $HB_PID ]] || host_fail "host_browser_start: a browser runs already"
	coproc HOST_BROWSER {
		exec "$VM_HOST_TOOLS/browse" --out "$VM_HOST_OUT" "$@" about:blank - \
			2>>"$VM_HOST_OUT/browse.err"
	}
	# copies of the coprocess' descriptors: bash closes its own in subshells (a
	# $(host_browse …)) and forgets them when it ends
	HB_PID=$HOST_BROWSER_PID
	exec {HB_OUT}<&"${HOST_BROWSER[0]}" {HB_IN}>&"${HOST_BROWSER[1]}"
	for _ in start open; do
		read -r -t 60 -u "$HB_OUT" line ||
			host_fail "the browser did not start: $(tail -n 3 "$VM_HOST_OUT/browse.err")"
		echo "$line" >>"$VM_HOST_OUT/browse.jsonl"
		[[ $line != *'"step": "start"'* ]] || hnote "browser started: $line"
	done
}

# host_browse STEP [ARG...]: one browse step (see tests/vm/host/browse) in the browser of
# host_browser_start; print its JSON line; fail if the step failed. Waits are bounded
# by browse's --timeout (default 20 s).
host_browse() {
	local a q='' line
	[[ -n $HB_PID ]] || host_fail "host_browse: no browser (host_browser_start)"
	for a in "$@"; do
		q+="'${a//\'/\'\"\'\"\'}' "
	done
	printf '%s\n' "$q" >&"$HB_IN"
	read -r -t 120 -u "$HB_OUT" line || host_fail "browse $1: no answer from the browser"
	echo "$line" >>"$VM_HOST_OUT/browse.jsonl"
	if [[ $(jq -r 'has("error")' <<<"$line") == true ]]; then
		host_browse_failed "$1" "$(jq -r .error <<<"$line")"
	fi
	echo "$line"
}

# host_browse_failed STEP MSG: a screenshot and the page's text next to the results, then
# fail
host_browse_failed() {
	local line
	printf '%s\n' "shot browse-fail.png" "js 'document.body ? document.body.innerText : \"\"'" \
		>&"$HB_IN"
	read -r -t 30 -u "$HB_OUT" line || true
	read -r -t 30 -u "$HB_OUT" line || true
	jq -r '.value // empty' <<<"$line" 2>/dev/null | head -c 2000 >"$VM_HOST_OUT/browse-fail.txt" || true
	host_fail "browse $1: $2 (browse-fail.png, browse-fail.txt)"
}

# host_browser_stop: end the browser ("quit"; killed if it has not ended 10 s later)
host_browser_stop() {
	local end
	[[ -n $HB_PID ]] || return 0
	{ echo quit >&"$HB_IN"; } 2>/dev/null || true
	end=$((SECONDS + 10))
	while kill -0 "$HB_PID" 2>/dev/null && ((SECONDS < end)); do
		sleep 0.1
	done
	kill "$HB_PID" 2>/dev/null || true
	wait "$HB_PID" 2>/dev/null || true
	exec {HB_IN}>&- {HB_OUT}<&-
	HB_PID=''
}
