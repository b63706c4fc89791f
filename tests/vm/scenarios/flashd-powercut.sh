#!/usr/bin/env bash
# flashd-powercut: the results journal across power cuts (issue 11, "Power cut").
# flashd keeps its journal on ext4 over a dm-log-writes target (drivers/md/
# dm-log-writes.c: every write the filesystem sends to the device, in completion
# order, with its FLUSH/FUA flags, is logged to a second device). Two boards answer
# FAIL to their first flash command four times each (flashd-emu --fault-fail: 8
# FAILED records, appended while the other board runs), then both are flashed to the
# end ("ok"). Each
# result a watcher sees (flashd publishes it only after journal_append's fdatasync)
# is logged as a mark "ack:PORT:START_MS". Then tests/vm/logreplay.py replays the log
# onto the filesystem as it was before flashd started and, at every flush point (a
# state a power cut can leave), mounts it and checks the journal: only the last line
# may be torn (flashd cuts it at start), every record acknowledged before that point
# is there, and no record is lost or changed later.
# vm-boards: 2
# vm-timeout: 900
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
export DM_DISABLE_UDEV=1 # libdevmapper makes the /dev/mapper node itself
pc=$VM_TMP/powercut
mkdir -p "$pc/mnt"
truncate -s 8M "$pc/data.img"
truncate -s 1G "$pc/log.img"
mkfs.ext4 -q -F -E nodiscard "$pc/data.img"
cp "$pc/data.img" "$pc/base.img"
data_dev=$(losetup -f --show "$pc/data.img")
log_dev=$(losetup -f --show "$pc/log.img")
dmsetup create --noudevsync flashd-lw \
	--table "0 $(blockdev --getsz "$data_dev") log-writes $data_dev $log_dev"
mount -t ext4 /dev/mapper/flashd-lw "$pc/mnt"
mkdir "$pc/mnt/flashd"
FL_JOURNAL=$pc/mnt/flashd/results.jsonl

fl_conf "journal=$FL_JOURNAL"
fl_start
fl_watch "$OUT/watch.ndjson"
# every result flashd publishes: a mark in the write log, after the flush that made
# its record durable
(
	tail -n +1 -F "$OUT/watch.ndjson" 2>/dev/null | while IFS= read -r line; do
		[[ $line == *'"event":"result"'* ]] || continue
		[[ $line =~ \"port\":\"([^\"]+)\" ]] || continue
		port=${BASH_REMATCH[1]}
		[[ $line =~ \"start_ms\":([0-9]+) ]] || continue
		dmsetup message flashd-lw 0 mark "ack:$port:${BASH_REMATCH[1]}"
		echo "ack:$port:${BASH_REMATCH[1]}" >>"$OUT/acks.txt"
	done
) &
acker=$!

for cycle in 1 2 3 4; do
	for k in 0 1; do
		fl_board "$k" --fault-fail 'flash:*'
	done
	for k in 0 1; do
		fl_wait_result "$(usb_port "$k")" failed 120 "$cycle"
		stop_board "$k"
		fl_wait_state "$(usb_port "$k")" empty 20
	done
done
for k in 0 1; do
	fl_board "$k"
done
for k in 0 1; do
	fl_wait_result "$(usb_port "$k")" ok 400
	fl_expect_emmc "$k"
done
fl_until 20 0.5 eval '(($(wc -l <"$OUT/acks.txt") >= 10))' ||
	fail "the watcher saw $(wc -l <"$OUT/acks.txt") results, want 10"
fl_stop
kill "$acker" 2>/dev/null || true
cp "$FL_JOURNAL" "$OUT/results.jsonl"
umount "$pc/mnt"
dmsetup remove flashd-lw # logs its end mark and the entry count
losetup -d "$data_dev" "$log_dev"

python3 "$SRCDIR/tests/vm/logreplay.py" "$pc/log.img" "$pc/base.img" "$pc/work.img" "$pc/snap.img" \
	flashd/results.jsonl >"$OUT/replay.txt" || fail "replay: $(tail -n 3 "$OUT/replay.txt")"
summary=$(tail -n 1 "$OUT/replay.txt")
note "$summary"
[[ $summary =~ ([0-9]+)\ points\ checked,\ ([0-9]+)\ marks,\ ([0-9]+)\ records ]] ||
	fail "replay summary: $summary"
((BASH_REMATCH[1] >= 10)) || fail "only ${BASH_REMATCH[1]} flush points"
expect_eq "records at the last point" "${BASH_REMATCH[3]}" 10
note "flashd-powercut: ok"
