#!/usr/bin/env bash
# flashd-groups: the three groups of flashd(8) "Users and groups" with the shipped
# udev rule (conf/60-flashd.rules, installed in the guest) and a socket owned by
# flashd-operators, admin group flashd-admin:
#  - an admin (flashd-operators + flashd-admin) may pause;
#  - an operator (flashd-operators only) may run status, but pause is refused and it
#    cannot open the board's /dev/bus/usb node, neither the boot ROM's (held by the
#    pause) nor, after resume, the fastboot device's while it is flashed;
#  - a member of the daemon's group "flashd" can open the same nodes (the rule did
#    apply: the operator's refusal is the group's doing, not a default mode);
#  - after the admin's resume the board is flashed: ok, eMMC as expected.
# vm-boards: 1
# vm-timeout: 400
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
# the groups (in the guest's overlay: gone with the guest) and the udev rule
for g in flashd flashd-operators flashd-admin; do
	getent group "$g" >/dev/null || groupadd -r "$g"
done
gid() { getent group "$1" | cut -d: -f3; }
dev_gid=$(gid flashd)
op_gid=$(gid flashd-operators)
adm_gid=$(gid flashd-admin)
install -D -m 0644 "$SRCDIR/conf/60-flashd.rules" /etc/udev/rules.d/60-flashd.rules
udevadm control --reload
# uids without a passwd entry: only their groups count
op=(2001 "$op_gid" '')
adm=(2002 "$op_gid" "$op_gid,$adm_gid")
daemon_grp=(2003 "$dev_gid" '')

fl_conf socket-group=flashd-operators admin-group=flashd-admin
fl_start
expect_eq "socket group" "$(stat -c %G "$FL_SOCK")" flashd-operators

# node_of K: board K's usbfs node
node_of() {
	local d
	d=$(usb_sys "$1")
	printf '/dev/bus/usb/%03d/%03d\n' "$(<"$d/busnum")" "$(<"$d/devnum")"
}
# open_rw UID GID GROUPS NODE: status 0 when that identity can open NODE read-write
open_rw() {
	local -a who=(--reuid="$1" --regid="$2")
	if [[ -n $3 ]]; then who+=(--groups="$3"); else who+=(--clear-groups); fi
	# shellcheck disable=SC2016 # $1 is the inner shell's
	setpriv "${who[@]}" bash -c 'exec 3<>"$1"' open_rw "$4" 2>>"$VM_TMP/open.err"
}
# check_node WHAT: the node on port 1-1 is the daemon group's, and only that group opens it
check_node() {
	local node
	node=$(node_of 0)
	expect_eq "$1: $node owner, group, mode" "$(stat -c '%U %G %a' "$node")" "root flashd 660"
	open_rw "${op[@]}" "$node" && fail "$1: an operator opened $node"
	open_rw "${adm[@]}" "$node" && fail "$1: an admin opened $node"
	open_rw "${daemon_grp[@]}" "$node" || fail "$1: the flashd group cannot open $node"
	note "$1: $node opens for group flashd only"
}

# ---- operators read, admins change
fl_ctl_as "${op[@]}" status >&2 || fail "status as an operator: exit $?"
rc=0
fl_ctl_as "${op[@]}" pause >"$VM_TMP/out.txt" 2>&1 || rc=$?
cat "$VM_TMP/out.txt" >&2
expect_eq "exit status of pause as an operator" "$rc" 4
grep -q permission-denied "$VM_TMP/out.txt" || fail "pause as an operator: no permission-denied"
expect_eq "paused after the operator's pause" "$(fl_status | jq .paused)" false
fl_ctl_as "${adm[@]}" pause >&2 || fail "pause as an admin: exit $?"
expect_eq "paused after the admin's pause" "$(fl_status | jq .paused)" true

# ---- the boot ROM's node, held by the pause (a slow eMMC: the fastboot device
# stays long enough to be looked at below)
fl_board 0 --emmc-mbps 2
fl_wait_state 1-1 paused 60
udevadm settle --timeout=10
check_node "boot ROM"

# ---- the fastboot device's node while the rootfs is written
fl_ctl_as "${adm[@]}" resume >&2 || fail "resume as an admin: exit $?"
fl_wait_step 1-1 rootfs 200
udevadm settle --timeout=10
check_node "fastboot"

fl_wait_result 1-1 ok 300
fl_expect_emmc 0
note "refusals: $(sort "$VM_TMP/open.err" 2>/dev/null | uniq -c | head -n 3)"
