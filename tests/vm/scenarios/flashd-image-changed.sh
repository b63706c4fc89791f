#!/usr/bin/env bash
# flashd-image-changed: an image file changed under a loaded plan (issue 11, defect 1).
# Board 0 flashes the seed plan on a slow eMMC; once its first rootfs piece is being
# written, the rootfs image is cut to half its size. Before issue 11 the next read
# through the image's mapping killed flashd with SIGBUS. Now: flashd lives on, board 0
# is FAILED at the rootfs step with "the image file changed since the plan was loaded";
# the file is then put back (same bytes, same inode, but a new change time: not the
# file that was hashed) and board 1, plugged in before any reload, fails the same way at
# the same step, before any rootfs byte is sent. After `flashctl reload` both boards
# are plugged in again and end "ok" with their eMMCs byte for byte expected-emmc.img,
# and their journal records name the rootfs' SHA-256 (the bytes they got).
# vm-boards: 2
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
raw=$FL_SEED/rootfs.ext4
size=$(stat -c %s "$raw")
want=$(sha256sum "$raw" | cut -d' ' -f1)
cp "$raw" "$VM_TMP/rootfs.orig"

check_changed() { # PORT: FAILED at the rootfs step, the image changed
	local rec
	fl_wait_result "$1" failed 240
	rec=$FL_REC
	note "$1: $(fl_json_get "$rec" '[.failed_step, .reason, .bytes] | map(tostring) | join(" | ")')"
	[[ $(fl_json_get "$rec" .failed_step) == *rootfs* ]] ||
		fail "$1 failed at '$(fl_json_get "$rec" .failed_step)', want the rootfs step"
	[[ $(fl_json_get "$rec" .reason) == *"changed since the plan was loaded"* ]] ||
		fail "$1: reason '$(fl_json_get "$rec" .reason)'"
}

fl_board 0 --emmc-mbps 2
wait_event "$(board_log 0)" fb-cmd '.cmd == "flash:rootfs"' 240 >/dev/null
truncate -s $((size / 2)) "$raw"
note "rootfs cut to $((size / 2)) bytes while board 0 writes its first rootfs piece"
check_changed 1-1
fl_alive
fl_ctl status >/dev/null

# the same bytes again, but not the file that was hashed: still refused
cat "$VM_TMP/rootfs.orig" >"$raw"
fl_board 1
check_changed 2-1
pieces=$(count_events "$(board_log 1)" fb-cmd '.cmd == "flash:rootfs"')
expect_eq "board 1 rootfs pieces before the reload" "$pieces" 0

fl_ctl reload >/dev/null
for k in 0 1; do
	stop_board "$k"
	fl_wait_state "$(usb_port "$k")" empty 20
	fl_board "$k"
done
for k in 0 1; do
	fl_wait_result "$(usb_port "$k")" ok 300
	rec=$FL_REC
	expect_eq "board $k rootfs hash" \
		"$(fl_json_get "$rec" ".images[] | select(.path == \"$raw\") | .sha256")" "$want"
	fl_expect_emmc "$k"
done
fl_stop
note "flashd-image-changed: ok"
