#!/usr/bin/env bash
# flashd-deb: the Debian packages under systemd (issue 12). systemd is PID 1 in the
# guest ("# vm-init: systemd"); the .debs tests/deb/check built (tests/run-all leaves
# them in BUILDDIR/deb: run `make deb-check` or tests/run-all first) are installed as
# README says (apt install ./flashd_*.deb ./flashctl_*.deb): the maintainer scripts
# create the users, the state folder and enable and start the socket. Then, with the
# packaged unit's sandbox: a plan in /etc/flashd, `systemctl reload`, a board flashed
# byte for byte, an operator's status works and their pause is refused, the unit rates
# <= 1.5 in systemd-analyze security, nothing in the journal says something was
# denied; purge stops and removes it.
# vm-boards: 1
# vm-timeout: 600
# vm-init: systemd
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

[[ $(cat /proc/1/comm) == systemd ]] || fail "PID 1 is $(cat /proc/1/comm), not systemd"
debs=("$BUILDDIR"/deb/flashd_*.deb "$BUILDDIR"/deb/flashctl_*.deb)
[[ -f ${debs[0]} && -f ${debs[1]} ]] ||
	fail "no .debs in $BUILDDIR/deb: run make deb-check (or tests/run-all) first"
note "packages: ${debs[*]##*/}"
fl_seed

# ---- install as README says ----
cp "${debs[@]}" "$VM_TMP/"
(cd "$VM_TMP" && apt-get install -y -q --no-install-recommends ./flashd_*.deb ./flashctl_*.deb) \
	>"$OUT/apt.log" 2>&1 || fail "apt install: $(tail -n 8 "$OUT/apt.log")"
systemctl is-enabled --quiet flashd.socket || fail "flashd.socket not enabled by the package"
systemctl is-active --quiet flashd.socket || fail "flashd.socket not started by the package"
getent group flashd-operators >/dev/null || fail "no flashd-operators group"
[[ $(stat -c '%U:%G %a' /var/lib/flashd) == "flashd:flashd 750" ]] ||
	fail "/var/lib/flashd is $(stat -c '%U:%G %a' /var/lib/flashd)"
[[ -e /lib/udev/rules.d/60-flashd.rules ]] || fail "no udev rule"
udevadm control --reload
note "installed: $(dpkg-query -W -f='${Package} ${Version}  ' flashd flashctl)"

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
note "systemctl: $(systemctl show -p ActiveState,SubState --value flashd.service | tr '\n' ' ')status \"$(systemctl show -p StatusText --value flashd.service)\""

# ---- people ----
useradd -M -s /usr/sbin/nologin -G flashd-operators lineop
runuser -u lineop -- flashctl status >"$OUT/status-op.txt" 2>&1 ||
	fail "operator: flashctl status: $(cat "$OUT/status-op.txt")"
if runuser -u lineop -- flashctl pause >"$OUT/pause-op.txt" 2>&1; then
	fail "operator: pause accepted"
fi

# ---- a board ----
journal=/var/lib/flashd/results.jsonl
start_board 0 --emmc-size "$FL_EMMC_SIZE" --max-download-size "$FL_MAXDL"
wait_until 300 eval "grep -q '\"result\":\"ok\"' $journal 2>/dev/null" ||
	fail "no ok record: $(tail -c 600 "$journal" 2>/dev/null) $(flashctl status 2>&1 | tail -n 3)"
wait_event "$(board_log 0)" boot '.result == "booted"' 60 >/dev/null || fail "board 0 did not boot"
fl_expect_emmc 0
stop_board 0
note "board 0: ok, eMMC byte for byte"

# ---- the sandbox ----
systemd-analyze security flashd.service --no-pager >"$OUT/security.txt" 2>&1 || true
level=$(sed -n 's/.*Overall exposure level for flashd.service: \([0-9.]*\).*/\1/p' "$OUT/security.txt")
[[ -n $level ]] || fail "systemd-analyze security: no level"
awk -v l="$level" 'BEGIN { exit !(l <= 1.5) }' || fail "systemd-analyze security: $level > 1.5"
journalctl -b --no-pager >"$OUT/journal.txt" 2>&1 || true
if grep -Ei 'flashd.*(seccomp|operation not permitted|address family not supported|EPERM)|type=1326|audit.*flashd' \
	"$OUT/journal.txt" >"$OUT/denied.txt"; then
	fail "the journal says something was denied: $(head -n 5 "$OUT/denied.txt")"
fi
note "systemd-analyze security flashd.service: $level"

# ---- purge ----
apt-get purge -y -q flashd flashctl >"$OUT/purge.log" 2>&1 || fail "apt purge: $(tail -n 8 "$OUT/purge.log")"
! systemctl is-active --quiet flashd.service || fail "flashd.service still running after purge"
[[ ! -e /etc/flashd && ! -e /var/lib/flashd ]] || fail "/etc/flashd or /var/lib/flashd left after purge"
note "flashd-deb: ok"
