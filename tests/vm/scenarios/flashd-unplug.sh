#!/usr/bin/env bash
# flashd-unplug: boards that leave in the middle of the rootfs, then come back.
# Board 0 drops off the bus after N bytes of fastboot data, N inside the rootfs
# (flashd-emu --fault-disconnect-at-byte), and comes back 3 s later still running the
# fastboot U-Boot; board 1 is unplugged (its emulator stopped) while the first rootfs
# piece is being written, and plugged in again (a fresh emulator on the same eMMC, in
# its boot ROM) once flashd shows the port empty. Checks: each port first records
# FAILED at the rootfs step with the bytes done so far (image bytes: more than the
# steps before the rootfs, less than all of them); then the board is flashed again and
# ends "ok" with its eMMC byte for byte expected-emmc.img. Board 2's boot ROM drops off
# the bus in the middle of the U-Boot upload (--fault-disconnect-at-sdp-byte, with SDP
# data reports queued on EP0) and comes back 3 s later: FAILED at the SDP step with a
# reason, then flashed again, "ok".
# vm-boards: 3
# vm-timeout: 500
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
fl_conf settle=1s
fl_start
fl_watch "$OUT/watch.ndjson"

# fastboot bytes before the rootfs: MBR, U-Boot, environment
pre=$(($(stat -c %s "$FL_SEED/mbr.bin") + $(stat -c %s "$FL_SEED/u-boot.imx") +
	$(stat -c %s "$FL_SEED/env-zero.bin")))
cut_at=$((pre + (2 << 20)))
fl_board 0 --fault-disconnect-at-byte "$cut_at" --reenum-delay 3000
fl_board 1 --emmc-mbps 2
fl_board 2 --fault-disconnect-at-sdp-byte 100000 --reenum-delay 3000

# board 1: unplugged while its first rootfs piece is written
wait_event "$(board_log 1)" fb-cmd '.cmd == "flash:rootfs"' 240 >/dev/null
stop_board 1
note "board 1 unplugged"

all=$((pre + $(stat -c %s "$FL_SEED/rootfs.ext4")))
check_failure() { # PORT: the FAILED record of PORT
	local rec
	fl_wait_result "$1" failed 60
	rec=$FL_REC
	note "$1: $(fl_json_get "$rec" '[.failed_step, .reason, .bytes] | map(tostring) | join(" | ")')"
	[[ $(fl_json_get "$rec" .failed_step) == *rootfs* ]] ||
		fail "$1 failed at '$(fl_json_get "$rec" .failed_step)', want the rootfs step"
	[[ -n $(fl_json_get "$rec" '.reason // empty') ]] || fail "$1: no reason"
	local bytes
	bytes=$(fl_json_get "$rec" .bytes)
	((bytes > pre)) || fail "$1: bytes done $bytes, want more than the $pre before the rootfs"
	((bytes < all)) || fail "$1: bytes done $bytes, want less than all $all"
}
check_failure 1-1
check_failure 2-1

fl_wait_result 3-1 failed 60
rec=$FL_REC
note "3-1: $(fl_json_get "$rec" '[.failed_step, .reason, .bytes] | map(tostring) | join(" | ")')"
[[ $(fl_json_get "$rec" .failed_step) == SDP:* ]] ||
	fail "3-1 failed at '$(fl_json_get "$rec" .failed_step)', want the SDP step"
[[ -n $(fl_json_get "$rec" '.reason // empty') ]] || fail "3-1: no reason"
wait_event "$(board_log 2)" fault '.fault == "disconnect-at-sdp-byte"' 5 >/dev/null ||
	fail "board 2 never dropped off in the SDP data"

# board 1 is plugged in again once the port is free
fl_wait_state 2-1 empty 20
fl_board 1

for k in 0 1 2; do
	fl_wait_result "$(usb_port "$k")" ok 300
	rec=$FL_REC
	note "board $k: ok after replug, $(fl_json_get "$rec" '.end_ms - .start_ms') ms"
	wait_event "$(board_log "$k")" boot '.result == "booted"' 30 >/dev/null ||
		fail "board $k did not boot what was flashed"
	fl_expect_emmc "$k"
done
expect_eq "board 0 SDP uploads" "$(fl_uploads 0)" 1 # it came back in fastboot
expect_eq "board 1 SDP uploads" "$(fl_uploads 1)" 2
expect_eq "board 2 SDP uploads" "$(fl_uploads 2)" 1 # the first never reached the jump
expect_eq "journal records" "$(fl_records | wc -l)" 6
fl_ctl history
fl_stop
note "flashd-unplug: ok"
