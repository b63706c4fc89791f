#!/usr/bin/env bash
# emu-link: the emulator's --link-mbps (the paced link of make bench's P1) holds a
# download to that speed: AOSP fastboot sends 8 MiB to a board that takes 8 MB/s, and
# the board's log says the data took no less than 8 MiB / 8 MB/s. The download events
# carry the CPU figures the benchmark reads (guest busy/idle ticks, the board's CPU).
# vm-boards: 1
# vm-timeout: 120
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

log=$(board_log 0)
bytes=$((8 << 20))
mbps=8

random_file image.bin "$bytes"
start_board 0 --start fastboot --link-mbps "$mbps"
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
stop_board 0
