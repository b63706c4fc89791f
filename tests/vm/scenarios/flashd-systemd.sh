#!/usr/bin/env bash
# flashd-systemd: the real service under systemd (issue 12). systemd is PID 1 in the
# guest ("# vm-init: systemd", tests/vm/init); flashd is installed the way README's
# "Build and install by hand" says (make install, systemd-sysusers, systemd-tmpfiles,
# udevadm control --reload, systemctl enable --now flashd.socket flashd.service) and
# runs with its unit's whole sandbox. Checks: systemctl shows it READY with its status
# line; a board is flashed (eMMC byte for byte); an operator's `flashctl status` works
# and their `pause` is refused, an admin's pause/resume works; `systemctl reload`
# re-reads the plan; the watchdog restarts a stopped loop (SIGSTOP) after WatchdogSec
# with the journal intact; socket activation starts the stopped service on a
# `flashctl status`; `systemd-analyze security` rates the unit <= 1.5; nothing in the
# journal says a system call or address family was denied.
# vm-boards: 1
# vm-timeout: 600
# vm-init: systemd
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

[[ $(cat /proc/1/comm) == systemd ]] || fail "PID 1 is $(cat /proc/1/comm), not systemd"
fl_seed

# ---- install as README says ----
make -C "$BUILDDIR" install >"$OUT/install.log" 2>&1 || fail "make install: $(tail -n 5 "$OUT/install.log")"
prefix=$(sed -n 's/^prefix = //p' "$BUILDDIR/Makefile")
etc=$(sed -n 's/^sysconfdir = //p' "$BUILDDIR/Makefile")
etc=${etc//\$\{prefix\}/$prefix}
note "installed under $prefix (configuration in $etc/flashd)"
t0=$SECONDS
systemd-sysusers >"$OUT/sysusers.log" 2>&1 || fail "systemd-sysusers: $(cat "$OUT/sysusers.log")"
systemd-tmpfiles --create >"$OUT/tmpfiles.log" 2>&1 || note "systemd-tmpfiles --create: $(tail -n 3 "$OUT/tmpfiles.log")"
udevadm control --reload
note "sysusers, tmpfiles, udev reload: $((SECONDS - t0)) s"
getent passwd flashd >/dev/null || fail "no flashd user after systemd-sysusers"
[[ -d /var/lib/flashd ]] || fail "no /var/lib/flashd after systemd-tmpfiles"

# the seed plan and its images where the service may read them
plans=$etc/flashd/plans
mkdir -p "$plans"
cp "$FL_SEED"/{uboot-fastboot.imx,mbr.bin,u-boot.imx,env-zero.bin,rootfs.ext4} "$plans/"
plan=$(fl_plan_copy "$FL_PLANS/full.lst")
cp "$plan" "$plans/full.lst"
cat >"$etc/flashd/flashd.conf" <<CONF
plan = plans/full.lst
settle = 1s
bootloop-guard = 0s
CONF
"$prefix/sbin/flashd" --check-plan "$plans/full.lst" >"$OUT/check.txt" 2>&1 ||
	fail "the seed plan does not load: $(tail -n 3 "$OUT/check.txt")"

systemctl daemon-reload
systemctl enable --now flashd.socket flashd.service >"$OUT/enable.log" 2>&1 ||
	fail "systemctl enable --now: $(cat "$OUT/enable.log")"
ctl() { "$prefix/bin/flashctl" "$@"; }
wait_until 60 systemctl is-active --quiet flashd.service || {
	systemctl status flashd.service --no-pager >&2 || true
	journalctl -b -u flashd --no-pager | tail -n 20 >&2 || true
	fail "flashd.service not active"
}
systemctl status flashd.service --no-pager >"$OUT/status-unit.txt" 2>&1 || true
status_text=$(systemctl show -p StatusText --value flashd.service)
[[ -n $status_text ]] || fail "no status line (sd_notify STATUS=)"
note "systemctl: $(systemctl show -p ActiveState,SubState --value flashd.service | tr '\n' ' ')status \"$status_text\""
grep -q "Status: \"" "$OUT/status-unit.txt" || fail "systemctl status shows no Status: line"

# ---- people: an operator and an admin ----
useradd -M -s /usr/sbin/nologin -G flashd-operators lineop
useradd -M -s /usr/sbin/nologin -G flashd-operators,flashd-admin lineadm
runuser -u lineop -- "$prefix/bin/flashctl" status >"$OUT/status-op.txt" 2>&1 ||
	fail "operator: flashctl status failed: $(cat "$OUT/status-op.txt") ($(id lineop); $(ls -la /run/flashd | tr '\n' ' '); $(runuser -u lineop -- id))"
if runuser -u lineop -- "$prefix/bin/flashctl" pause >"$OUT/pause-op.txt" 2>&1; then
	fail "operator: flashctl pause was accepted"
fi
grep -qi "not allowed\|permission\|denied\|admin" "$OUT/pause-op.txt" ||
	fail "operator's pause: no reason: $(cat "$OUT/pause-op.txt")"
runuser -u lineadm -- "$prefix/bin/flashctl" pause >"$OUT/pause-adm.txt" 2>&1 ||
	fail "admin: pause refused: $(cat "$OUT/pause-adm.txt")"
[[ $(ctl status --json | jq -r .paused) == true ]] || fail "not paused after the admin's pause"
runuser -u lineadm -- "$prefix/bin/flashctl" resume >/dev/null 2>&1 || fail "admin: resume refused"
[[ $(ctl status --json | jq -r .paused) == false ]] || fail "still paused after resume"

# ---- a board ----
journal=/var/lib/flashd/results.jsonl
start_board 0 --emmc-size "$FL_EMMC_SIZE" --max-download-size "$FL_MAXDL"
wait_until 300 eval "[[ -s $journal ]] && grep -q '\"result\":\"ok\"' $journal" ||
	fail "no ok record in $journal: $(tail -c 600 "$journal" 2>/dev/null) $(ctl status 2>&1 | tail -n 3)"
wait_event "$(board_log 0)" boot '.result == "booted"' 60 >/dev/null || fail "board 0 did not boot"
fl_expect_emmc 0
stop_board 0
note "board 0: ok, eMMC byte for byte"

# ---- reload re-reads the plan ----
plansha() { ctl plans --json | jq -r '[.. | objects | select(has("steps") and has("sha256")) | .sha256] | first'; }
sha0=$(plansha)
echo "# reloaded" >>"$plans/full.lst"
systemctl reload flashd.service
wait_until 30 eval "[[ \$(plansha) != '$sha0' ]]" ||
	fail "systemctl reload: the plan's sha256 did not change ($sha0)"
note "reload: plan sha256 ${sha0:0:12}... -> $(plansha | cut -c1-12)..."

# ---- the watchdog ----
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
journalctl -b -u flashd --no-pager | grep -i "watchdog" >"$OUT/watchdog.txt" || true
grep -qi "watchdog timeout" "$OUT/watchdog.txt" || fail "the journal does not say the watchdog fired"
expect_eq "journal records after the restart" "$(wc -l <"$journal")" "$records"
jq -e . "$journal" >/dev/null || fail "the results journal is not valid JSON lines after the restart"
note "watchdog: restarted ($pid -> $pid1), journal intact ($records records)"

# ---- socket activation ----
systemctl stop flashd.service
systemctl is-active --quiet flashd.socket || fail "flashd.socket stopped with the service"
! systemctl is-active --quiet flashd.service || fail "flashd.service still active after stop"
ctl status >"$OUT/status-activated.txt" 2>&1 || fail "flashctl status did not start the service: $(cat "$OUT/status-activated.txt")"
systemctl is-active --quiet flashd.service || fail "flashd.service not started by its socket"
note "socket activation: flashctl status started flashd.service"

# ---- the sandbox ----
systemd-analyze security flashd.service --no-pager >"$OUT/security.txt" 2>&1 || true
level=$(sed -n 's/.*Overall exposure level for flashd.service: \([0-9.]*\).*/\1/p' "$OUT/security.txt")
[[ -n $level ]] || fail "systemd-analyze security: no level: $(tail -n 3 "$OUT/security.txt")"
awk -v l="$level" 'BEGIN { exit !(l <= 1.5) }' || fail "systemd-analyze security: $level > 1.5"
note "systemd-analyze security flashd.service: $level"
journalctl -b --no-pager >"$OUT/journal.txt" 2>&1 || true
if grep -Ei 'flashd.*(seccomp|operation not permitted|address family not supported|EPERM)|type=1326|audit.*flashd' \
	"$OUT/journal.txt" >"$OUT/denied.txt"; then
	fail "the journal says something was denied: $(head -n 5 "$OUT/denied.txt")"
fi
systemctl stop flashd.service flashd.socket
note "flashd-systemd: ok"
