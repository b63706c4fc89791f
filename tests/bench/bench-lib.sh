# shellcheck shell=bash
# tests/bench/bench-lib.sh: guest-side helpers of tests/bench/bench-guest (sourced
# after tests/vm/lib.sh). Everything measured goes to $OUT; the manifest
# $OUT/runs.jsonl has one JSON line per run: {"part","tool","n",...} plus the names of
# the files that hold the run's raw data.

BL_SOCK=$VM_TMP/flashd.sock
BL_CONF=$VM_TMP/flashd.conf
BL_FPID=''
BL_TAG=''
BL_UPID=''
BL_SAMPLER=''
BL_UDEVMON=''
BL_MARK_LOG=''
BL_MARK_FROM=0
BL_WATCH_FD=''
BL_WATCH_PID=''
BL_P4=$VM_TMP/p4

bl_on_exit() {
	local p
	for p in "$BL_SAMPLER" "$BL_UPID" "$BL_UDEVMON" "$BL_WATCH_PID"; do
		[[ -z $p ]] || kill -TERM "$p" 2>/dev/null || true
	done
	bl_flashd_stop >/dev/null 2>&1 || true
	umount "$BL_P4" 2>/dev/null || true
}
trap 'bl_on_exit; vm_on_exit' EXIT

# bl_init: defaults, checks, the guest's description ($OUT/guest.json)
bl_init() {
	: "${BENCH_DATA:?BENCH_DATA is not set (run tests/bench/bench)}"
	BENCH_RUNS=${BENCH_RUNS:-9}
	BENCH_LINK_MBPS=${BENCH_LINK_MBPS:-53}
	BENCH_NS=${BENCH_NS:-1 2 4 8}
	BENCH_EVENTS=${BENCH_EVENTS:-24}
	BENCH_UUU_EVENTS=${BENCH_UUU_EVENTS:-10}
	BENCH_HID_IGNORE=${BENCH_HID_IGNORE:-0}
	BENCH_P4_SIZES=${BENCH_P4_SIZES:-64M 1G 4G}
	BENCH_P2_TIMEOUT=${BENCH_P2_TIMEOUT:-300}
	BENCH_EMU_OPTS=${BENCH_EMU_OPTS:-}
	# the emulators' nice (0): -15 puts the boards' own work before the station's, as
	# a real board's silicon is (the part clients, issue 11)
	BENCH_EMU_NICE=${BENCH_EMU_NICE:-0}
	# CPU lists (taskset -c) for the emulators and for the station's processes
	# (flashd, udevd, the bench's clients); empty: unpinned. Apart, the boards get a
	# vCPU of their own, as real boards have their own silicon (the part clients)
	BENCH_EMU_CPUS=${BENCH_EMU_CPUS:-}
	BENCH_STATION_CPUS=${BENCH_STATION_CPUS:-}
	BL_STATION=()
	if [[ -n $BENCH_STATION_CPUS ]]; then
		BL_STATION=(taskset -c "$BENCH_STATION_CPUS")
		local u
		for u in $(pgrep -x systemd-udevd); do
			taskset -a -p -c "$BENCH_STATION_CPUS" "$u" >/dev/null
		done
	fi
	# flashd's nice, as systemd/flashd.service.in sets it (Nice=); uuu, its baseline
	# in P2, P3 and P6, runs at the same nice
	BENCH_FLASHD_NICE=${BENCH_FLASHD_NICE:--10}
	# the issue's rates (53 MB/s bus, 25 MB/s eMMC) are more than this bed's guest
	# moves for eight boards (docs/performance.md "P6"); 21/10 keeps their ratio
	BENCH_P6_BATCHES=${BENCH_P6_BATCHES:-8x1-21-10 4x1-21-10 4x2-21-10 8x1-53-25}
	BENCH_P6_TOOLS=${BENCH_P6_TOOLS:-on off uuu}
	BENCH_P6_VARIANTS=${BENCH_P6_VARIANTS:-one shortest whole big@8x1-53-25}
	BENCH_P6_ROUNDS=${BENCH_P6_ROUNDS:-1}
	BENCH_P6_EMMC_SIZE=${BENCH_P6_EMMC_SIZE:-512M}
	BENCH_P7_EVENTS=${BENCH_P7_EVENTS:-12}
	BENCH_P7_MODES=${BENCH_P7_MODES:-idle load reload storm}
	BENCH_P7_RELOAD_S=${BENCH_P7_RELOAD_S:-1}
	BENCH_P7_NICE=${BENCH_P7_NICE:-19}
	# flashd's defaults (flashd.conf(5)), written out so the pump can copy them
	BL_XFER_SIZE=${BENCH_XFER_SIZE:-262144}
	BL_XFERS=${BENCH_XFERS:-4}
	[[ -x $BUILDDIR/flashd && -x $BUILDDIR/flashctl ]] || fail "flashd is not built in $BUILDDIR"
	[[ -x $BUILDDIR/tests/bench/bulkpump ]] || fail "tests/bench/bulkpump is not built"
	need_emu
	: >"$OUT/runs.jsonl"
	jq -n --arg k "$(uname -r)" --argjson cpus "$(nproc)" \
		--argjson mem "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)" \
		--argjson usbfs "$(cat /sys/module/usbcore/parameters/usbfs_memory_mb)" \
		--argjson hz "$(getconf CLK_TCK)" --arg part "$BENCH_PART" \
		--argjson xs "$BL_XFER_SIZE" --argjson xn "$BL_XFERS" \
		--arg uuu "$(uuu 2>&1 | sed -n 's/.*-- *//p' | head -n 1)" \
		--arg fastboot "$(fastboot --version 2>/dev/null | head -n 1)" \
		--arg emu "$BENCH_EMU_OPTS" --argjson hid "$BENCH_HID_IGNORE" --argjson fnice "$BENCH_FLASHD_NICE" \
		--argjson enice "$BENCH_EMU_NICE" --arg ecpus "$BENCH_EMU_CPUS" --arg scpus "$BENCH_STATION_CPUS" \
		--argjson link "$BENCH_LINK_MBPS" \
		'{part: $part, kernel: $k, guest_cpus: $cpus, guest_mem_kib: $mem,
		  usbfs_memory_mb: $usbfs, clk_tck: $hz, xfer_size: $xs, xfers: $xn,
		  uuu: $uuu, fastboot: $fastboot, emu_opts: $emu, usbhid_ignores_rom: ($hid == 1), flashd_nice: $fnice, emu_nice: $enice,
		  emu_cpus: $ecpus, station_cpus: $scpus,
		  link_mbps: $link}' \
		>"$OUT/guest.json"
}

bl_finish() {
	sync
	note "bench part $BENCH_PART done"
}

# bl_run PART TOOL N [JSON-MEMBERS]: one manifest line
bl_run() {
	local extra=${4:-}
	printf '{"part":"%s","tool":"%s","n":%d%s}\n' "$1" "$2" "$3" "${extra:+,$extra}" \
		>>"$OUT/runs.jsonl"
}

# bl_mark_start LOG / bl_mark_end PART TOOL RUN [JSON-MEMBERS]: a run is the lines
# the board's log gained between the two calls
bl_mark_start() {
	BL_MARK_LOG=$1
	BL_MARK_FROM=$(wc -l <"$1")
}

bl_mark_end() {
	local to extra=${4:-}
	to=$(wc -l <"$BL_MARK_LOG")
	bl_run "$1" "$2" 1 "\"run\":$3,\"log\":\"${BL_MARK_LOG##*/}\",\"from\":$BL_MARK_FROM,\"to\":$to${extra:+,$extra}"
}

# bl_board K LOG [flashd-emu options]: start board K logging to LOG
bl_board() {
	local k=$1 log=$2
	shift 2
	# shellcheck disable=SC2086 # BENCH_EMU_OPTS is a word list
	start_board "$k" --log "$log" $BENCH_EMU_OPTS "$@"
	((BENCH_EMU_NICE == 0)) || renice -n "$BENCH_EMU_NICE" -p "${VM_BOARD_PID[$k]}" >/dev/null
	[[ -z $BENCH_EMU_CPUS ]] || taskset -a -p -c "$BENCH_EMU_CPUS" "${VM_BOARD_PID[$k]}" >/dev/null
}

# bl_clean_emmc N: drop the eMMC files of boards 0..N-1 (guest RAM)
bl_clean_emmc() {
	local k
	for ((k = 0; k < $1; k++)); do
		rm -f "$(board_emmc "$k")"
	done
}

# bl_check_emmc TAG K [SEEDDIR]: record whether board K's eMMC holds the seed images
# (of SEEDDIR, default the seed's copy in guest RAM) where the seed plan puts them
# (the file started empty: only these regions count)
bl_check_emmc() {
	local e s=${3:-$VM_TMP/seed} ok=true
	e=$(board_emmc "$2")
	cmp -s -n 512 "$e" "$s/mbr.bin" || ok=false
	cmp -s -n "$(stat -c %s "$s/u-boot.imx")" -i 1024:0 "$e" "$s/u-boot.imx" || ok=false
	cmp -s -n 8192 -i $((0xC0000)):0 "$e" "$s/env-zero.bin" || ok=false
	cmp -s -n "$(stat -c %s "$s/rootfs.ext4")" -i $((8 << 20)):0 "$e" "$s/rootfs.ext4" || ok=false
	echo "{\"tag\":\"$1\",\"board\":$2,\"emmc_ok\":$ok}" >>"$OUT/emmc-check.jsonl"
}

# bl_copy_seed [NAME]: the images and plans of BENCH_DATA/NAME (default seed) into
# guest RAM as VM_TMP/NAME (so that no run pays for 9p)
bl_copy_seed() {
	local d=${1:-seed}
	[[ -d $VM_TMP/$d ]] && return 0
	mkdir -p "$VM_TMP/$d"
	cp "$BENCH_DATA/$d"/*.imx "$BENCH_DATA/$d"/*.bin "$BENCH_DATA/$d"/*.lst \
		"$BENCH_DATA/$d"/rootfs.ext4 "$VM_TMP/$d/"
}

# bl_conf PLAN TAG: flashd.conf for one flashd run; journal and log named by TAG
bl_conf() {
	BL_TAG=$2
	{
		echo "socket = $BL_SOCK"
		echo "socket-group = root"
		echo "admin-group ="
		echo "journal = $VM_TMP/$BL_TAG.results.jsonl"
		echo "plan = $1"
		echo "settle = 200ms"
		echo "bootloop-guard = 0s"
		echo "reenum-timeout = 60s"
		echo "sdp-timeout = 10s"
		echo "flash-timeout-min = 120s"
		echo "usb-transfer-size = $BL_XFER_SIZE"
		echo "usb-transfers = $BL_XFERS"
		[[ -z ${BENCH_FLASHD_CONF:-} ]] || tr '|' '\n' <<<"$BENCH_FLASHD_CONF"
	} >"$BL_CONF"
	cp "$BL_CONF" "$OUT/$BL_TAG.flashd.conf"
}

bl_ready() {
	[[ -S $BL_SOCK ]] && timeout 20 "$BUILDDIR/flashctl" --socket "$BL_SOCK" status >/dev/null 2>&1
}

# bl_flashd_start: start flashd on $BL_CONF and wait until it answers (at
# --log-level BL_LOG_LEVEL, default info)
bl_flashd_start() {
	rm -f "$BL_SOCK"
	${BL_STATION[@]+"${BL_STATION[@]}"} nice -n "$BENCH_FLASHD_NICE" "$BUILDDIR/flashd" -c "$BL_CONF" --log-level "${BL_LOG_LEVEL:-info}" \
		2>>"$OUT/$BL_TAG.flashd.log" &
	BL_FPID=$!
	if ! wait_until 600 bl_ready; then
		kill -0 "$BL_FPID" 2>/dev/null || fail "flashd exited at start: $(tail -n 3 "$OUT/$BL_TAG.flashd.log")"
		fail "flashd does not answer on $BL_SOCK"
	fi
	note "flashd ready (pid $BL_FPID, $BL_TAG)"
}

# bl_flashd_stop: SIGTERM flashd, keep its journal
bl_flashd_stop() {
	local pid=$BL_FPID
	[[ -n $pid ]] || return 0
	BL_FPID=''
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until 20 eval "! kill -0 $pid 2>/dev/null"; then
		note "flashd: no exit 20 s after SIGTERM, killing"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	[[ ! -e $VM_TMP/$BL_TAG.results.jsonl ]] || cp "$VM_TMP/$BL_TAG.results.jsonl" "$OUT/"
}

bl_ok_results() {
	local n=0
	[[ -e $VM_TMP/$BL_TAG.results.jsonl ]] &&
		n=$(grep -c '"result":"ok"' "$VM_TMP/$BL_TAG.results.jsonl")
	((n >= $1))
}

# bl_wait_results N T: wait up to T s until flashd's journal holds N good results;
# a timeout is noted (the figures show it), not fatal
bl_wait_results() {
	wait_until "$2" bl_ok_results "$1" || note "flashd: fewer than $1 good results after $2 s"
}

# bl_result_watch: subscribe `flashctl watch` to flashd's events (BL_WATCH_FD,
# BL_WATCH_PID); returns once the snapshot arrived
bl_result_watch() {
	local fifo=$VM_TMP/watch.fifo
	# a fifo, not a process substitution: the guest has no /dev/fd
	rm -f "$fifo"
	mkfifo "$fifo"
	"$BUILDDIR/flashctl" --socket "$BL_SOCK" --json watch >"$fifo" 2>>"$OUT/$BL_TAG.watch.err" &
	BL_WATCH_PID=$!
	exec {BL_WATCH_FD}<"$fifo"
	read -r -t 20 _ <&"$BL_WATCH_FD" || fail "flashctl watch: no snapshot"
}

# bl_result_wait T: block (no polling) until flashd announces a result, at most T s;
# a timeout is noted (the figures show it), not fatal. Ends the watcher.
bl_result_wait() {
	timeout "$1" grep -m 1 -q '"event": *"result"' <&"$BL_WATCH_FD" ||
		note "flashd: no result within $1 s"
	kill -TERM "$BL_WATCH_PID" 2>/dev/null || true
	exec {BL_WATCH_FD}<&-
	BL_WATCH_PID=''
}

# bl_uuu_start PLAN TAG: uuu -d PLAN in the background (BL_UPID), output in guest
# RAM (a terminal would draw it; a file costs less)
bl_uuu_start() {
	BL_TAG=$2
	(cd "$VM_TMP" && exec nice -n "$BENCH_FLASHD_NICE" uuu -d "$1") >"$VM_TMP/$2.uuu.log" 2>&1 &
	BL_UPID=$!
	wait_until 30 grep -q 'Wait for Known USB' "$VM_TMP/$2.uuu.log" || fail "uuu did not start"
	note "uuu ready (pid $BL_UPID, $2)"
}

# bl_uuu_stop TAG: stop uuu, keep the lines of its output that count
bl_uuu_stop() {
	local pid=$BL_UPID
	BL_UPID=''
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	tr '\r' '\n' <"$VM_TMP/$1.uuu.log" | grep -a -E 'Success|Fail|Error|rror' | tail -n 20 \
		>"$OUT/$1.uuu.txt" || true
}

# bl_mem_sampler PID FILE: sample PID's memory every 0.2 s into FILE (BL_SAMPLER)
bl_mem_sampler() {
	local pid=$1 file=$2
	(
		trap - ERR EXIT
		set +e
		while [[ -r /proc/$pid/status ]]; do
			declare -A m=()
			while read -r k v _; do
				[[ -n ${k%:} ]] && m[${k%:}]=$v
			done <"/proc/$pid/status"
			printf '{"t_us":%s,"vmrss":%s,"rssanon":%s,"rssfile":%s,"rssshmem":%s,"vmhwm":%s}\n' \
				"${EPOCHREALTIME/./}" "${m[VmRSS]:-0}" "${m[RssAnon]:-0}" "${m[RssFile]:-0}" \
				"${m[RssShmem]:-0}" "${m[VmHWM]:-0}"
			sleep 0.2
		done
	) >"$file" &
	BL_SAMPLER=$!
}

# bl_status_mem PID: the memory lines of /proc/PID/status
bl_status_mem() {
	grep -E '^(Vm|Rss)' "/proc/$1/status"
}

# bl_hid_ignore: reload usbhid so that it leaves the i.MX6 boot ROMs alone
# (HID_QUIRK_IGNORE = 0x4): no kernel driver to detach before the first report.
# usbhid takes at most 4 quirks: 6Q, 6DL/S, 6SL, 6SX.
bl_hid_ignore() {
	local q='' pid
	for pid in 0054 0061 0063 0071; do
		q+=${q:+,}0x15a2:0x$pid:0x0004
	done
	modprobe -r hid_generic usbhid
	modprobe usbhid "quirks=$q"
	modprobe hid_generic
	note "usbhid reloaded with quirks=$q"
}

# bl_udevmon_start FILE: kernel and udev events of USB devices, time-stamped
# (CLOCK_MONOTONIC at reception, like the emulator's log) into FILE (BL_UDEVMON)
bl_udevmon_start() {
	udevadm monitor --kernel --udev --property --subsystem-match=usb/usb_device >"$1" 2>&1 &
	BL_UDEVMON=$!
	wait_until 10 grep -q 'UDEV - the event' "$1" || note "udevadm monitor: no banner"
}

bl_udevmon_stop() {
	local pid=$BL_UDEVMON
	BL_UDEVMON=''
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# bl_p4_image NAME BYTES: a raw image of BYTES in $BL_P4, zeros but for 16 runs of
# 1 MiB of random data spread evenly, and a plan that flashes it (raw -> sparse)
bl_p4_image() {
	local name=$1 bytes=$2 k step
	truncate -s "$bytes" "$BL_P4/$name.img"
	step=$((bytes / 16 >> 20))
	for ((k = 0; k < 16; k++)); do
		head -c 1M /dev/urandom |
			dd of="$BL_P4/$name.img" bs=1M seek=$((k * step)) conv=notrunc status=none
	done
	printf '%s\n' 'uuu_version 1.4.0' 'SDP: boot -f uboot-fastboot.imx' \
		"FB: flash -raw2sparse mmc0 $name.img" 'FB: done' >"$BL_P4/$name.lst"
}

# bl_p4_mount: an ext4 file system (on a sparse file in guest RAM) for the P4 images:
# a hole read through mmap costs a page-cache page there, which the kernel can reclaim
# (tmpfs would pin every page; the 9p share is too slow)
bl_p4_mount() {
	local s bytes total=0
	for s in $BENCH_P4_SIZES; do
		total=$((total + $(numfmt --from=iec "$s")))
	done
	modprobe loop
	modprobe ext4
	truncate -s $((total + (1 << 30))) "$VM_TMP/p4fs.img"
	mkfs.ext4 -q -E lazy_itable_init=1,lazy_journal_init=1 "$VM_TMP/p4fs.img"
	mkdir -p "$BL_P4"
	mount -o loop "$VM_TMP/p4fs.img" "$BL_P4"
	cp "$BENCH_DATA/seed/uboot-fastboot.imx" "$BL_P4/"
	for s in $BENCH_P4_SIZES; do
		bytes=$(numfmt --from=iec "$s")
		bl_p4_image "$s" "$bytes"
	done
	sync
	echo 3 >/proc/sys/vm/drop_caches
}
