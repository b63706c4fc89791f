#!/usr/bin/env bash
# emu-uuu-spl: Debian's unmodified uuu runs an SPL flow against the board emulator
# (i.MX6ULL): the ROM boots U-Boot SPL over SDP, the board comes back as SPL's own SDP
# gadget (0525:b4a4, bcdDevice 0x0500: uuu's "SDPV:"), uuu writes u-boot.img to
# CONFIG_SDP_LOADADDR and jumps, SPL starts U-Boot proper, which comes up as fastboot;
# the FB lines flash the bootloader. Two boards at once:
#  board 0: one combined flash.bin (SPL, then u-boot.img right after it, the layout
#           uuu's -skipspl computes from the SPL's boot data) with
#           "SDP: boot -f flash.bin", "SDPV: write -f flash.bin -skipspl", "SDPV: jump";
#           then reset: the board boots the chain from the eMMC (SPL at 0x400,
#           u-boot.img at sector 0x88 = byte 0x11000) and ends "booted".
#  board 1: separate SPL and u-boot.img ("SDP: boot -f SPL", "SDPV: write -f u-boot.img"),
#           U-Boot proper is a mainline build without uuu support (--uboot mainline):
#           its raw partitions come from the environment only.
#  board 2: an SPL that shows bcdDevice 0x0400 (--spl-bcd): uuu's "SDPU:" (libuuu
#           config.cpp: 0525:b4a4 bcd 0..0x04ff), "SDPU: write -f flash.bin -offset N".
# The eMMCs of boards 0 and 1 must equal an image built with dd, and each log must show
# rom -> spl -> fastboot.
# vm-boards: 3
# vm-timeout: 300
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

emmc_mib=32
spl_size=$((0x10C00))
text_base=0x87800000 # u-boot.img load address; CONFIG_SDP_LOADADDR = 0x877fffc0

make_spl_flash SPL u-boot.img flash.bin "$spl_size" "$text_base" $((300 * 1024 + 123))
uboot_off=$((0x400 + spl_size)) # 0x11000: sector 0x88

cat >combined.uuu <<UUU
uuu_version 1.4.0
SDP: boot -f flash.bin
SDPV: delay 1000
SDPV: write -f flash.bin -skipspl
SDPV: jump
FB: getvar version-bootloader
FB: flash bootloader flash.bin
FB: acmd reset
FB: done
UUU
cat >sdpu.uuu <<UUU
uuu_version 1.4.0
SDP: boot -f flash.bin
SDPU: delay 1000
SDPU: write -f flash.bin -offset $spl_size
SDPU: jump
FB: getvar version-bootloader
FB: done
UUU
cat >separate.uuu <<UUU
uuu_version 1.4.0
SDP: boot -f SPL
SDPV: delay 1000
SDPV: write -f u-boot.img
SDPV: jump
FB: flash bootloader SPL
FB: flash uboot u-boot.img
FB: done
UUU

truncate -s "${emmc_mib}M" expected.img
dd if=flash.bin of=expected.img bs=1024 seek=1 conv=notrunc status=none

start_board 0 --soc 6ull --emmc-size "${emmc_mib}M" --spl-uboot-sector 0x88 --exit-when booted
start_board 1 --soc 6ull --emmc-size "${emmc_mib}M" --uboot mainline \
	--env "fastboot_raw_partition_bootloader=0x2 0x86" --env "fastboot_raw_partition_uboot=0x88 0x800"
start_board 2 --soc 6ull --emmc-size "${emmc_mib}M" --spl-bcd 0x0400
wait_usb 0 15a2:0080 30
wait_usb 1 15a2:0080 30
wait_usb 2 15a2:0080 30

pids=()
(run_client 200 uuu -v -m 1:1 combined.uuu >"$OUT/uuu0.txt" 2>&1) &
pids+=($!)
(run_client 200 uuu -v -m 2:1 separate.uuu >"$OUT/uuu1.txt" 2>&1) &
pids+=($!)
(run_client 200 uuu -v -m 3:1 sdpu.uuu >"$OUT/uuu2.txt" 2>&1) &
pids+=($!)
for k in 0 1 2; do
	rc=0
	wait "${pids[$k]}" || rc=$?
	((rc == 0)) || fail "uuu on board $k exited with $rc: $(tr '\r' '\n' <"$OUT/uuu$k.txt" | grep -v '^$' | tail -n 3 | tr '\n' ' ')"
done

for k in 0 1 2; do
	log=$(board_log "$k")
	# rom -> jump -> spl -> spl-jump -> fastboot, in this order
	seq=$(events "$log" phase | jq -r .phase | tr '\n' ' ')
	[[ $seq == "rom jump reenum spl spl-jump reenum fastboot "* ]] ||
		fail "board $k: phases '$seq', want rom jump reenum spl spl-jump reenum fastboot ..."
	expect_eq "board $k SPL gadget" "$(events "$log" connect '.phase == "spl"' | jq -r .id)" "0525:b4a4"
	expect_eq "board $k SPL jump" "$(events "$log" spl-jump | jq -r '"\(.kind) \(.addr) \(.entry) \(.result)"')" \
		"uimage 0x877fffc0 0x87800000 ok"
	expect_eq "board $k failed fastboot commands" \
		"$(count_events "$log" fb-reply '.reply | startswith("FAIL")')" 0
done

expect_eq "board 1 U-Boot" "$(events "$(board_log 1)" env-load | jq -r '"\(.flavour) \(.source)"' | sort -u)" \
	"mainline default"

# board 0 resets after flashing: ROM -> SPL from the eMMC -> u-boot.img -> booted
wait_board_exit 0 30 || fail "board 0 did not boot from the eMMC"
expect_eq "board 0 boot" "$(events "$(board_log 0)" boot | jq -r '"\(.result) \(.spl) \(.uboot_offset)"')" \
	"booted true $uboot_off"
cmp "$(board_emmc 0)" expected.img >&2 || {
	cp "$(board_emmc 0)" "$OUT/emmc0.img"
	fail "board 0: the eMMC differs from the expected image (saved in OUT)"
}

stop_board 1
stop_board 2
# board 1: the SPL at 0x400 and u-boot.img at 0x11000, as the combined image puts them
cmp "$(board_emmc 1)" expected.img >&2 || {
	cp "$(board_emmc 1)" "$OUT/emmc1.img"
	fail "board 1: the eMMC differs from the expected image (saved in OUT)"
}
note "emu-uuu-spl ok"
