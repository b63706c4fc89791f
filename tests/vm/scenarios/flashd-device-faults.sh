#!/usr/bin/env bash
# flashd-device-faults: the device-fault table of docs/reliability.md (issue 11). Boards
# that misbehave (flashd-emu fault options) run the seed plan (conf/plans/full.lst, the
# small seed of flashd-unplug-matrix), seven ports at a time, a fault-free witness board
# on port 1-1 all along (each "ok" at once, byte for byte): FAIL replies, stalled
# endpoints, a reply later than fastboot-timeout, a board that never answers, a bad
# WRITE_FILE status, HAB closed with an unsigned image, no re-enumeration, a slow eMMC, a
# board that drops off mid-download and comes back, garbage replies. Each must end in
# one record, FAILED at the step where the fault hit with its own reason (the slow eMMC:
# "ok"), within 240 s (no hang: flashd's timeouts are <= 15 s), with no second record (no retry loop); the board is then
# unplugged and a fault-free board plugged in is flashed "ok", byte for byte. Then the
# board that re-enumerates on another port: its port fails in wait-reenum, the port it
# turns up on flashes it from the first fastboot step. The table is
# $OUT/device-faults.md (docs/reliability.md "## device faults" is a copy).
# vm-boards: 8
# vm-timeout: 900
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"
# shellcheck source=tests/vm/matrix-lib.sh
. "$SRCDIR/tests/vm/matrix-lib.sh"

fl_need
((NBOARDS >= 3)) || fail "needs at least 3 ports"
FL_SEED=$VM_TMP/mseed
FL_EMMC_SIZE=$((32 << 20))
FL_MAXDL=0x100000
"$SRCDIR/tests/data/mkseed" "$FL_SEED" --rootfs-mib 8 --emmc-size "$FL_EMMC_SIZE" >&2
FL_EXPECTED=$FL_SEED/expected-emmc.img
MX_TIMEOUT=240 # flashd's own timeouts are <= 15 s: longer is a hang, even on a loaded host
full_plan=$(fl_plan_copy "$FL_PLANS/full.lst")
touch "$FL_JOURNAL"
fl_conf plan="$full_plan" plan-args= settle=1s bootloop-guard=0s reenum-timeout=10s
fl_start
fl_watch "$OUT/watch.ndjson"

sdp='SDP: boot -f uboot-fastboot.imx'
# flashd's own getvar:max-download-size comes before the plan's first step: a fault
# in the first fastboot command fails in the port state "fastboot"
fb0=fastboot
mbr='FB: flash mbr mbr.bin'
rootfs='FB: flash -raw2sparse rootfs rootfs.ext4'
MX_CELLS=(
	"fail-flash|--fault-fail flash:*|failed:$mbr~injected fault|restart|FAIL reply to every flash"
	"fail-download|--fault-fail download:*|failed:$mbr~injected fault|restart|FAIL reply to every download"
	"fail-getvar|--fault-fail getvar:*|failed:$fb0~injected fault|restart|FAIL reply to every getvar"
	"stall-ep0|--fault-stall ep0|failed:$sdp|restart|ROM stalls every SET_REPORT (SDP command)"
	"stall-in|--fault-stall in|failed:$sdp|restart|interrupt/bulk IN endpoint halted at every configuration"
	"stall-out|--fault-stall out|failed:$fb0|restart|bulk OUT endpoint (fastboot) halted at every configuration"
	"timeout|--fault-delay-reply 15000|failed:$fb0|restart|every fastboot OKAY/FAIL 15 s late (fastboot-timeout 10 s)"
	"hang-rom|--fault-hang-in rom|failed:$sdp|restart|ROM enumerates, never answers an SDP command"
	"hang-fastboot|--fault-hang-in fastboot|failed:$fb0|restart|U-Boot enumerates, never answers"
	"bad-status|--fault-bad-status|failed:$sdp|restart|WRITE_FILE completes with 0x88888889"
	"hab-closed|--hab-closed|failed:$sdp|restart|HAB closed, the image has no CSF (unsigned)"
	"no-reenum|--fault-no-reenum|failed:wait-reenum~no fastboot device|restart|after the jump the board never comes back"
	"slow-emmc|--emmc-mbps 1|ok|none|eMMC writes at 1 MB/s"
	"reset-mid-download|--fault-disconnect-at-byte 2000000 --reenum-delay 2000|failed:$rootfs|restart|drops off the bus 2 MB into the fastboot data (in the rootfs), back in fastboot 2 s later"
	"garbage-rom|--fault-garbage rom|failed:$sdp|restart|ROM reports 3/4 are noise"
	"garbage-fastboot|--fault-garbage fastboot|failed:$fb0|restart|every fastboot reply is noise"
)
mx_run

# a board that re-enumerates on another port: the ROM on port 2-1 jumps and never comes
# back there; a board running U-Boot's fastboot turns up on port 3-1
MX_ID[1]=other-port MX_NOTE[1]="re-enumerates on another port: ROM on $(usb_port 1), fastboot on $(usb_port 2)"
MX_EXPECT[1]="failed:wait-reenum; $(usb_port 2): ok"
MX_T0[1]=$SECONDS MX_SECOND[1]='' MX_EMMC[1]=''
n1=$(fl_count "$(usb_port 1)" failed) n2=$(fl_count "$(usb_port 2)" ok)
MX_LOGNAME='other-port-rom'
mx_start 1 --fault-no-reenum
wait_event "$OUT/other-port-rom.jsonl" fault '.fault == "no-reenum"' 60 >/dev/null ||
	fail "other-port: the ROM never jumped"
MX_LOGNAME='other-port-fastboot'
mx_start 2 --start fastboot
FL_LENIENT=1 fl_wait_result "$(usb_port 1)" failed 60 $((n1 + 1))
r1=$FL_REC
FL_LENIENT=1 fl_wait_result "$(usb_port 2)" ok 120 $((n2 + 1))
MX_GOT[1]="$(usb_port 1): $(jq -r '"failed at `\(.failed_step)`: \(.reason)"' <<<"$r1")"
MX_SECOND[1]="$(usb_port 2): ok"
if mx_emmc_ok 2; then MX_EMMC[1]=same; else MX_EMMC[1]=DIFFERS; fi
why=''
[[ $(jq -r .failed_step <<<"$r1") == wait-reenum ]] || why="want wait-reenum on $(usb_port 1)"
[[ ${MX_EMMC[1]} == same ]] || why="eMMC of $(usb_port 2) differs"
stop_board 1
stop_board 2
if [[ -z $why ]]; then mx_row 1 pass ''; else mx_row 1 fail "$why"; fi

mx_table >"$OUT/device-faults.md"
# every failure reason is its own (no two faults classified alike)
reasons=$(fl_records '.result == "failed"' | jq -r '.reason' | sed 's/[0-9]\+/N/g' | sort | uniq -c | sort -rn)
note "failure reasons (digits as N):"$'\n'"$reasons"
cat "$OUT/device-faults.md"
((MX_WITNESS_BAD == 0)) || fail "$MX_WITNESS_BAD witness board(s) disturbed"
((MX_FAILED == 0)) || fail "$MX_FAILED cell(s) failed (table: $OUT/device-faults.md)"
fl_stop
note "flashd-device-faults: ok"
