#!/usr/bin/env bash
# flashd-compressed: compressed images end to end (issue 10, scenario 3). The seed
# flow with the rootfs given as rootfs.wic.zst (default plan, board 0's port) and as
# rootfs.wic.gz (`flashctl use` for board 1's port). flashd decompresses each once at plan
# load into the cache beside its journal and flashes the payload raw->sparse.
# Checks: both eMMCs are byte for byte expected-emmc.img; the journal records each
# image with its compression, the compressed file's SHA-256 and the payload's
# (the uncompressed rootfs'); the cache holds one entry per compressed file; a later
# plan naming the same .zst under another name finds it in the cache (the entry is
# not rewritten), and a reload shares the unchanged images.
# vm-boards: 2
# vm-timeout: 600
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
raw=$FL_SEED/rootfs.ext4
zst=$FL_SEED/rootfs.wic.zst
gz=$FL_SEED/rootfs.wic.gz
zstd -q -3 "$raw" -o "$zst"
gzip -c "$raw" >"$gz"
raw_sha=$(sha256sum "$raw" | cut -d' ' -f1)
zst_sha=$(sha256sum "$zst" | cut -d' ' -f1)
gz_sha=$(sha256sum "$gz" | cut -d' ' -f1)
cache=$(dirname "$FL_JOURNAL")/cache
plan=$FL_PLANS/full.lst
port0=$(usb_port 0)
port1=$(usb_port 1)

# the seed images as the plan's arguments, the rootfs replaced by IMAGE
args_with() {
	fl_plan_args "$plan" | sed "s|^$raw\$|$1|"
}

fl_conf "plan-args=$(args_with "$zst" | tr '\n' ' ')"
fl_start
use=()
for a in $(args_with "$gz"); do
	use+=(--args "$a")
done
fl_ctl use "${use[@]}" "$plan" "$port1" >/dev/null

fl_board 0
fl_board 1
fl_wait_result "$port0" ok 400
rec0=$FL_REC
fl_wait_result "$port1" ok 400
rec1=$FL_REC
fl_expect_emmc 0
fl_expect_emmc 1

# the journal: both hashes of each compressed image
expect_eq "$port0 rootfs record" \
	"$(fl_json_get "$rec0" ".images[] | select(.path == \"$zst\") | [.compression, .source_sha256, .sha256] | join(\" \")")" \
	"zstd $zst_sha $raw_sha"
expect_eq "$port1 rootfs record" \
	"$(fl_json_get "$rec1" ".images[] | select(.path == \"$gz\") | [.compression, .source_sha256, .sha256] | join(\" \")")" \
	"gzip $gz_sha $raw_sha"
expect_eq "$port0 uncompressed images" \
	"$(fl_json_get "$rec0" '[.images[] | select(.compression == null and .source_sha256 == null)] | length')" 4

# one cache entry per compressed file, payload complete
expect_eq "cache" "$(find "$cache" -type f -printf "%f\n" | sort | tr "\n" " ")" \
	"$(printf '%s\n' "$zst_sha.raw" "$zst_sha.sum" "$gz_sha.raw" "$gz_sha.sum" | sort | tr '\n' ' ')"
expect_eq "cached payload" "$(sha256sum "$cache/$zst_sha.raw" | cut -d' ' -f1)" "$raw_sha"
ino=$(stat -c %i "$cache/$zst_sha.raw")
grep -q "rootfs.wic.zst: zstd-compressed .* decompressed into the cache" "$FL_LOG" ||
	fail "flashd did not log the decompression of rootfs.wic.zst"

# the same compressed content under another name, in another plan: from the cache
cp "$zst" "$FL_SEED/other.wic.zst"
use=()
for a in $(args_with "$FL_SEED/other.wic.zst"); do
	use+=(--args "$a")
done
fl_ctl use "${use[@]}" "$plan" "$port0" >/dev/null
fl_until 30 1 grep -q "other.wic.zst: zstd-compressed .* from the cache" "$FL_LOG" ||
	fail "the second plan did not take other.wic.zst from the cache"
expect_eq "cache entry kept" "$(stat -c %i "$cache/$zst_sha.raw")" "$ino"
expect_eq "cache entries" "$(find "$cache" -type f | wc -l)" 4

# a reload with unchanged images is quick: nothing is hashed again
t0=$(date +%s%N)
fl_ctl reload >/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
note "reload with unchanged images: $ms ms"
grep -q "rootfs.wic.zst: zstd-compressed .* kept: the file is unchanged" "$FL_LOG" ||
	fail "the reload did not keep the unchanged rootfs.wic.zst"
fl_ctl status
fl_stop
note "flashd-compressed: ok"
