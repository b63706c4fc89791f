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
