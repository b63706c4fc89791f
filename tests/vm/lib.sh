# shellcheck shell=bash
# tests/vm/lib.sh: helpers for scenarios running inside the test-bed guest.
# Source it first thing: . "$VM_LIB". It installs an ERR/EXIT handler (the first
# failure becomes the scenario's FAIL reason; boards still running are stopped).
#
# Environment (set by tests/vm/run): SRCDIR BUILDDIR OUT (writable, kept on failure)
# NBOARDS EMU (flashd-emu) VM_TMP (scratch folder in guest RAM) SCENARIO_NAME.
#
# Network ("# vm-net: PORT" near the scenario's top): the guest has a virtio NIC on
# QEMU's user network with restrict=on (it reaches nothing outside), address
# VM_NET_ADDR (10.0.2.15), and the host's 127.0.0.1:VM_NET_HOSTPORT is forwarded to
# VM_NET_PORT on that address: a server must listen on VM_NET_ADDR (or 0.0.0.0) and
# VM_NET_PORT (or vm_net_relay relays it to one on the guest's 127.0.0.1); forwarded
# connections come from 10.0.2.2. Nothing else of the host is
# reachable, and tests/vm/run fails the scenario if QEMU or the companion below
# listens on anything but the host's loopback.
#
# Host companion ("# vm-host: tests/vm/host/NAME"): tests/vm/run starts that program on
# the host while the guest boots (environment: see tests/vm/host/lib.sh); its exit
# status counts in the scenario's result. Guest and companion synchronise through
# files in the result share (the guest's /run/vm, the companion's VM_SHARE), each
# written to a temporary name and renamed, so it appears whole:
#   phase-NAME   guest -> host: the guest reached NAME (vm_phase NAME [TEXT]); the
#                companion waits with host_wait_phase NAME T
#   host-NAME    host -> guest: the companion reached NAME (host_mark NAME [TEXT]);
#                the guest waits with vm_wait_host NAME T, which prints TEXT
#   host-status  written by tests/vm/run when the companion exits (its status): a
#                guest waiting for a host-NAME that will never come fails at once
#   status       the guest's result (tests/vm/guest, last): a companion waiting for a
#                phase fails at once when it appears
# NAME is [A-Za-z0-9_.-]+. A guest that needs the companion's last word waits for it
# (e.g. vm_wait_host finished) before it ends: the companion is killed 10 s after the guest.
#
# Boards are numbered 0..NBOARDS-1; board K is on dummy_udc.K and shows up on the host
# side as USB port "K+1-1" (bus K+1, root port 1).

set -eEuo pipefail

VM_SHARE=/run/vm
declare -A VM_BOARD_PID=()

VM_T0=${EPOCHREALTIME/./}
# note MSG...: a line in the scenario log, with the seconds since the scenario started
note() {
	local us=$((${EPOCHREALTIME/./} - VM_T0))
	printf '# [%d.%02d] %s\n' $((us / 1000000)) $((us % 1000000 / 10000)) "$*" >&2
}

# vm_reason MSG: record MSG as the FAIL reason unless one is recorded already
vm_reason() {
	[[ -s $VM_SHARE/reason ]] || echo "$*" >"$VM_SHARE/reason"
}

# fail MSG...: stop the scenario; MSG is what tests/vm/run prints after FAIL
fail() {
	echo "FAIL: $*" >&2
	vm_reason "$*"
	exit 1
}

# the ERR trap: only the scenario's own shell names the failing command (a command that
# fails inside $(…) or a pipeline is reported where its caller fails, if it does)
vm_on_err() {
	[[ $BASHPID == "$$" ]] || return 0
	vm_reason "line $1: $2"
}

vm_on_exit() {
	local k
	[[ -z ${VM_NET_RELAY_PID:-} ]] || kill "$VM_NET_RELAY_PID" 2>/dev/null || true
	for k in "${!VM_BOARD_PID[@]}"; do
		stop_board "$k" || true
	done
}

trap 'vm_on_err "$LINENO" "$BASH_COMMAND"' ERR
trap vm_on_exit EXIT

# vm_sync_name NAME: fail unless NAME is a valid phase/mark name
vm_sync_name() {
	[[ $1 =~ ^[A-Za-z0-9_.-]+$ ]] || fail "bad phase name '$1'"
}

# vm_phase NAME [TEXT]: tell the host companion the guest reached NAME (/run/vm/phase-NAME,
# holding TEXT)
vm_phase() {
	vm_sync_name "$1"
	printf '%s\n' "${2:-}" >"$VM_SHARE/.phase-$1.tmp"
	mv "$VM_SHARE/.phase-$1.tmp" "$VM_SHARE/phase-$1"
	note "phase $1${2:+: $2}"
}

# vm_wait_host NAME TIMEOUT: wait until the host companion marks NAME (host_mark); print
# the text it wrote. Fails at the timeout, or as soon as the companion has exited
# without marking NAME (its status and reason in the message).
vm_wait_host() {
	local n=$1 t=$2 f=$VM_SHARE/host-$1
	vm_sync_name "$n"
	[[ -n ${VM_HOST:-} ]] || fail "vm_wait_host $n: the scenario has no '# vm-host:' companion"
	if ! wait_until "$t" eval "[[ -e '$f' || -e '$VM_SHARE/host-status' ]]"; then
		fail "the host companion did not mark '$n' within ${t}s"
	fi
	if [[ ! -e $f ]]; then
		fail "the host companion exited (status $(<"$VM_SHARE/host-status")) without marking '$n'$(
			[[ ! -s $VM_SHARE/host-reason ]] || echo ": $(head -n 1 "$VM_SHARE/host-reason")")"
	fi
	note "host: $n"
	cat "$f"
}

# vm_listening PORT: status 0 if something in the guest listens on TCP port PORT
vm_listening() {
	[[ -n $(ss -Hltn "sport = :$1") ]]
}

# vm_net_relay PORT: relay the forwarded VM_NET_PORT to the guest's 127.0.0.1:PORT, for a
# server that listens on the loopback only (flashd-web's default 127.0.0.1:9477: use
# "# vm-net: 9478" and vm_net_relay 9477). busybox nc, one process pair a connection,
# bytes passed as they come (SSE streams too); it listens on all the guest's addresses,
# which only the forward reaches. Stopped at exit.
vm_net_relay() {
	[[ -n ${VM_NET_PORT:-} ]] || fail "vm_net_relay: the scenario has no '# vm-net: PORT' line"
	[[ $1 != "$VM_NET_PORT" ]] || fail "vm_net_relay: relay to another port than $VM_NET_PORT"
	busybox nc -ll -p "$VM_NET_PORT" -e busybox nc 127.0.0.1 "$1" </dev/null >&2 &
	VM_NET_RELAY_PID=$!
	wait_until 10 vm_listening "$VM_NET_PORT" ||
		fail "vm_net_relay: nothing listens on port $VM_NET_PORT"
	note "relay: port $VM_NET_PORT (forwarded) -> 127.0.0.1:$1"
}

# usb_port K: the host-side port (sysfs name) of board K
usb_port() { echo "$(($1 + 1))-1"; }
# usb_sys K: sysfs folder of the device on board K's port
usb_sys() { echo "/sys/bus/usb/devices/$(usb_port "$1")"; }
board_log() { echo "$OUT/board$1.jsonl"; }
board_emmc() { echo "$VM_TMP/emmc$1.img"; }

# need_emu: fail unless the emulator is built
need_emu() {
	[[ -x $EMU ]] || fail "flashd-emu is not built ($EMU)"
}

# start_board K [flashd-emu options...]: start the emulator for board K in the
# background (log board_log K, eMMC board_emmc K, name boardK); later options win
start_board() {
	local k=$1
	shift
	need_emu
	[[ -z ${VM_BOARD_PID[$k]:-} ]] || fail "board $k is already running"
	((k >= 0 && k < NBOARDS)) || fail "board $k: the guest has $NBOARDS ports"
	"$EMU" --udc "dummy_udc.$k" --name "board$k" --log "$(board_log "$k")" \
		--emmc "$(board_emmc "$k")" "$@" >>"$OUT/board$k.out" 2>&1 &
	VM_BOARD_PID[$k]=$!
	note "board $k: flashd-emu $* (pid ${VM_BOARD_PID[$k]})"
}

# proc_stat PID N...: fields N... of proc(5)'s /proc/PID/stat (1-based, as the
# manual numbers them), one a line; the command name may hold spaces
proc_stat() {
	local s n
	local -a fld
	s=$(<"/proc/$1/stat")
	shift
	read -ra fld <<<"${s##*) }" # fld[0] is field 3
	for n; do
		echo "${fld[n - 3]}"
	done
}

# cpu_ticks PID: user + system clock ticks of PID so far (fields 14 and 15)
cpu_ticks() {
	local v
	# no process substitution here: a guest without systemd has no /dev/fd
	v=$(proc_stat "$1" 14 15)
	echo $((${v%%$'\n'*} + ${v##*$'\n'}))
}

# board_running K: status 0 while board K's emulator runs
board_running() {
	[[ -n ${VM_BOARD_PID[$1]:-} ]] && kill -0 "${VM_BOARD_PID[$1]}" 2>/dev/null
}

# wait_board_exit K TIMEOUT: wait for board K's emulator to exit by itself; the
# status is the emulator's (124 on timeout, the emulator keeps running then)
wait_board_exit() {
	local k=$1 t=$2 pid rc=0
	pid=${VM_BOARD_PID[$k]:-}
	[[ -n $pid ]] || fail "board $k was not started"
	wait_until "$t" eval "! kill -0 $pid 2>/dev/null" || return 124
	wait "$pid" || rc=$?
	unset "VM_BOARD_PID[$k]"
	return "$rc"
}

# stop_board K: SIGTERM board K's emulator, SIGKILL after 5 s; status 0
stop_board() {
	local k=$1 pid
	pid=${VM_BOARD_PID[$k]:-}
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_until 5 eval "! kill -0 $pid 2>/dev/null"; then
		note "board $k: no exit 5 s after SIGTERM, killing"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	unset "VM_BOARD_PID[$k]"
}

# wait_until TIMEOUT CMD...: run CMD every 0.1 s until it succeeds; status 1 on timeout
wait_until() {
	local t=$1 end
	shift
	end=$((SECONDS + t))
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

# events LOG EV [FILTER]: print (compact JSON, one a line) every EV event of LOG for
# which the jq expression FILTER (default true) holds; torn lines are skipped
events() {
	local log=$1 ev=$2 filter=${3:-true}
	[[ -e $log ]] || return 0
	jq -cR --arg ev "$ev" "fromjson? | select(.ev == \$ev) | select($filter)" "$log"
}

# count_events LOG EV [FILTER]: how many events match
count_events() {
	events "$@" | wc -l
}

# vm_first_event LOG EV [FILTER]: the first matching event; jq (slow to start under
# TCG) runs only once the log mentions EV at all
vm_first_event() {
	local line
	[[ -e $1 && $(<"$1") == *"\"ev\":\"$2\""* ]] || return 1
	line=$(events "$@" | head -n 1)
	[[ -n $line ]] && echo "$line"
}

# wait_event LOG EV [FILTER] TIMEOUT: wait for an EV event of LOG matching FILTER (a
# jq boolean over the event, e.g. '.phase == "fastboot"'); print the first match
wait_event() {
	local log=$1 ev=$2 filter=true t
	if (($# == 4)); then
		filter=$3
		t=$4
	else
		t=${3:?wait_event LOG EV [FILTER] TIMEOUT}
	fi
	if ! wait_until "$t" vm_first_event "$log" "$ev" "$filter" >/dev/null; then
		echo "wait_event: no \"$ev\" event with ($filter) in $log after ${t}s" >&2
		return 1
	fi
	vm_first_event "$log" "$ev" "$filter"
}

# wait_phase K PHASE TIMEOUT: wait until board K logs phase PHASE
wait_phase() {
	wait_event "$(board_log "$1")" phase ".phase == \"$2\"" "$3" >/dev/null
}

# usb_id K: "vid:pid" of the device on board K's port, or nothing
usb_id() {
	local d
	d=$(usb_sys "$1")
	[[ -r $d/idVendor && -r $d/idProduct ]] || return 1
	echo "$(<"$d/idVendor"):$(<"$d/idProduct")"
}

vm_usb_is() {
	[[ $(usb_id "$1" 2>/dev/null) == "$2" ]]
}

vm_usb_absent() {
	[[ ! -e $(usb_sys "$1") ]]
}

# wait_usb K VID:PID TIMEOUT: wait until that device is on board K's port and udev has
# processed it
wait_usb() {
	if ! wait_until "$3" vm_usb_is "$1" "$2"; then
		echo "wait_usb: no $2 on port $(usb_port "$1") after ${3}s (have: $(usb_id "$1" || echo none))" >&2
		return 1
	fi
	udevadm settle --timeout=10
}

# wait_usb_gone K TIMEOUT: wait until board K's port is empty
wait_usb_gone() {
	if ! wait_until "$2" vm_usb_absent "$1"; then
		echo "wait_usb_gone: port $(usb_port "$1") still has $(usb_id "$1" || echo '?') after ${2}s" >&2
		return 1
	fi
}

# udev_prop K NAME: a udev property of the device on board K's port
udev_prop() {
	udevadm info -q property -p "$(usb_sys "$1")" | sed -n "s/^$2=//p"
}

# run_client TIMEOUT CMD...: run a client program with a hard time limit (its output
# goes to the scenario log); the status is the client's (124 when killed)
run_client() {
	local t=$1
	shift
	note "run: $*"
	timeout -k 3 "$t" "$@"
}

# fastboot_reboot_board K: "fastboot reboot" (AOSP's client, by the board's USB serial)
# to board K, which must then boot (its flashd-emu run ends: --exit-when booted) within
# 30 s; the client's output is appended to OUT/fastboot.txt
fastboot_reboot_board() {
	local k=$1 s
	s=$(<"$(usb_sys "$k")/serial")
	run_client 30 fastboot -s "$s" reboot >>"$OUT/fastboot.txt" 2>&1 ||
		fail "fastboot reboot of board $k failed: $(cat "$OUT/fastboot.txt")"
	wait_board_exit "$k" 30 || fail "board $k did not boot after the reboot"
}

# random_file FILE BYTES: BYTES random bytes
random_file() {
	head -c "$2" /dev/urandom >"$1"
}

# file_crc FILE: CRC-32 (as cksum -a crc32b would print it: 8 hex digits) of FILE
file_crc() {
	gzip -c <"$1" | tail -c 8 | od -An -tx4 -N4 | tr -d ' \n'
	echo
}

# expect_eq WHAT GOT WANT: fail unless GOT == WANT
expect_eq() {
	[[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"
}

# expect_bytes FILE OFFSET EXPECTED: the bytes of FILE at OFFSET equal EXPECTED's
expect_bytes() {
	local f=$1 off=$2 exp=$3 n
	n=$(stat -c %s "$exp")
	cmp -n "$n" -i "$off:0" "$f" "$exp" >&2 ||
		fail "$f: bytes at $off differ from $(basename "$exp")"
}

# make_imx OUT PAYLOAD ENTRY: an i.MX image (mkimage -T imximage, IVT v2, boot from SD)
# whose DCD does what a real one must before DRAM works on the emulated board: gate
# clocks on, MMDC configuration request/acknowledge handshake, MDCTL.SDE_0. PAYLOAD
# lands at ENTRY (DRAM: 0x1xxxxxxx on 6Q/DL/SL, 0x8xxxxxxx on 6SX/UL/ULL).
make_imx() {
	local out=$1 payload=$2 entry=$3
	cat >"$out.cfg" <<'CFG'
IMAGE_VERSION 2
BOOT_FROM sd
DATA 4 0x020c4068 0x00c03f3f
DATA 4 0x021b001c 0x00008000
CHECK_BITS_SET 4 0x021b001c 0x00004000
DATA 4 0x021b0000 0x831a0000
DATA 4 0x021b001c 0x00000000
CFG
	mkimage -T imximage -n "$out.cfg" -e "$entry" -d "$payload" "$out" >"$out.mkimage.txt" ||
		fail "mkimage failed: $(cat "$out.mkimage.txt")"
}

# le32 N: N as 4 little-endian bytes (printf escapes)
vm_le32() {
	printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) \
		$(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

# make_mbr OUT START SECTORS [TYPE]: a 512-byte DOS MBR with one primary partition
# (type TYPE, default 0x83) of SECTORS 512-byte sectors from LBA START; in U-Boot
# (and flashd-emu) it is partition 1, "mmcsda1"
make_mbr() {
	local out=$1 start=$2 sectors=$3 type=${4:-0x83} entry
	# shellcheck disable=SC2059 # the format is built from escapes on purpose
	entry=$(printf '\\x00\\xfe\\xff\\xff\\x%02x\\xfe\\xff\\xff%s%s' "$type" \
		"$(vm_le32 "$start")" "$(vm_le32 "$sectors")")
	{
		head -c 440 /dev/zero
		printf '\x46\x4c\x53\x44\x00\x00' # disk signature "FLSD", reserved
		# shellcheck disable=SC2059
		printf "$entry"
		head -c 48 /dev/zero
		printf '\x55\xaa'
	} >"$out"
	[[ $(stat -c %s "$out") == 512 ]] || fail "make_mbr: bad size"
}

# make_spl OUT SIZE: an SPL-shaped i.MX image as U-Boot builds it for i.MX6
# (arch/arm/mach-imx: mkimage -T imximage, IVT v2, no DCD, entry CONFIG_SPL_TEXT_BASE
# 0x00908000 in OCRAM, so IVT self 0x00907400); random code, SIZE bytes in all
# (mkimage's 0xC00-byte header included). mkimage sets boot_data.length to
# ROUND(SIZE + 0x400, 4 KiB): with SIZE = 0x10C00 that is 0x11000 and uuu's -skipspl
# (libuuu/sdp.cpp: offset = length - (self - start)) lands right after the SPL.
make_spl() {
	local out=$1 size=$2
	printf 'IMAGE_VERSION 2\nBOOT_FROM sd\n' >"$out.cfg"
	random_file "$out.bin" $((size - 0xC00))
	mkimage -T imximage -n "$out.cfg" -e 0x00908000 -d "$out.bin" "$out" >"$out.mkimage.txt" ||
		fail "mkimage failed: $(cat "$out.mkimage.txt")"
	[[ $(stat -c %s "$out") == "$size" ]] || fail "make_spl: $out is not $size bytes"
}

# make_uimg OUT PAYLOAD LOAD: a legacy U-Boot image (u-boot.img) of PAYLOAD loaded and
# entered at LOAD (mkimage -A arm -O u-boot -T firmware -C none, as U-Boot's Makefile
# makes u-boot.img)
make_uimg() {
	mkimage -A arm -O u-boot -T firmware -C none -a "$3" -e "$3" -n "flashd-emu U-Boot" \
		-d "$2" "$1" >"$1.mkimage.txt" || fail "mkimage failed: $(cat "$1.mkimage.txt")"
}

# make_spl_flash SPL UIMG FLASHBIN SPL_SIZE LOAD UBOOT_BYTES: the files of an SPL board
# as U-Boot builds them: SPL (make_spl, SPL_SIZE bytes), UIMG a u-boot.img (make_uimg)
# of UBOOT_BYTES random bytes loaded at LOAD, and FLASHBIN the two back to back (the
# layout uuu's -skipspl expects; on the eMMC at 0x400 U-Boot proper lands at
# 0x400 + SPL_SIZE)
make_spl_flash() {
	local spl=$1 uimg=$2 flashbin=$3
	make_spl "$spl" "$4"
	random_file "$uimg.bin" "$6"
	make_uimg "$uimg" "$uimg.bin" "$5"
	cat "$spl" "$uimg" >"$flashbin"
}

# make_disk_image OUT: a 6 MiB + 8 KiB disk image in whole 4 KiB blocks: a DOS MBR
# (make_mbr: partition 1 from LBA 2048, 16384 sectors), random bytes to 1 MiB, 3 MiB of
# zeros, 2 MiB + 8 KiB random: data, a zero run (FILL chunks, or DONT_CARE) and data
# again for the raw2sparse paths
make_disk_image() {
	local out=$1
	make_mbr "$out.mbr" 2048 16384
	{
		cat "$out.mbr"
		head -c $((1024 * 1024 - 512)) /dev/urandom
		head -c $((3 * 1024 * 1024)) /dev/zero
		head -c $((2 * 1024 * 1024 + 8 * 1024)) /dev/urandom
	} >"$out"
}

# make_emmc_all_files EMMC_MIB: the files the emmc_all scenarios (emu-uuu-emmc_all,
# flashd-emmc_all) give uuu's emmc_all script: flash.bin, a full U-Boot (make_imx, entry
# 0x17800000), spl-flash.bin (make_spl_flash: SPL + u-boot.img loaded at 0x17800000),
# image.wic (make_disk_image), and expected.img: an EMMC_MIB MiB user area that holds
# image.wic from byte 0
make_emmc_all_files() {
	random_file payload.bin $((200 * 1024))
	make_imx flash.bin payload.bin 0x17800000
	make_disk_image image.wic
	make_spl_flash SPL u-boot.img spl-flash.bin $((0x10C00)) 0x17800000 $((200 * 1024 + 77))
	truncate -s "$1M" expected.img
	dd if=image.wic of=expected.img conv=notrunc status=none
}
