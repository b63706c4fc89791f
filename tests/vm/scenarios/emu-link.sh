#!/usr/bin/env bash
# emu-link: the emulator's --link-mbps (the paced link of make bench's P1) holds a
# download to that speed: AOSP fastboot sends 8 MiB to a board that takes 8 MB/s, and
# the board's log says the data took no less than 8 MiB / 8 MB/s. The download events
# carry the CPU figures the benchmark reads (guest busy/idle ticks, the board's CPU).
# --emmc-mbps as U-Boot does it: the flash command's OKAY goes out once the write is
# done, never overlapping the download. Boards on one bus (--bus-group, issue 15): two
# boards in a group at 8 MB/s, each taking 8 MiB from fastboot at the same time, take
# no less than 16 MiB / 8 MB/s together, and each board alone is faster than that.
# vm-boards: 2
# vm-timeout: 180
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

log=$(board_log 0)
bytes=$((8 << 20))
mbps=8

random_file image.bin "$bytes"
emmc_mbps=16
start_board 0 --start fastboot --link-mbps "$mbps" --emmc-mbps "$emmc_mbps"
wait_usb 0 0525:a4a5 20
serial=$(udev_prop 0 ID_SERIAL_SHORT)
run_client 60 fastboot -s "$serial" flash mmc0 image.bin
expect_bytes "$(board_emmc 0)" 0 image.bin

done_ev=$(events "$log" download-done ".bytes == $bytes" | tail -n 1)
[[ -n $done_ev ]] || fail "no download-done of $bytes bytes in the board's log"
ms=$(jq -r .ms <<<"$done_ev")
floor=$((bytes / (mbps * 1000))) # ms at 10^6 B/s per MB/s
note "8 MiB at --link-mbps $mbps took $ms ms (the link's time: $floor ms)"
((ms >= floor)) || fail "the board took $bytes bytes in $ms ms, faster than $mbps MB/s ($floor ms)"

start_ev=$(events "$log" download ".size == $bytes" | tail -n 1)
for ev in "$start_ev" "$done_ev"; do
	jq -e '(.cpu_busy | type) == "number" and (.cpu_idle | type) == "number" and
		(.self_cpu_us | type) == "number"' <<<"$ev" >/dev/null ||
		fail "download event without CPU figures: $ev"
done
jq -e -n --argjson s "$start_ev" --argjson d "$done_ev" \
	'$d.cpu_busy + $d.cpu_idle > $s.cpu_busy + $s.cpu_idle and $d.self_cpu_us >= $s.self_cpu_us' \
	>/dev/null || fail "the CPU figures did not advance over the download: $start_ev / $done_ev"

# --emmc-mbps: the write happens inside the flash command, after the download
flash_ev=$(events "$log" flash '.part == "mmc0" and .result == "OKAY"' | tail -n 1)
[[ -n $flash_ev ]] || fail "no flash of mmc0 in the board's log"
fms=$(jq -r .ms <<<"$flash_ev")
wfloor=$((bytes / (emmc_mbps * 1000)))
note "the flash of 8 MiB at --emmc-mbps $emmc_mbps took $fms ms (the medium's time: $wfloor ms)"
((fms >= wfloor)) || fail "8 MiB written in $fms ms, faster than $emmc_mbps MB/s ($wfloor ms)"
jq -e -n --argjson d "$done_ev" --argjson f "$flash_ev" '$d.ts <= $f.ts - $f.ms * 1000000' \
	>/dev/null || fail "the eMMC write began before the download ended: $done_ev / $flash_ev"
reply_ev=$(jq -cR --argjson f "$flash_ev" 'fromjson? | select(.ev == "fb-reply" and .ts >= $f.ts)' \
	"$log" | head -n 1)
[[ $(jq -r .reply <<<"$reply_ev") == OKAY ]] ||
	fail "the flash command's reply is not an OKAY sent after the write: $reply_ev"
stop_board 0

# --bus-group: boards 0 and 1 on one bus at 8 MB/s (the segment goes when both exit)
group=emu-link
bus_mbps=8
declare -a serial join_ts alone_ms
for k in 0 1; do
	start_board "$k" --start fastboot --bus-group "$group" --bus-mbps "$bus_mbps"
done
for k in 0 1; do
	wait_usb "$k" 0525:a4a5 20
	serial[k]=$(udev_prop "$k" ID_SERIAL_SHORT)
	join_ts[k]=$(events "$(board_log "$k")" bus-join | tail -n 1 | jq -r .ts)
	[[ -n ${join_ts[k]} ]] || fail "board $k did not log its bus-join"
	random_file "image$k.bin" "$bytes"
done
[[ ${serial[0]} != "${serial[1]}" ]] || fail "both boards have the serial ${serial[0]}"

# each board alone on the bus
for k in 0 1; do
	run_client 60 fastboot -s "${serial[k]}" flash mmc0 "image$k.bin"
	ev=$(events "$(board_log "$k")" download-done ".bytes == $bytes and .ts > ${join_ts[k]}" |
		tail -n 1)
	[[ -n $ev ]] || fail "board $k: no download-done of $bytes bytes in the group"
	alone_ms[k]=$(jq -r .ms <<<"$ev")
	note "board $k alone on the bus: 8 MiB in ${alone_ms[k]} ms"
	((alone_ms[k] >= bytes / (bus_mbps * 1000))) ||
		fail "board $k alone took 8 MiB faster than $bus_mbps MB/s"
	join_ts[k]=$(jq -r .ts <<<"$ev") # the next round's events come after it
done
before=$(events "$(board_log 1)" bus '.at == "download-done"' | tail -n 1)

# both at once
pids=()
for k in 0 1; do
	run_client 60 fastboot -s "${serial[k]}" flash mmc0 "image$k.bin" \
		>"$OUT/fastboot-bus$k.txt" 2>&1 &
	pids[k]=$!
done
for k in 0 1; do
	wait "${pids[k]}" || fail "fastboot to board $k failed: $(cat "$OUT/fastboot-bus$k.txt")"
done
for k in 0 1; do
	expect_bytes "$(board_emmc "$k")" 0 "image$k.bin"
done
first=
last=
for k in 0 1; do
	l=$(board_log "$k")
	s=$(events "$l" download ".size == $bytes and .ts > ${join_ts[k]}" | tail -n 1 | jq -r .ts)
	d=$(events "$l" download-done ".bytes == $bytes and .ts > ${join_ts[k]}" | tail -n 1)
	[[ -n $s && -n $d ]] || fail "board $k: no download of $bytes bytes with both on the bus"
	note "board $k with both on the bus: 8 MiB in $(jq -r .ms <<<"$d") ms"
	d=$(jq -r .ts <<<"$d")
	if [[ -z $first ]] || ((s < first)); then first=$s; fi
	if [[ -z $last ]] || ((d > last)); then last=$d; fi
done
group_ms=$(((last - first) / 1000000))
gfloor=$((2 * bytes / (bus_mbps * 1000)))
note "two boards on one $bus_mbps MB/s bus: 16 MiB in $group_ms ms (the bus's time: $gfloor ms)"
((group_ms >= gfloor)) ||
	fail "the group took 16 MiB in $group_ms ms, faster than its $bus_mbps MB/s ($gfloor ms)"
for k in 0 1; do
	((alone_ms[k] < group_ms)) ||
		fail "board $k alone (${alone_ms[k]} ms) was not faster than the group ($group_ms ms)"
done

# the group's totals in the log: all four downloads, never more than the budget
after=$(for k in 0 1; do events "$(board_log "$k")" bus '.at == "download-done"'; done |
	jq -s -c 'max_by(.ts)')
note "bus totals before the joint round: $before; after: $after"
jq -e -n --argjson b "$before" --argjson a "$after" --argjson n "$bytes" --argjson r "$bus_mbps" \
	'$a.bytes == 4 * $n and $a.bytes - $b.bytes == 2 * $n and $a.mbps == $r and
	 $a.busy_ns * $r >= $a.bytes * 1000 and $a.wait_ns > $b.wait_ns' >/dev/null ||
	fail "the bus's totals are not 4 downloads of $bytes bytes at $bus_mbps MB/s: $after"
for k in 0 1; do
	stop_board "$k"
done
