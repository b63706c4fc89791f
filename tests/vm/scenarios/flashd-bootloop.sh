#!/usr/bin/env bash
# flashd-bootloop: a board whose flashed image does not boot. The station runs the
# example bootloader plan (conf/plans/bootloader.lst) with garbage as the U-Boot to
# write at 0x400, so after the plan's reboot the emulated ROM finds no valid image and
# the board comes back on the same port as a boot ROM, as a bricked board would.
# Checks: the port ends in "boot-loop" (status and journal) and the board is not
# flashed again (exactly one SDP upload, still one after a wait well past the settle
# time) until `flashctl retry 1-1`, after which it is flashed again (second upload)
# and reported as a boot loop again.
# vm-boards: 1
# vm-timeout: 300
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
garbage=$FL_SEED/garbage.bin
random_file "$garbage" 65536
plan=$FL_PLANS/bootloader.lst
args=$(fl_plan_args "$plan" | sed "s|^$FL_SEED/u-boot.imx\$|$garbage|" | tr '\n' ' ')
[[ $args == *garbage.bin* ]] || fail "bootloader.lst has no _uboot parameter: $args"
fl_conf plan="$plan" plan-args="$args" settle=1s bootloop-guard=1min
fl_start
fl_watch "$OUT/watch.ndjson"

fl_board 0
FL_LENIENT=1 fl_wait_result 1-1 boot-loop 120
rec=$FL_REC # an "ok" record may come first
note "boot loop: $(fl_json_get "$rec" '[.result, .reason] | @tsv')"
wait_event "$(board_log 0)" boot '.result == "rom"' 5 >/dev/null ||
	fail "the emulated board did not fail to boot"
expect_bytes "$(board_emmc 0)" 1024 "$garbage"
fl_wait_state 1-1 boot-loop 10

# held: not flashed again while the board sits in its ROM
sleep 8
expect_eq "SDP uploads before retry" "$(fl_uploads 0)" 1
expect_eq "state after 8 s" "$(fl_port 1-1 .state)" '"boot-loop"'
expect_eq "boot-loop records before retry" "$(fl_count 1-1 boot-loop)" 1
fl_ctl status

# the operator's retry flashes it again, and it loops again
fl_ctl retry 1-1
FL_LENIENT=1 fl_wait_result 1-1 boot-loop 120 2
expect_eq "SDP uploads after retry" "$(fl_uploads 0)" 2
fl_wait_state 1-1 boot-loop 10
sleep 3
expect_eq "SDP uploads after the second loop" "$(fl_uploads 0)" 2
fl_ctl history
fl_stop
note "flashd-bootloop: ok"
