#!/usr/bin/env bash
# flashd-journal-eio: fsync fails with EIO under the journal. The journal lives on an
# ext2 file system on a device-mapper "linear" device (over a loop file in guest RAM).
# Board 0 is flashed: its record is durable. The device is then switched to the
# "error" target: the next record's write() lands in the page cache but its
# fdatasync fails with EIO, so the record is not durable (result event, alarm) and
# board 2, plugged in meanwhile, waits "paused". The device is switched back: the
# retry cuts the journal back to its last synced record, writes the waiting one and
# syncs; the alarm clears and board 2 is flashed. Finally the file system is unmounted
# and mounted again (what is read is what is on the device): the journal holds each
# of the three records exactly once, whole, in order.
# vm-boards: 3
# vm-timeout: 500
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
command -v dmsetup >/dev/null || fail "dmsetup is not installed"
modprobe loop
modprobe dm-mod
modprobe ext4 # also mounts ext2 (no journal: a failed write does not abort the file system)
img=$VM_TMP/jdisk.img
truncate -s 16M "$img"
loopdev=$(losetup -f --show "$img")
sectors=$(($(blockdev --getsz "$loopdev")))
dm() { dmsetup --noudevsync "$@"; }
dm create fl-journal --table "0 $sectors linear $loopdev 0"
dm mknodes fl-journal
dev=/dev/mapper/fl-journal
mkfs.ext2 -q -E nodiscard "$dev"
jdir=$VM_TMP/jdev
mkdir -p "$jdir"
mount -t ext2 "$dev" "$jdir"
# swap the device's table: linear (works) or error (every I/O fails with EIO)
dm_table() {
	local t
	if [[ $1 == error ]]; then t="0 $sectors error"; else t="0 $sectors linear $loopdev 0"; fi
	dm suspend --nolockfs fl-journal
	dm reload fl-journal --table "$t"
	dm resume fl-journal
	note "journal device: $1"
}

FL_JOURNAL=$jdir/results.jsonl
fl_conf plan="$FL_PLANS/bootloader.lst" settle=1s bootloop-guard=0s
fl_start
watch=$OUT/watch.ndjson
fl_watch "$watch"

fl_board 0
fl_wait_result 1-1 ok 180
res=$(fl_wevents "$watch" '.event == "result" and .port == "1-1"')
expect_eq "board 0 durable" "$(fl_json_get "$res" .durable)" true
sync

dm_table error
fl_board 1
fl_until 180 0.5 grep -q '"event":"result","seq":[0-9]*,"ts":[0-9]*,"port":"2-1"' "$watch" ||
	fail "no result event for board 1"
res=$(fl_wevents "$watch" '.event == "result" and .port == "2-1"')
expect_eq "board 1 result" "$(fl_json_get "$res" .result)" ok
expect_eq "board 1 durable" "$(fl_json_get "$res" .durable)" false
alarm=$(fl_wevents "$watch" '.event == "journal"' | head -n 1)
[[ $(fl_json_get "$alarm" .journal.reason) == *"Input/output error"* ]] ||
	fail "alarm reason: $(fl_json_get "$alarm" .journal.reason)"
note "status while held: $(fl_ctl status | sed -n 2p)"
fl_board 2
fl_wait_state 3-1 paused 60
sleep 3
expect_eq "board 2 SDP uploads while held" "$(fl_uploads 2)" 0

dm_table linear
fl_wait_result 2-1 ok 60
fl_until 30 0.3 grep -q '"event":"durable"' "$watch" || fail "no durable event"
fl_wait_result 3-1 ok 240
last=$(fl_wevents "$watch" '.event == "journal"' | tail -n 1)
expect_eq "alarm cleared" "$(fl_json_get "$last" '[.journal.writable, .journal.backlog] | @tsv')" \
	"$(printf 'true\t0')"
grep -E "results journal|cut back" "$FL_LOG" >&2 || true
fl_stop

# what is on the device: every line whole, each record once, in order
umount "$jdir"
mount -t ext2 "$dev" "$jdir"
cp "$FL_JOURNAL" "$OUT/results-on-disk.jsonl"
expect_eq "lines on disk" "$(grep -c '' "$FL_JOURNAL")" 3
expect_eq "records on disk" "$(jq -r .port "$FL_JOURNAL" | tr '\n' ' ')" "1-1 2-1 3-1 "
grep -q "cut back to" "$FL_LOG" || fail "flashd did not cut the journal back after the EIO"
umount "$jdir"
dm remove fl-journal
losetup -d "$loopdev"
note "flashd-journal-eio: ok"
