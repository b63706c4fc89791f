#!/usr/bin/env bash
# flashd-bus: bus scheduling (issue 15; flashd.conf(5) "Bus scheduling"). Three blank
# boards in one emulated bus group (flashd-emu --bus-group: one 20 MB/s budget for the
# data they take, eMMC at 10 MB/s), named as one bus in flashd.conf (`bus line = 1-1
# 2-1 3-1`: on the bed each board has a dummy_hcd bus of its own, so sysfs cannot tell).
# With bus-scheduling on and one download at a time (bus-downloads = 1; the default is
# 2): all three end ok with eMMCs byte for byte
# expected-emmc.img, and by the boards' own logs (the emulator's "download" event when
# it answers DATA, "download-done" when the last byte came, CLOCK_MONOTONIC ns) no two
# downloads of more than bus-small (64 KiB here) overlapped in time, and the rootfs
# went in pieces of at most bus-piece (1 MiB here, below max-download-size 4 MiB);
# flashd logged the waits at debug. Then the same with
# bus-scheduling = off on fresh boards: all ok, and downloads do overlap (what the
# check above would catch). Each run's span (first start to last end) is printed.
# vm-boards: 3
# vm-timeout: 900
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed

# dl_intervals FILE K: "start end K" (ns) for each download of more than 64 KiB
# (bus-small, set below: smaller ones never wait) board K took
dl_intervals() {
	jq -rR 'fromjson? | select((.ev == "download" and .size > 65536) or
		(.ev == "download-done" and .bytes > 65536)) | "\(.ev) \(.ts)"' \
		"$1" | awk -v k="$2" '$1 == "download" { s = $2 } $1 == "download-done" { print s, $2, k }'
}

# overlaps FILE...: how many downloads of more than 64 KiB began before another
# board's ended
overlaps() {
	local k=0 f
	for f in "$@"; do
		dl_intervals "$f" "$k"
		k=$((k + 1))
	done | sort -n | awk '
		{ if (n && $1 < maxend && $3 != maxk) o++
		  if ($2 > maxend) { maxend = $2; maxk = $3 }
		  n++ }
		END { print o + 0 }'
}

# run_batch GROUP LABEL N: boards 0-2 in bus group GROUP, all ok (each port's Nth ok
# record), eMMCs checked; their logs kept as $OUT/boardK-LABEL.jsonl
run_batch() {
	local group=$1 label=$2 nth=$3 k p first='' last='' s e
	for k in 0 1 2; do
		rm -f "$(board_emmc "$k")" "$(board_emmc "$k")".*
		: >"$(board_log "$k")"
		fl_board "$k" --bus-group "$group" --bus-mbps 20 --emmc-mbps 10
	done
	for k in 0 1 2; do
		p=$(usb_port "$k")
		fl_wait_result "$p" ok 600 "$nth"
		s=$(fl_json_get "$FL_REC" .start_ms)
		e=$(fl_json_get "$FL_REC" .end_ms)
		[[ -n $first && $first -le $s ]] || first=$s
		[[ -n $last && $last -ge $e ]] || last=$e
		note "$label: board $k ok in $((e - s)) ms"
	done
	for k in 0 1 2; do
		wait_event "$(board_log "$k")" boot '.result == "booted"' 60 >/dev/null ||
			fail "$label: board $k did not boot what was flashed"
		fl_expect_emmc "$k"
		stop_board "$k"
		cp "$(board_log "$k")" "$OUT/board$k-$label.jsonl"
	done
	note "$label: the batch took $((last - first)) ms"
}

fl_conf "bus line=$(usb_port 0) $(usb_port 1) $(usb_port 2)" bus-scheduling=on bus-piece=1M \
	bus-downloads=1 bus-small=64K
grep -Fx "bus line = 1-1 2-1 3-1" "$FL_CONF" >/dev/null || fail "fl_conf did not write the bus line"
fl_start
run_batch g1 on 1
n=$(overlaps "$OUT/board0-on.jsonl" "$OUT/board1-on.jsonl" "$OUT/board2-on.jsonl")
downloads=$(cat "$OUT"/board[012]-on.jsonl | jq -cR 'fromjson? | select(.ev == "download")' | wc -l)
biggest=$(cat "$OUT"/board[012]-on.jsonl | jq -R 'fromjson? | select(.ev == "download") | .size' | sort -n | tail -n 1)
note "scheduling on: $downloads downloads (the largest $biggest bytes), $n overlapping"
# the rootfs holds 8 MiB of random data (mkseed, FL_ROOTFS_MIB 32): at least 6
# pieces of 1 MiB each, against 3 of max-download-size (4 MiB)
((downloads >= 3 * (3 + 6))) ||
	fail "scheduling on: only $downloads downloads (the rootfs goes in pieces of at most bus-piece, 1 MiB)"
((biggest <= 1048576)) || fail "scheduling on: a download of $biggest bytes, more than bus-piece (1 MiB)"
expect_eq "scheduling on: overlapping downloads" "$n" 0
grep -F "waits for its turn on the bus" "$FL_LOG" >/dev/null ||
	fail "scheduling on: flashd logged no download waiting for the bus"
fl_stop

fl_conf "bus line=$(usb_port 0) $(usb_port 1) $(usb_port 2)" bus-scheduling=off
fl_start
waits=$(grep -cF "waits for its turn on the bus" "$FL_LOG" || true)
run_batch g2 off 2
n=$(overlaps "$OUT/board0-off.jsonl" "$OUT/board1-off.jsonl" "$OUT/board2-off.jsonl")
note "scheduling off: $n overlapping downloads"
((n > 0)) || fail "scheduling off: no downloads overlapped (the check could not tell)"
expect_eq "scheduling off: waits logged" "$(grep -cF "waits for its turn on the bus" "$FL_LOG" || true)" "$waits"
fl_stop
note "flashd-bus: ok"
