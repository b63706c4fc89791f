#!/usr/bin/env bash
# flashd-mainline-env: a board with mainline U-Boot (flashd-emu --uboot mainline, built
# with uuu support) that has a saved environment from an earlier flash, flashed again
# (issue 10, scenario 4). Mainline U-Boot loads a saved environment with a good CRC
# from the eMMC instead of its default one (env/mmc.c), and its fastboot knows raw
# partitions only where the environment defines them (fb_mmc.c).
#  round 1: the plan flashes U-Boot and saves a product environment that has no
#     fastboot_raw_partition_bootloader (as a product's own U-Boot environment would).
#  round 2: the same board, back in its boot ROM: flashd records a boot loop (the SoC
#     UID of the board it just flashed) until the operator's `flashctl retry`; then,
#     with a plan that relies on the default environment's "bootloader", U-Boot runs
#     with the saved environment, the flash gets "FAILinvalid partition or device", and flashd
#     records FAILED at that step with the board's reason (never ok).
#  round 3: on the U-Boot still running, a plan that first resets the environment
#     ("env default -a"), then flashes the bootloader and a raw data region, by a
#     retry: ok, and the eMMC holds both byte for byte.
# vm-boards: 1
# vm-timeout: 360
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
emmc=$((32 << 20))
random_file payload.bin $((160 * 1024))
make_imx u-boot.imx payload.bin 0x17800000
{
	head -c $((1024 * 1024)) /dev/urandom
	head -c $((512 * 1024)) /dev/zero
	head -c $((512 * 1024)) /dev/urandom
} >data.img
board=(--soc 6q --uboot mainline --uuu-support yes --emmc-size "$emmc"
	--env "fastboot_raw_partition_bootloader=0x2 0x5fe"
	--env "fastboot_raw_partition_data=0x800 0x1000")

cat >save.lst <<'PLAN'
uuu_version 1.4.0
SDP: boot -f u-boot.imx
FB: flash bootloader u-boot.imx
FB: ucmd setenv bootcmd run product_boot
FB: ucmd env delete fastboot_raw_partition_bootloader
FB: ucmd saveenv
FB: done
PLAN
cat >default.lst <<'PLAN'
uuu_version 1.4.0
SDP: boot -f u-boot.imx
FB: flash bootloader u-boot.imx
FB: flash -raw2sparse data data.img
FB: done
PLAN
cat >reset.lst <<'PLAN'
uuu_version 1.4.0
SDP: boot -f u-boot.imx
FB: ucmd env default -a
FB: flash bootloader u-boot.imx
FB: flash -raw2sparse data data.img
FB: done
PLAN

fl_conf plan="$VM_TMP/save.lst" plan-args= settle=1s
fl_start

# round 1: a blank board, default environment; the plan saves a product environment
fl_board 0 "${board[@]}"
fl_wait_result 1-1 ok 120
stop_board 0
fl_wait_state 1-1 empty 30
log=$(board_log 0)
expect_eq "round 1 environment" "$(events "$log" env-load | jq -r .source | tail -n 1)" default

# round 2: the same board back in its ROM: flashd takes it for a boot loop (same SoC
# UID as the board it just flashed) until the operator asks for a new flash
fl_ctl use "$VM_TMP/default.lst" >/dev/null || fail "use default.lst refused"
fl_board 0 "${board[@]}"
fl_wait_result 1-1 boot-loop 60
fl_ctl retry 1-1 >/dev/null || fail "retry 1-1 refused"
# the saved environment has no "bootloader": FAILED with the board's reason
fl_wait_result 1-1 failed 120
rec=$FL_REC
note "round 2: $(fl_json_get "$rec" '[.failed_step, .reason] | join(": ")')"
expect_eq "round 2 environment" "$(events "$log" env-load | jq -r .source | tail -n 1)" saved
expect_eq "round 2 failed step" "$(fl_json_get "$rec" .failed_step)" "FB: flash bootloader u-boot.imx"
# mainline fb_mmc.c: no such name in the environment nor the partition table
[[ $(fl_json_get "$rec" .reason) == *"invalid partition or device"* ]] ||
	fail "round 2 reason: $(fl_json_get "$rec" .reason)"

# round 3: the board still runs that U-Boot; a plan that first resets the
# environment, then a retry: ok
fl_ctl use "$VM_TMP/reset.lst" >/dev/null || fail "use reset.lst refused"
fl_ctl retry 1-1 >/dev/null || fail "retry 1-1 refused"
fl_wait_result 1-1 ok 120
expect_eq "U-Boot starts" "$(count_events "$log" env-load)" 2
stop_board 0
expect_bytes "$(board_emmc 0)" 1024 u-boot.imx
expect_bytes "$(board_emmc 0)" $((0x800 * 512)) data.img
expect_eq "journal records" "$(fl_records | jq -r .result | tr '\n' ' ')" "ok boot-loop failed ok "
fl_stop
note "flashd-mainline-env: ok"
