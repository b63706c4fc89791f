#!/usr/bin/env bash
# flashd-badplan: a plan that does not load never reaches a board.
#  - At start: flashd refuses a plan with an unknown command, and a plan whose image
#    does not exist, naming the plan's file:line on stderr, and exits non-zero; a
#    configuration with an unknown key is refused with flashd.conf:line.
#  - At run time: with a good plan loaded (a copy of full.lst), the plan file is
#    broken in place and flashd gets SIGHUP: the log names file:line and the plan in
#    use is unchanged; then the configuration is pointed at another bad plan and
#    `flashctl reload` fails (exit 1, "invalid", file:line). A board plugged in
#    afterwards is flashed with the old plan (journal: its path and original SHA-256)
#    and its eMMC is byte for byte expected-emmc.img.
# vm-boards: 1
# vm-timeout: 300
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
mkdir -p "$VM_TMP/plans"
good=$VM_TMP/plans/full.lst
cp "$FL_PLANS/full.lst" "$good"
good_sha=$(sha256sum "$good" | cut -d' ' -f1)
args=$(fl_plan_args "$good" | tr '\n' ' ')

# break_plan SRC DST: DST is SRC with "FB: flash mbr" misspelt; prints the line number
break_plan() {
	local n
	n=$(grep -n '^FB: flash mbr' "$1" | cut -d: -f1)
	[[ -n $n ]] || fail "$1 has no 'FB: flash mbr' line"
	sed "${n}s/^FB: flash mbr/FB: flsh mbr/" "$1" >"$2.new"
	mv "$2.new" "$2"
	echo "$n"
}

# refused [KEY=VALUE...] -- PATTERN: flashd exits non-zero at start, stderr matches
refused() {
	local kv=() rc=0
	while [[ $1 != -- ]]; do
		kv+=("$1")
		shift
	done
	fl_conf "${kv[@]}"
	timeout -k 3 30 "$FL_FLASHD" -c "$FL_CONF" 2>"$VM_TMP/start.err" || rc=$?
	sed 's/^/    /' "$VM_TMP/start.err" >&2
	((rc != 0 && rc != 124)) || fail "flashd started (status $rc) with ${kv[*]}"
	grep -Eq "$2" "$VM_TMP/start.err" || fail "flashd's error does not match '$2'"
	[[ ! -S $FL_SOCK ]] || fail "flashd left a socket behind"
}

# ---- refused at start
bad=$VM_TMP/plans/bad.lst
line=$(break_plan "$good" "$bad")
refused plan="$bad" plan-args="$args" -- "$bad:$line:"
missing=$(fl_plan_args "$good" | sed "s|rootfs.ext4\$|no-such-rootfs.ext4|" | tr '\n' ' ')
rline=$(grep -n '^FB: flash -raw2sparse rootfs' "$good" | cut -d: -f1)
refused plan="$good" plan-args="$missing" -- "$good:$rline:.*no-such-rootfs"
refused plan="$good" plan-args="$args" bogus-key=1 -- "$FL_CONF:[0-9]+:.*bogus-key"

# ---- refused at run time, the running plan stays
fl_conf plan="$good" plan-args="$args"
fl_start
fl_watch "$OUT/watch.ndjson"
expect_eq "plan loaded" "$(fl_ctl plans --json | jq -r '.loaded[0].sha256')" "$good_sha"

line=$(break_plan "$good" "$good")
kill -HUP "$FL_PID"
wait_until 20 grep -qF "$good:$line:" "$FL_LOG" || fail "SIGHUP: no '$good:$line:' in the log"
fl_alive
expect_eq "plan after SIGHUP" "$(fl_ctl plans --json | jq -r '.default + " " + .loaded[0].sha256')" \
	"$good $good_sha"

line=$(break_plan "$FL_PLANS/full.lst" "$bad")
sed -i "s|^plan = .*|plan = $bad|" "$FL_CONF"
rc=0
fl_ctl reload >"$VM_TMP/reload.txt" 2>&1 || rc=$?
cat "$VM_TMP/reload.txt" >&2
expect_eq "flashctl reload exit status" "$rc" 1
grep -q "invalid" "$VM_TMP/reload.txt" || fail "reload: no 'invalid' error code"
grep -qF "$bad:$line:" "$VM_TMP/reload.txt" || fail "reload: the error does not name $bad:$line"
fl_alive
expect_eq "plan after reload" "$(fl_ctl plans --json | jq -r '.default + " " + .loaded[0].sha256')" \
	"$good $good_sha"

# a board now gets the old plan
fl_board 0
fl_wait_result 1-1 ok 300
rec=$FL_REC
expect_eq "record plan" "$(fl_json_get "$rec" .plan)" "$good"
expect_eq "record plan_sha256" "$(fl_json_get "$rec" .plan_sha256)" "$good_sha"
fl_expect_emmc 0
fl_stop
note "flashd-badplan: ok"
