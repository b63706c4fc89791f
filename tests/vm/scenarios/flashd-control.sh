#!/usr/bin/env bash
# flashd-control: the operator's commands do what flashctl(1) says, and only for admins.
#  - a non-admin (uid/gid 65534, no other groups; the socket's group is nogroup, the
#    admin group empty) may run status and history, and every mutating command is
#    refused with exit status 4 and "permission-denied", changing nothing;
#  - pause: a board plugged in is held ("paused", no SDP command reaches it) until
#    resume, then flashed;
#  - retry: a board that failed (it dropped off the bus at a fastboot command and came
#    back still in fastboot) stays FAILED, untouched, until `retry`, then ends "ok";
#  - use: while a slow board runs the full plan, `use` switches the station to the
#    bootloader-only plan (conf/plans/bootloader.lst, parameters defaulted to the seed
#    images): the next board runs it (U-Boot at 0x400, no MBR, no rootfs) and the
#    running one keeps the full plan;
#  - abort: that running board is stopped and recorded "aborted" with the full plan.
# vm-boards: 4
# vm-timeout: 600
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
full=$FL_PLANS/full.lst
bl=$(fl_plan_copy "$FL_PLANS/bootloader.lst")
# the slow board's eMMC writes 1 MB/s: give its flash commands time
fl_conf settle=5s flash-timeout-min=90s
fl_start
fl_watch "$OUT/watch.ndjson"

# ---- a non-admin reads but changes nothing
fl_ctl_as_nobody status >&2 || fail "status as nobody: exit $?"
fl_ctl_as_nobody history >&2 || fail "history as nobody: exit $?"
for cmd in "use $bl" pause resume "abort 1-1" "retry 1-1" reload; do
	rc=0
	# shellcheck disable=SC2086 # the command and its argument
	fl_ctl_as_nobody $cmd >"$VM_TMP/out.txt" 2>&1 || rc=$?
	cat "$VM_TMP/out.txt" >&2
	expect_eq "exit status of '$cmd' as nobody" "$rc" 4
	grep -q permission-denied "$VM_TMP/out.txt" || fail "'$cmd' as nobody: no permission-denied"
done
expect_eq "paused after the refused pause" "$(fl_status | jq .paused)" false
expect_eq "default plan after the refused use" "$(fl_ctl plans --json | jq -r .default)" "$full"

# ---- pause holds a new board until resume
fl_ctl pause
expect_eq "paused" "$(fl_status | jq .paused)" true
fl_board 0
fl_wait_state 1-1 paused 30
sleep 4
expect_eq "SDP commands while paused" "$(count_events "$(board_log 0)" sdp)" 0
expect_eq "1-1 while paused" "$(fl_port 1-1 .state)" '"paused"'
fl_ctl resume
expect_eq "paused after resume" "$(fl_status | jq .paused)" false

# ---- retry: board 1 drops off at its 4th fastboot command (flash:mbr) and comes back
fl_board 1 --fault-disconnect-at-cmd 4
fl_wait_result 2-1 failed 120
rec=$FL_REC
note "2-1 failed: $(fl_json_get "$rec" .reason)"
wait_event "$(board_log 1)" connect '.phase == "fastboot"' 30 >/dev/null
sleep 3
expect_eq "2-1 before retry" "$(fl_port 2-1 .state)" '"failed"'
cmds=$(count_events "$(board_log 1)" fb-cmd)
sleep 2
expect_eq "fastboot commands to 2-1 while FAILED" "$(count_events "$(board_log 1)" fb-cmd)" "$cmds"
fl_ctl retry 2-1

# ---- use while a slow board runs the full plan
fl_board 2 --emmc-mbps 1
fl_wait_step 3-1 rootfs 240
fl_ctl use "$bl"
expect_eq "default plan after use" "$(fl_ctl plans --json | jq -r .default)" "$bl"
fl_board 3

# ---- abort the slow board, still in its rootfs with the full plan (at once:
# under load it could otherwise finish while the other boards are waited for)
port=$(fl_port 3-1)
expect_eq "3-1 state before abort" "$(fl_json_get "$port" .state)" fastboot
fl_ctl abort 3-1
fl_wait_result 3-1 aborted 30
rec=$FL_REC
expect_eq "3-1 plan (started before use)" "$(fl_json_get "$rec" .plan)" "$full"
[[ $(fl_json_get "$rec" .failed_step) == *rootfs* ]] || fail "3-1 aborted outside the rootfs"
expect_eq "3-1 result in status" "$(fl_port 3-1 .result)" '"aborted"'
cmds=$(count_events "$(board_log 2)" fb-cmd)
sleep 3
expect_eq "fastboot commands to 3-1 after abort" "$(count_events "$(board_log 2)" fb-cmd)" "$cmds"
[[ $(fl_port 3-1 .state) != '"fastboot"' ]] || fail "3-1 still flashing after abort"

fl_wait_result 1-1 ok 300
rec=$FL_REC
expect_eq "1-1 plan" "$(fl_json_get "$rec" .plan)" "$full"
fl_expect_emmc 0
fl_wait_result 2-1 ok 300
rec=$FL_REC
expect_eq "2-1 plan (retried before use)" "$(fl_json_get "$rec" .plan)" "$full"
fl_expect_emmc 1
fl_wait_result 4-1 ok 300
rec=$FL_REC
expect_eq "4-1 plan (after use)" "$(fl_json_get "$rec" .plan)" "$bl"
expect_eq "4-1 flash:rootfs" "$(count_events "$(board_log 3)" fb-cmd '.cmd == "flash:rootfs"')" 0
expect_eq "4-1 flash:mbr" "$(count_events "$(board_log 3)" fb-cmd '.cmd == "flash:mbr"')" 0
expect_bytes "$(board_emmc 3)" 1024 "$FL_SEED/u-boot.imx"
cmp -n 512 "$(board_emmc 3)" /dev/zero >&2 || fail "4-1: the bootloader plan wrote an MBR"

fl_ctl status
fl_ctl history
fl_stop
note "flashd-control: ok"
