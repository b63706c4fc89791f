#!/usr/bin/env bash
# flashd-verify: proof of flash (issue 16, flashd-plan(5) "Verify"). Four boards on
# named slots with an allow-list; board 0's eMMC flips bit 0 of one rootfs byte as
# it is written (flashd-emu --fault-emmc-bitflip: fastboot still answers OKAY).
# Round 1, verify off: all four end "ok" -- board 0 with a corrupt eMMC, the risk
# read-back removes; every record says its regions were not verified ("verify off").
# Round 2, verify = on in flashd.conf (reloaded) and a plan whose flash lines say
# where their regions are (-verify-at for U-Boot's raw partitions, -verify-part 1
# for the rootfs alias; the mbr line has no option: verify = on and "mbr" do it):
# board 0 ends FAILED at the rootfs step with the piece and region in the reason;
# boards 1 and 2 end "ok" with every region verified (crc32 of the written bytes in
# the journal, the same on both boards); board 3's U-Boot is built without
# CONFIG_CRC32_VERIFY (--uboot-no-verify) and fails with "cannot verify", never ok.
# flashctl history shows "(verified 4/4)".
# vm-boards: 4
# vm-timeout: 700
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
FLIP=$(((8 << 20) + 0x12345)) # a byte of the rootfs (partition 1 starts at 8 MiB)
declare -A SLOT=([0]=A1 [1]=A2 [2]=B1 [3]=B2)
slots=()
for k in 0 1 2 3; do slots+=("slot ${SLOT[$k]}=$(usb_port "$k")"); done

plan=$(fl_plan_copy "$FL_PLANS/full.lst")
vplan=$FL_SEED/verify.lst
sed -E -e 's/^FB: flash bootloader /FB: flash -verify-at 0x400 bootloader /' \
	-e 's/^FB: flash uboot-env /FB: flash -verify-at 0xC0000 uboot-env /' \
	-e 's/^FB: flash -raw2sparse rootfs /FB: flash -raw2sparse -verify-part 1 rootfs /' \
	"$plan" >"$vplan"
grep -c -- '-verify' "$vplan" | grep -qx 3 || fail "verify.lst: the sed did not match: $(cat "$vplan")"
"$FL_FLASHD" --check-plan "$vplan" >"$OUT/check-verify.txt" 2>&1 ||
	fail "verify.lst does not load: $(tail -n 3 "$OUT/check-verify.txt")"

round() { # R: four boards, board 0 with the bit flip, board 3 ARGS...
	local r=$1
	shift
	fl_board 0 --fault-emmc-bitflip "$FLIP"
	fl_board 1
	fl_board 2
	fl_board 3 "$@"
}

# ---- round 1: verify off ----
fl_conf plan="$plan" plan-args= settle=1s bootloop-guard=0s slots-only=yes "${slots[@]}"
fl_start
fl_watch "$OUT/watch.ndjson"
round 1
for k in 0 1 2 3; do
	fl_wait_ok "$(usb_port "$k")" 300
	expect_eq "round 1 board $k regions" \
		"$(fl_json_get "$FL_REC" '[.regions[] | [.partition, .verify, .verified, .why] | map(tostring) | join(":")] | join(" ")')" \
		"mbr:false:false:verify off bootloader:false:false:verify off uboot-env:false:false:verify off rootfs:false:false:verify off"
done
for k in 1 2 3; do fl_expect_emmc "$k"; done
# the risk: board 0 ended ok with one bit wrong
cmp "$(board_emmc 0)" "$FL_EXPECTED" >"$OUT/cmp-round1.txt" 2>&1 && fail "board 0: the bit flip did not happen"
diffs=$(cmp -l "$(board_emmc 0)" "$FL_EXPECTED" || true) # (cmp exits 1: they differ)
expect_eq "board 0: bytes that differ" "$(wc -l <<<"$diffs")" 1
expect_eq "board 0: the flipped byte" "$(($(awk '{ print $1 }' <<<"$diffs") - 1))" "$FLIP"
note "round 1: board 0 ended ok with byte $FLIP flipped (no verify)"
for k in 0 1 2 3; do stop_board "$k"; fl_wait_state "$(usb_port "$k")" empty 30; done

# ---- round 2: verify = on, the plan says where the regions are ----
fl_conf plan="$vplan" plan-args= settle=1s bootloop-guard=0s slots-only=yes "${slots[@]}" verify=on
fl_ctl reload >"$OUT/reload.txt" 2>&1 || fail "reload: $(cat "$OUT/reload.txt")"
round 2 --uboot-no-verify
for k in 1 2; do
	fl_wait_result "$(usb_port "$k")" ok 400 2 # (the second: round 1 had one)
	expect_eq "round 2 board $k regions" \
		"$(fl_json_get "$FL_REC" '[.regions[] | [.partition, .verified, .method, .where] | map(tostring) | join(":")] | join(" ")')" \
		"mbr:true:crc32:at 0x0 bootloader:true:crc32:at 0x400 uboot-env:true:crc32:at 0xc0000 rootfs:true:crc32:part 1"
	fl_json_get "$FL_REC" '.regions[] | [.partition, .bytes, .checked, .pieces, .crc32] | @tsv' >"$OUT/regions-$k.tsv"
	fl_expect_emmc "$k"
	# one mmc read and one crc32 -v per piece (and the wrong-digest probe once)
	expect_eq "board $k: mmc reads" \
		"$(jq -cR 'fromjson? | select(.ev == "ucmd" and (.cmd | startswith("mmc read")))' "$(board_log "$k")" | wc -l)" \
		"$(fl_json_get "$FL_REC" '[.regions[].pieces] | add')"
	expect_eq "board $k: crc32 -v that failed (the probe)" \
		"$(jq -cR 'fromjson? | select(.ev == "ucmd" and (.cmd | startswith("crc32 -v")) and .rc != 0)' "$(board_log "$k")" | wc -l)" 1
done
cmp "$OUT/regions-1.tsv" "$OUT/regions-2.tsv" >&2 || fail "the two good boards' regions differ"
cat "$OUT/regions-1.tsv" >&2
# the rootfs's written bytes are its whole image (raw2sparse writes zero blocks too)
expect_eq "rootfs bytes checked" "$(awk '$1 == "rootfs" { print $3 }' "$OUT/regions-1.tsv")" \
	"$(stat -c %s "$FL_SEED/rootfs.ext4")"

p0=$(usb_port 0)
fl_wait_result "$p0" failed 400
rec=$FL_REC
note "board 0: $(fl_json_get "$rec" '[.failed_step, .reason] | @tsv')"
[[ $(fl_json_get "$rec" .failed_step) == *rootfs* ]] || fail "board 0 failed at $(fl_json_get "$rec" .failed_step)"
[[ $(fl_json_get "$rec" .reason) == *"verify rootfs: bytes 0x"*"differ from what was sent"* ]] ||
	fail "board 0: reason $(fl_json_get "$rec" .reason)"
expect_eq "board 0 rootfs region" "$(fl_json_get "$rec" '.regions[-1] | [.partition, .verify, .verified] | map(tostring) | join(":")')" \
	"rootfs:true:false"
# the failing piece holds the flipped byte
piece=$(fl_json_get "$rec" .reason | sed -E 's/.*bytes (0x[0-9a-f]+)\+(0x[0-9a-f]+).*/\1 \2/')
read -r poff plen <<<"$piece"
((FLIP - (8 << 20) >= poff && FLIP - (8 << 20) < poff + plen)) ||
	fail "board 0: the failing piece $poff+$plen does not hold byte $((FLIP - (8 << 20))) of the rootfs"

p3=$(usb_port 3)
fl_wait_result "$p3" failed 400
[[ $(fl_json_get "$FL_REC" .reason) == *"cannot verify"* ]] ||
	fail "board 3 (no CONFIG_CRC32_VERIFY): reason $(fl_json_get "$FL_REC" .reason)"
expect_eq "board 3 first region" "$(fl_json_get "$FL_REC" '.regions[0] | [.partition, .verified] | map(tostring) | join(":")')" \
	"mbr:false"

fl_ctl history | tee "$OUT/history.txt"
grep -E "[[:space:]]A2[[:space:]]+$(usb_port 1)[[:space:]]+ok.*\(verified 4/4\)" "$OUT/history.txt" >/dev/null ||
	fail "flashctl history: no (verified 4/4) for A2"
grep -E "[[:space:]]A1[[:space:]]+$p0[[:space:]]+ok.*\(verified 0/4\)" "$OUT/history.txt" >/dev/null ||
	fail "flashctl history: round 1's board 0 not (verified 0/4)"
fl_stop
note "flashd-verify: ok"
