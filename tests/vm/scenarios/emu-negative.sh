#!/usr/bin/env bash
# emu-negative: what the real clients see when things go wrong, as on a real board.
# 1. imx_usb with an image whose IVT entry point lies outside the image: the emulated
#    ROM loads it, refuses the jump with HAB status 0x000a2233 (failure, invalid
#    address, authenticate), imx_usb reports "failed", and the board stays in the ROM.
# 2. uuu with an image whose DCD holds an unknown command: the ROM answers DCD_WRITE
#    with 0x00dd2733, uuu exits non-zero ("Status Miss matched"), no re-enumeration.
# 3. A board started in fastboot with --fault-fail 'flash:*': AOSP fastboot and uuu both
#    exit non-zero with U-Boot's FAIL text, and nothing reaches the eMMC.
# vm-boards: 1
# vm-timeout: 240
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

log=$(board_log 0)

# session NAME: stop board 0 and keep its log as $OUT/NAME.jsonl
session_end() {
	stop_board 0
	wait_usb_gone 0 10
	mv "$log" "$OUT/$1.jsonl"
}

# still_rom: a few seconds after the failure the ROM is on the port, never left it
still_rom() {
	sleep 3
	expect_eq "device after the failure" "$(usb_id 0)" 15a2:0054
	expect_eq "phases" "$(events "$log" phase | jq -r .phase | tr '\n' ' ')" "rom "
}

random_file payload.bin $((256 * 1024))
make_imx uboot.imx payload.bin 0x17800000
cp uboot.imx bad-entry.imx # IVT entry (offset 4) = 0x1f000000, far outside the image
printf '\x00\x00\x00\x1f' | dd of=bad-entry.imx bs=1 seek=4 conv=notrunc status=none
cp uboot.imx bad-dcd.imx # the DCD's first command tag (0xcc, write) becomes 0xee
expect_eq "DCD first command" "$(od -An -tx1 -j 48 -N 1 uboot.imx | tr -d ' ')" cc
printf '\xee' | dd of=bad-dcd.imx bs=1 seek=48 conv=notrunc status=none

# 1. imx_usb, entry point outside the image
start_board 0 --soc 6q --uid 0123456789abcdef
wait_usb 0 15a2:0054 30
run_client 120 imx_usb -c "$SRCDIR/tests/vm/data" bad-entry.imx >"$OUT/imx_usb.txt" 2>&1 || true
grep -q 'status 0x33220a00' "$OUT/imx_usb.txt" ||
	fail "imx_usb did not report the ROM's status: $(tail -n 1 "$OUT/imx_usb.txt")"
jump=$(wait_event "$log" jump 5)
expect_eq "jump result" "$(jq -r .result <<<"$jump")" entry-outside-image
wait_event "$log" sdp-error '.cmd == "JUMP_ADDRESS" and .status == "0x000a2233"' 5 >/dev/null
still_rom
session_end rom-bad-entry

# 2. uuu, unknown DCD command
start_board 0 --soc 6q --uid 0123456789abcdef
wait_usb 0 15a2:0054 30
rc=0
run_client 120 uuu -v -t 20 SDP: boot -f bad-dcd.imx >"$OUT/uuu-sdp.txt" 2>&1 || rc=$?
((rc != 0 && rc != 124)) || fail "uuu exited with $rc on a bad DCD"
grep -q 'Status Miss matched' "$OUT/uuu-sdp.txt" || fail "uuu did not report the status mismatch"
dcd=$(wait_event "$log" dcd 5)
expect_eq "DCD result" "$(jq -r '"\(.result) \(.writes)"' <<<"$dcd")" "bad-command 0"
wait_event "$log" sdp-error '.cmd == "DCD_WRITE" and .status == "0x00dd2733"' 5 >/dev/null
expect_eq "WRITE_FILE after a failed DCD" "$(count_events "$log" sdp '.cmd == "WRITE_FILE"')" 0
still_rom
session_end rom-bad-dcd

# 3. an injected FAIL on every flash
start_board 0 --start fastboot --uid 0123456789abcdef --fault-fail 'flash:*'
wait_usb 0 0525:a4a5 30
rc=0
run_client 60 fastboot flash bootloader uboot.imx >"$OUT/fastboot.txt" 2>&1 || rc=$?
((rc != 0 && rc != 124)) || fail "fastboot exited with $rc on an injected FAIL"
grep -q "FAILED (remote: 'injected fault')" "$OUT/fastboot.txt" ||
	fail "fastboot did not show the FAIL text: $(tail -n 2 "$OUT/fastboot.txt" | tr '\n' ' ')"
rc=0
run_client 60 uuu -v -t 20 FB: flash bootloader uboot.imx >"$OUT/uuu-fb.txt" 2>&1 || rc=$?
((rc != 0 && rc != 124)) || fail "uuu exited with $rc on an injected FAIL"
grep -q 'Error: injected fault' "$OUT/uuu-fb.txt" || fail "uuu did not show the FAIL text"
expect_eq "injected faults" "$(count_events "$log" fault '.fault == "fail"')" 2
expect_eq "flash events" "$(count_events "$log" flash)" 0
session_end fb-fail
head -c $((1024 * 1024)) /dev/zero >zero.bin
expect_bytes "$(board_emmc 0)" 0 zero.bin
note "emu-negative ok"
