#!/usr/bin/env bash
# flashd-web: the line's view (issue 13). flashd flashes four boards (one fails at the
# rootfs: --fault-fail flash:rootfs) while flashd-web, a client of its control socket,
# serves the dashboard, /metrics and /api in the guest on a port QEMU forwards to the
# host's loopback only ("# vm-net:"). The host companion (tests/vm/host/flashd-web)
# runs a real Prometheus scraping /metrics and headless Chromium on the dashboard:
# - while the boards flash: four tiles, a progress bar that moves, live, no reload;
# - flashd-web is killed (-9) and started again mid-run: the page comes back by itself
#   and the boards finish as if nothing happened (three eMMCs byte for byte);
# - after the batch: tiles 3 done + 1 failed, counters ok 3 / failed 1, the failed
#   board in the results and in the alarm; Prometheus' query API returns the boards by
#   result, the step histograms have counts, promtool passes on a scrape; screenshots;
# - flashd is restarted under flashd-web: the page says so and resynchronises from the
#   snapshot and the journal (still 3 ok / 1 failed today), and a fifth board flashed
#   after it shows up live.
# (settle=5min: a finished port keeps its result on the page until its next board.)
# Guest and host meet through phase-*/host-* files (tests/vm/lib.sh, tests/vm/host/lib.sh).
# vm-boards: 5
# vm-timeout: 600
# vm-net: 9477
# vm-host: tests/vm/host/flashd-web
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
fl_seed
WEB=$BUILDDIR/flashd-web
[[ -x $WEB ]] || fail "no $WEB (build first)"
WEB_URL=http://$VM_NET_ADDR:$VM_NET_PORT
WEB_PID=''
fl_conf settle=5min "slot A1=$(usb_port 0)" "slot A2=$(usb_port 1)" "slot A3=$(usb_port 2)" \
	"slot A4=$(usb_port 3)" "slot B1=$(usb_port 4)"
fl_start

# web_start: flashd-web on the forwarded address (the guest's own network is closed:
# restrict=on), as a line PC's unit runs it: an unprivileged client of the socket
web_start() {
	"$WEB" --socket "$FL_SOCK" --listen "$VM_NET_ADDR:$VM_NET_PORT" >>"$OUT/web.log" 2>&1 &
	WEB_PID=$!
	wait_until 30 curl -sf -o /dev/null "$WEB_URL/metrics" ||
		fail "flashd-web does not answer on $WEB_URL: $(tail -n 3 "$OUT/web.log")"
	note "flashd-web up (pid $WEB_PID)"
}
trap '[[ -z $WEB_PID ]] || kill "$WEB_PID" 2>/dev/null || true; fl_on_exit' EXIT
# restrict=on: the host (slirp's 10.0.2.2 is its loopback) is out of the guest's reach,
# the forward's own port there included (checked meanwhile; a dropped SYN takes 2 s)
curl -s --connect-timeout 2 -o /dev/null "http://10.0.2.2:$VM_NET_HOSTPORT/" &
reach=$!
web_start
curl -sf "$WEB_URL/api/status" >"$OUT/status-0.json" || fail "GET /api/status failed"
expect_eq "api/status connected" "$(jq -r .connected "$OUT/status-0.json")" true
# bad requests: 4xx, never a crash
expect_eq "POST /" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$WEB_URL/")" 405
expect_eq "GET /nope" "$(curl -s -o /dev/null -w '%{http_code}' "$WEB_URL/nope")" 404
expect_eq "GET /api/history?limit=x" \
	"$(curl -s -o /dev/null -w '%{http_code}' "$WEB_URL/api/history?limit=x")" 400
if wait "$reach"; then
	fail "the guest reached the host's 127.0.0.1:$VM_NET_HOSTPORT through 10.0.2.2"
fi
vm_phase web-up
vm_wait_host watching 120 >/dev/null

# four boards on slow links (the page must see the progress move); board 3 fails; board
# 2 comes after flashd-web's restart below, so that a record surely arrives after it
# (the histograms hold only records flashd-web saw arrive: with the others alone, a
# loaded host could end them all while flashd-web was down)
for k in 0 1; do
	fl_board "$k" --link-mbps 6
done
fl_board 3 --link-mbps 6 --fault-fail 'flash:rootfs'
vm_phase flashing
vm_wait_host progress-seen 180 >/dev/null

# flashd-web dies mid-run and comes back: flashing goes on untouched
fl_json_get "$(fl_status)" '[.ports[] | select(.state != "empty") | .state] | join(" ")' \
	>"$OUT/states-at-kill.txt"
note "killing flashd-web mid-run (ports: $(<"$OUT/states-at-kill.txt"))"
kill -9 "$WEB_PID"
wait "$WEB_PID" 2>/dev/null || true
web_start
wait_until 30 eval "curl -sf '$WEB_URL/api/status' | jq -e '.connected == true' >/dev/null" ||
	fail "flashd-web not connected to flashd 30 s after its restart"
fl_board 2 --link-mbps 6
vm_phase web-restarted

for k in 0 1 2; do
	fl_wait_result "$(usb_port "$k")" ok 400
done
fl_wait_result "$(usb_port 3)" failed 400
for k in 0 1 2; do
	fl_expect_emmc "$k"
done
history=$(curl -sf "$WEB_URL/api/history?limit=10") || fail "GET /api/history failed"
expect_eq "api/history records" "$(jq '.records | length' <<<"$history")" 4
vm_phase batch-done
vm_wait_host batch-checked 180 >/dev/null

# flashd restarts under flashd-web: it reconnects and resynchronises by itself (the
# failed board is taken off first: a new flashd would take it for a board to flash)
stop_board 3
fl_stop
vm_phase flashd-down
vm_wait_host saw-down 60 >/dev/null
fl_start
vm_phase flashd-up
vm_wait_host resynced 90 >/dev/null
fl_board 4 --link-mbps 6
fl_wait_result "$(usb_port 4)" ok 400
fl_expect_emmc 4
vm_phase fifth-done
vm_wait_host fifth-seen 120 >/dev/null
# flashd-web never took anything from flashd but its socket: still one process, alive
kill -0 "$WEB_PID" 2>/dev/null || fail "flashd-web died: $(tail -n 3 "$OUT/web.log")"
fl_alive
note "flashd-web: ok"
