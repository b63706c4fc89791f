#!/usr/bin/env bash
# flashd-deb: the Debian packages, and the real service under systemd (issue 12).
# systemd is PID 1 in the guest ("# vm-init: systemd", tests/vm/init); the .debs
# tests/deb/check built (tests/run-all leaves them in BUILDDIR/deb: run `make
# deb-check` or tests/run-all first) are installed as README says (apt install
# ./flashd_*.deb ./flashctl_*.deb): the maintainer scripts create the users and the
# state folder and enable and start the socket. Then, with the packaged unit's whole
# sandbox: socket activation (the first flashctl starts the service); a plan in
# /etc/flashd and `systemctl reload` re-reading it (its sha256 changes); READY and the
# status line in systemctl; an operator's status works and their pause is refused, an
# admin's pause/resume works; a board flashed byte for byte; the watchdog restarts a
# SIGSTOPped loop after WatchdogSec (8 s by a drop-in) with the journal intact; stopping the service and
# a `flashctl status` starts it again; systemd-analyze security <= 1.5; nothing in the
# journal says a system call or address family was denied; flashd-web (its own package)
# serves the board's result, socket-activated as a transient user with its sandbox,
# exposure <= 2.0; purge stops and removes them.
# vm-boards: 1
# vm-timeout: 700
# vm-init: systemd
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

[[ $(cat /proc/1/comm) == systemd ]] || fail "PID 1 is $(cat /proc/1/comm), not systemd"
debs=("$BUILDDIR"/deb/flashd_*.deb "$BUILDDIR"/deb/flashctl_*.deb "$BUILDDIR"/deb/flashd-web_*.deb)
[[ -f ${debs[0]} && -f ${debs[1]} && -f ${debs[2]} ]] ||
	fail "no .debs in $BUILDDIR/deb: run make deb-check (or tests/run-all) first"
note "packages: ${debs[*]##*/}"
fl_seed

# ---- install as README says ----
# The host root this guest runs on is a container image's: its policy-rc.d forbids
# starting services (a line PC has none), and man-db's trigger would re-index every
# manual page over 9p for minutes. Neither changes what the packages do.
rm -f /usr/sbin/policy-rc.d /var/lib/man-db/auto-update
cp "${debs[@]}" "$VM_TMP/"
(cd "$VM_TMP" && apt-get install -y -q --no-install-recommends ./flashd_*.deb ./flashctl_*.deb \
	./flashd-web_*.deb) \
	>"$OUT/apt.log" 2>&1 || fail "apt install: $(tail -n 8 "$OUT/apt.log")"
systemctl is-enabled --quiet flashd.socket || fail "flashd.socket not enabled by the package"
systemctl is-active --quiet flashd.socket || fail "flashd.socket not started by the package"
getent group flashd-operators >/dev/null || fail "no flashd-operators group"
[[ $(stat -c '%U:%G %a' /var/lib/flashd) == "flashd:flashd 750" ]] ||
	fail "/var/lib/flashd is $(stat -c '%U:%G %a' /var/lib/flashd)"
[[ -e /lib/udev/rules.d/60-flashd.rules ]] || fail "no udev rule"
udevadm control --reload
note "installed: $(dpkg-query -W -f='${Package} ${Version}  ' flashd flashctl flashd-web)"
systemctl is-active --quiet flashd-web.socket || fail "flashd-web.socket not started by the package"

# a plan and its images in /etc/flashd, then reload
mkdir -p /etc/flashd/plans
cp "$FL_SEED"/{uboot-fastboot.imx,mbr.bin,u-boot.imx,env-zero.bin,rootfs.ext4} /etc/flashd/plans/
plan=$(fl_plan_copy "$FL_PLANS/full.lst")
cp "$plan" /etc/flashd/plans/full.lst
printf '%s\n' 'plan = plans/full.lst' 'settle = 1s' 'bootloop-guard = 0s' >>/etc/flashd/flashd.conf
# socket activation: the first client starts the service
flashctl status >"$OUT/status-first.txt" 2>&1 || fail "flashctl status: $(cat "$OUT/status-first.txt")"
systemctl is-active --quiet flashd.service || fail "flashd.service not started by its socket"
systemctl reload flashd.service
wait_until 30 eval "flashctl status --json | jq -e '.plan | strings | endswith(\"full.lst\")' >/dev/null" ||
	fail "after reload no plan: $(flashctl status 2>&1 | head -n 3)"
status_text=$(systemctl show -p StatusText --value flashd.service)
[[ -n $status_text ]] || fail "no status line (sd_notify STATUS=)"
systemctl status flashd.service --no-pager >"$OUT/status-unit.txt" 2>&1 || true
grep -q 'Status: "' "$OUT/status-unit.txt" || fail "systemctl status shows no Status: line"
note "systemctl: $(systemctl show -p ActiveState,SubState --value flashd.service | tr '\n' ' ')status \"$status_text\""
# the unit's Nice=-10: plugged boards first on busy CPUs (flashd(8), bench P7)
nice_=$(proc_stat "$(systemctl show -p MainPID --value flashd.service)" 19) # nice
[[ $nice_ == -10 ]] || fail "flashd.service runs at nice '$nice_', not -10"
# reload again after a change: the plan is read anew
plansha() { flashctl plans --json | jq -r '[.. | objects | select(has("steps") and has("sha256")) | .sha256] | first'; }
sha0=$(plansha)
echo "# reloaded" >>/etc/flashd/plans/full.lst
systemctl reload flashd.service
wait_until 30 eval "[[ \$(plansha) != '$sha0' ]]" || fail "systemctl reload: the plan's sha256 did not change"
note "reload: plan sha256 ${sha0:0:12}... -> $(plansha | cut -c1-12)..."

# ---- people: an operator and an admin ----
useradd -M -s /usr/sbin/nologin -G flashd-operators lineop
useradd -M -s /usr/sbin/nologin -G flashd-operators,flashd-admin lineadm
runuser -u lineop -- flashctl status >"$OUT/status-op.txt" 2>&1 ||
	fail "operator: flashctl status: $(cat "$OUT/status-op.txt") ($(ls -la /run/flashd | tr '\n' ' '))"
if runuser -u lineop -- flashctl pause >"$OUT/pause-op.txt" 2>&1; then
	fail "operator: pause accepted"
fi
runuser -u lineadm -- flashctl pause >"$OUT/pause-adm.txt" 2>&1 || fail "admin: pause refused: $(cat "$OUT/pause-adm.txt")"
[[ $(flashctl status --json | jq -r .paused) == true ]] || fail "not paused after the admin's pause"
runuser -u lineadm -- flashctl resume >/dev/null 2>&1 || fail "admin: resume refused"
[[ $(flashctl status --json | jq -r .paused) == false ]] || fail "still paused after resume"

# ---- a board ----
journal=/var/lib/flashd/results.jsonl
start_board 0 --emmc-size "$FL_EMMC_SIZE" --max-download-size "$FL_MAXDL"
wait_until 300 eval "grep -q '\"result\":\"ok\"' $journal 2>/dev/null" ||
	fail "no ok record: $(tail -c 600 "$journal" 2>/dev/null) $(flashctl status 2>&1 | tail -n 3)"
wait_event "$(board_log 0)" boot '.result == "booted"' 60 >/dev/null || fail "board 0 did not boot"
fl_expect_emmc 0
stop_board 0
note "board 0: ok, eMMC byte for byte"
# flashd-web as packaged: socket-activated, a transient user in the operators' group,
# its whole sandbox; it reads the board's result from flashd's socket
wait_until 60 eval "curl -sf http://127.0.0.1:9477/metrics >'$OUT/metrics.txt' &&
	grep -qx 'flashd_boards_total{result=\"ok\"} 1' '$OUT/metrics.txt'" ||
	fail "flashd-web: no ok board in /metrics: $(head -c 400 "$OUT/metrics.txt" 2>/dev/null)"
systemctl is-active --quiet flashd-web.service || fail "flashd-web.service not started by its socket"
page=$(curl -sf http://127.0.0.1:9477/) || fail "flashd-web: GET / failed"
grep -q '<title>' <<<"$page" || fail "flashd-web: GET / is no page"
systemd-analyze security flashd-web.service --no-pager >"$OUT/security-web.txt" 2>&1 || true
wlevel=$(sed -n 's/.*Overall exposure level for flashd-web.service: \([0-9.]*\).*/\1/p' "$OUT/security-web.txt")
[[ -n $wlevel ]] || fail "systemd-analyze security flashd-web.service: no level"
awk -v l="$wlevel" 'BEGIN { exit !(l <= 2.0) }' || fail "systemd-analyze security flashd-web.service: $wlevel > 2.0"
note "flashd-web.service (socket-activated, DynamicUser): the board in /metrics; exposure $wlevel"

# ---- the watchdog ----
# (a drop-in shortens the packaged WatchdogSec=30s to 8 s: the same mechanism, 22 s
# less of CI; the sandbox and everything else stay the package's)
mkdir -p /etc/systemd/system/flashd.service.d
printf '[Service]\nWatchdogSec=8s\n' >/etc/systemd/system/flashd.service.d/watchdog.conf
systemctl daemon-reload
systemctl restart flashd.service
wait_until 30 flashctl status >/dev/null 2>&1 || fail "flashd not back after the drop-in's restart"
records=$(wc -l <"$journal")
pid=$(systemctl show -p MainPID --value flashd.service)
n0=$(systemctl show -p NRestarts --value flashd.service)
kill -STOP "$pid"
note "SIGSTOP to flashd ($pid); WatchdogSec=$(systemctl show -p WatchdogUSec --value flashd.service)"
wait_until 120 eval "[[ \$(systemctl show -p NRestarts --value flashd.service) -gt $n0 ]]" ||
	fail "no restart after the watchdog (NRestarts $(systemctl show -p NRestarts --value flashd.service))"
wait_until 60 systemctl is-active --quiet flashd.service || fail "not active again after the watchdog restart"
pid1=$(systemctl show -p MainPID --value flashd.service)
[[ $pid1 != "$pid" ]] || fail "same MainPID after the watchdog restart"
journalctl -b -u flashd --no-pager >"$OUT/flashd-journal.txt" 2>&1 || true
grep -qi "watchdog timeout" "$OUT/flashd-journal.txt" || fail "the journal does not say the watchdog fired"
expect_eq "journal records after the restart" "$(wc -l <"$journal")" "$records"
jq -e . "$journal" >/dev/null || fail "the results journal is not valid JSON lines after the restart"
note "watchdog: restarted ($pid -> $pid1), journal intact ($records records)"
rm -r /etc/systemd/system/flashd.service.d
systemctl daemon-reload

# ---- socket activation after a stop ----
systemctl stop flashd.service
systemctl is-active --quiet flashd.socket || fail "flashd.socket stopped with the service"
! systemctl is-active --quiet flashd.service || fail "flashd.service still active after stop"
flashctl status >"$OUT/status-activated.txt" 2>&1 || fail "flashctl status did not start the service"
systemctl is-active --quiet flashd.service || fail "flashd.service not started by its socket"
note "socket activation: flashctl status started the stopped service"

# ---- the sandbox ----
systemd-analyze security flashd.service --no-pager >"$OUT/security.txt" 2>&1 || true
level=$(sed -n 's/.*Overall exposure level for flashd.service: \([0-9.]*\).*/\1/p' "$OUT/security.txt")
[[ -n $level ]] || fail "systemd-analyze security: no level"
awk -v l="$level" 'BEGIN { exit !(l <= 1.5) }' || fail "systemd-analyze security: $level > 1.5"
journalctl -b --no-pager >"$OUT/journal.txt" 2>&1 || true
if grep -Ei 'flashd(-web)?.*(seccomp|operation not permitted|address family not supported|EPERM)|type=1326|audit.*flashd' \
	"$OUT/journal.txt" >"$OUT/denied.txt"; then
	fail "the journal says something was denied: $(head -n 5 "$OUT/denied.txt")"
fi
note "systemd-analyze security flashd.service: $level"

# ---- purge ----
apt-get purge -y -q flashd-web flashd flashctl >"$OUT/purge.log" 2>&1 || fail "apt purge: $(tail -n 8 "$OUT/purge.log")"
! systemctl is-active --quiet flashd.service || fail "flashd.service still running after purge"
# the packages' files go; the plan and images added to /etc/flashd/plans are the
# admin's and stay, as dpkg leaves a folder with files it does not own
[[ ! -e /etc/flashd/flashd.conf && ! -e /var/lib/flashd ]] ||
	fail "flashd.conf or /var/lib/flashd left after purge"
[[ ! -e /lib/systemd/system/flashd.service && ! -e /lib/udev/rules.d/60-flashd.rules &&
	! -e /lib/systemd/system/flashd-web.service ]] ||
	fail "the unit or the udev rule left after purge"
note "flashd-deb: ok"
