#!/usr/bin/env bash
# tests/vm/demo.sh: the guest side of tests/demo (not a check-vm scenario). flashd runs
# with the example full plan (conf/plans/full.lst, mkseed images) and four emulated
# blank boards, each with its own timing, are plugged in; `flashctl watch` draws its
# live view on the guest's console (the serial port, which tests/demo shows on the
# user's terminal), then `flashctl status` and `flashctl history` are printed there.
# flashd-web serves the station's dashboard and /metrics meanwhile, forwarded to the
# host's loopback only (its URL is printed first). Fails unless all four boards end
# "ok" with the expected eMMC bytes and the metrics count them.
# Environment (optional): DEMO_COLS, DEMO_ROWS (the user's terminal size),
# DEMO_TERM (default xterm-256color), NO_COLOR, DEMO_HOLD (seconds, at most 600, to
# keep the dashboard up after the boards are done).
# vm-boards: 4
# vm-timeout: 1000
# vm-net: 9477
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

console=/dev/console
say() {
	printf '%s\n' "$*" >"$console"
}

fl_need
if [[ -n ${DEMO_COLS:-} && -n ${DEMO_ROWS:-} ]]; then
	stty -F "$console" cols "$DEMO_COLS" rows "$DEMO_ROWS" || true
fi
export TERM=${DEMO_TERM:-xterm-256color}
say ""
say "== flashd demo: making the seed images (U-Boot, MBR, ${FL_ROOTFS_MIB} MiB ext4 rootfs)"
fl_seed
fl_conf
fl_start
web_url=http://$VM_NET_ADDR:$VM_NET_PORT
"$BUILDDIR/flashd-web" --socket "$FL_SOCK" --listen "$VM_NET_ADDR:$VM_NET_PORT" \
	>"$OUT/web.log" 2>&1 &
FL_BG_PIDS+=("$!")
wait_until 30 curl -sf -o /dev/null "$web_url/metrics" ||
	fail "flashd-web does not answer: $(tail -n 3 "$OUT/web.log")"
say "== the station's dashboard: http://127.0.0.1:$VM_NET_HOSTPORT/ (metrics: /metrics),"
say "   open it in a browser on this machine while the demo runs"
say "== flashd is running the plan $FL_PLANS/full.lst; plugging in four blank boards"
say ""
"$FL_FLASHCTL" --socket "$FL_SOCK" watch >"$console" 2>&1 &
watch=$!
FL_BG_PIDS+=("$watch")
sleep 1
fl_board 0
fl_board 1 --reenum-delay 2500
fl_board 2 --emmc-mbps 6
fl_board 3 --soc 6dl
for k in 0 1 2 3; do
	fl_wait_result "$(usb_port "$k")" ok 300
done
sleep 3 # the last redraws
kill -TERM "$watch" 2>/dev/null || true # background jobs ignore SIGINT
wait "$watch" 2>/dev/null || true
for k in 0 1 2 3; do
	fl_expect_emmc "$k"
done
{
	echo ""
	echo "== all four eMMCs hold exactly the expected image"
	echo ""
	echo "\$ flashctl status"
	fl_ctl status
	echo ""
	echo "\$ flashctl history"
	fl_ctl history
	echo ""
	echo "\$ curl -s http://127.0.0.1:$VM_NET_HOSTPORT/metrics | grep '^flashd_boards_total'"
	curl -s "$web_url/metrics" | grep '^flashd_boards_total'
	echo ""
} >"$console" 2>&1
metrics=$(curl -s "$web_url/metrics")
grep -qx 'flashd_boards_total{result="ok"} 4' <<<"$metrics" ||
	fail "the dashboard's metrics do not count four ok boards"
hold=${DEMO_HOLD:-0}
if ! [[ $hold =~ ^[0-9]+$ ]] || ((hold > 600)); then
	fail "DEMO_HOLD: seconds, at most 600"
fi
if ((hold > 0)); then
	say "== the dashboard stays up for $hold s: http://127.0.0.1:$VM_NET_HOSTPORT/"
	sleep "$hold"
fi
fl_stop
