#!/usr/bin/env bash
# bed-net: the bed of the web scenarios (issue 13), without flashd. The guest serves a
# small page (its JavaScript changes the DOM over time) and a Prometheus metrics file
# with busybox httpd (instant; python3 -m http.server takes seconds to start under TCG)
# on its own 127.0.0.1:8000, as flashd-web listens by default; QEMU forwards a free port
# of the host's 127.0.0.1 to the guest's port 8001 ("# vm-net:"), relayed to 8000
# (vm_net_relay), and nothing else: restrict=on, so the guest reaches nothing of the
# host (checked: the host's Prometheus port and the forward's own port are out of its
# reach). The host companion (tests/vm/host/bed-net) scrapes it with a real Prometheus
# server (its query API returns the served values, and sees the guest change one),
# runs promtool on a scrape, watches the page change in headless Chromium at 1080p and
# tablet size (screenshots in host/), and finds the forward closed on every address
# of the host but the loopback. tests/vm/run fails it if anything of the run listens
# beyond the loopback. The two sides meet through phase-*/host-* files (lib.sh).
# vm-boards: 1
# vm-timeout: 90
# vm-net: 8001
# vm-host: tests/vm/host/bed-net
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"

www=$VM_TMP/www
mkdir -p "$www"
cat >"$www/index.html" <<'HTML'
<!doctype html>
<html><head><meta charset="utf-8"><title>bed-net</title>
<style>body{font:40px sans-serif;margin:1em;background:#102030;color:#eee}
#state.done{color:#5d5}</style></head>
<body><h1>bed-net</h1>
<p>count <span id="n">0</span> &middot; answer <span id="answer">?</span></p>
<p id="state">running</p>
<script>
let n = 0;
const t = setInterval(() => {
  document.getElementById('n').textContent = ++n;
  if (n >= 10) {
    clearInterval(t);
    const s = document.getElementById('state');
    s.textContent = 'done';
    s.className = 'done';
  }
}, 300);
fetch('data.json').then(r => r.json())
  .then(d => { document.getElementById('answer').textContent = d.answer; });
</script></body></html>
HTML
echo '{"answer": 42}' >"$www/data.json"
# metrics: a gauge the guest changes later, a counter with labels
metrics() {
	cat >"$www/.metrics.tmp" <<PROM
# HELP bed_phase The bed scenario's phase.
# TYPE bed_phase gauge
bed_phase $1
# HELP bed_boards_total Boards finished, by result.
# TYPE bed_boards_total counter
bed_boards_total{result="ok"} 3
bed_boards_total{result="failed"} 1
PROM
	mv "$www/.metrics.tmp" "$www/metrics"
}
metrics 1

busybox httpd -f -vv -p 127.0.0.1:8000 -h "$www" >"$OUT/http.log" 2>&1 &
srv=$!
# restrict=on: the host (slirp's 10.0.2.2 is its loopback) is out of the guest's reach,
# the forward's own port there included (checked meanwhile; a dropped SYN takes 2 s)
curl -s --connect-timeout 2 -o /dev/null "http://10.0.2.2:$VM_NET_HOSTPORT/" &
reach=$!
trap 'kill "$srv" 2>/dev/null || true; vm_on_exit' EXIT
wait_until 30 curl -sf -o /dev/null "http://127.0.0.1:8000/metrics" ||
	fail "httpd does not answer on 127.0.0.1:8000"
vm_net_relay 8000
vm_phase serving

prom_url=$(vm_wait_host scraped 60)
note "the host's Prometheus: $prom_url"
curl -s --connect-timeout 2 -o /dev/null "http://10.0.2.2:${prom_url##*:}/-/ready" &
reach_prom=$!
metrics 2
vm_phase updated

summary=$(vm_wait_host finished 60)
note "host: $summary"
if wait "$reach"; then
	fail "the guest reached the host's 127.0.0.1:$VM_NET_HOSTPORT through 10.0.2.2"
fi
if wait "$reach_prom"; then
	fail "the guest reached the host's Prometheus at 10.0.2.2:${prom_url##*:} (restrict=on?)"
fi
scrapes=$(grep -c ': url:/metrics$' "$OUT/http.log")
((scrapes >= 3)) || fail "$scrapes requests for /metrics in http.log, want Prometheus' too"
grep -q ': url:/$' "$OUT/http.log" || fail "no page request in http.log"
note "bed-net: ok"
