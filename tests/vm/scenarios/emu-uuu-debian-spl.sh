#!/usr/bin/env bash
# emu-uuu-debian-spl: Debian's real U-Boot build for the Toradex Colibri iMX6
# (u-boot-imx:armhf, usr/lib/u-boot/colibri_imx6: SPL + u-boot.img, fetched on the
# host into BUILDDIR/tests/vm/u-boot-imx by "make check-vm", see tests/emu/emu.am)
# through the board emulator with Debian's uuu. That SPL has SDP with the gadget IDs
# of configs/colibri_imx6_defconfig (CONFIG_USB_GADGET_VENDOR_NUM 0x1b67, PRODUCT_NUM
# 0x4000): it shows up as 1b67:4fff, bcdDevice 0x0500, which uuu knows only through
# "CFG: SDPV:"; its CONFIG_SDP_LOADADDR is unset (0), so the write and the jump need
# -addr (u-boot.img's header at CONFIG_TEXT_BASE 0x17800000 - 0x40). U-Boot proper
# (mainline, CONFIG_FASTBOOT_UUU_SUPPORT=y) is the 1b67:4000 fastboot gadget; the FB
# lines write SPL and u-boot.img where the colibri layout puts them (0x400 and sector
# 0x8a), then reset: the board must boot the chain from the eMMC.
# vm-boards: 1
# vm-timeout: 300
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

src=$BUILDDIR/tests/vm/u-boot-imx/x/usr/lib/u-boot/colibri_imx6
[[ -r $src/SPL && -r $src/u-boot.img ]] ||
	fail "no Debian u-boot-imx in $BUILDDIR/tests/vm/u-boot-imx (run 'make check-vm' on the host: it fetches it)"
cp "$src/SPL" "$src/u-boot.img" .
emmc_mib=32
log=$(board_log 0)

cat >colibri.uuu <<UUU
uuu_version 1.4.0
CFG: SDPV: -chip SPL1 -vid 0x1b67 -pid 0x4fff
CFG: FB: -vid 0x1b67 -pid 0x4000
SDP: boot -f SPL
SDPV: delay 1000
SDPV: write -f u-boot.img -addr 0x177fffc0
SDPV: jump -addr 0x177fffc0
FB: getvar version-bootloader
FB: ucmd setenv fastboot_raw_partition_spl 0x2 0x88
FB: ucmd setenv fastboot_raw_partition_uboot 0x8a 0x800
FB: flash spl SPL
FB: flash uboot u-boot.img
FB: acmd reset
FB: done
UUU

truncate -s "${emmc_mib}M" expected.img
dd if=SPL of=expected.img bs=1024 seek=1 conv=notrunc status=none
dd if=u-boot.img of=expected.img bs=512 seek=$((0x8a)) conv=notrunc status=none

start_board 0 --soc 6dl --emmc-size "${emmc_mib}M" --uboot mainline --uuu-support yes \
	--spl-vid 0x1b67 --spl-pid 0x4fff --sdp-loadaddr 0 --fb-vid 0x1b67 --fb-pid 0x4000 \
	--exit-when booted
wait_usb 0 15a2:0061 30
rc=0
run_client 200 uuu -v colibri.uuu >"$OUT/uuu.txt" 2>&1 || rc=$?
((rc == 0)) || fail "uuu exited with $rc: $(tr '\r' '\n' <"$OUT/uuu.txt" | grep -v '^$' | tail -n 3 | tr '\n' ' ')"

seq=$(events "$log" phase | jq -r .phase | tr '\n' ' ')
[[ $seq == "rom jump reenum spl spl-jump reenum fastboot "* ]] ||
	fail "phases '$seq', want rom jump reenum spl spl-jump reenum fastboot ..."
expect_eq "SPL gadget" "$(events "$log" connect '.phase == "spl"' | jq -r .id)" "1b67:4fff"
expect_eq "SPL jump" "$(events "$log" spl-jump | jq -r '"\(.kind) \(.entry) \(.result)"')" \
	"uimage 0x17800000 ok"
expect_eq "failed fastboot commands" "$(count_events "$log" fb-reply '.reply | startswith("FAIL")')" 0
wait_board_exit 0 30 || fail "the board did not boot from the eMMC"
expect_eq "boot" "$(events "$log" boot | jq -r '"\(.result) \(.spl) \(.uboot_offset)"')" \
	"booted true $((0x8a * 512))"
cmp "$(board_emmc 0)" expected.img >&2 || fail "the eMMC differs from the expected image"
note "emu-uuu-debian-spl ok"
