#!/usr/bin/env bash
# flashd-pools: per-board values from pools and a line of two stations (issue 14,
# flashd.conf(5) "Pools"). Boards are told apart by their SoC UID (flashd-emu --uid).
# Part 1, one station, the SQLite default: a plan writes a serial, two MACs and a
# value of a customer's list into U-Boot's environment (saveenv); two boards get
# different values, the same board again (a re-plug) gets its own again; the list
# runs empty: the next board waits (state "waiting", the reason in status, a "pool"
# event), and starts when a reload gives the list more values.
# Part 2, two stations (two flashd with their own ports, configurations and
# journals, slots-only) share pools in one PostgreSQL (a cluster in the guest, Unix
# socket only) while eight boards flash; a board flashed again on the other station
# keeps its serial and MACs; the server is stopped while boards arrive (the board
# that needs its values waits in fastboot, the next one in "waiting", both end ok
# once it is back: nothing given twice across the reconnect); both stations'
# records exported once by flashd-export, one of them killed (-9) and restarted.
# Every board's environment on its eMMC (read by fw_printenv, libubootenv's) holds
# the values its record lists; no value is held by two boards.
# vm-boards: 8
# vm-timeout: 900
set -euo pipefail
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/flashd-lib.sh
. "$SRCDIR/tests/vm/flashd-lib.sh"

fl_need
command -v fw_printenv >/dev/null || fail "fw_printenv is not installed (libubootenv-tool, tests/deps)"
EXPORT=$BUILDDIR/flashd-export
[[ -x $EXPORT ]] || fail "flashd-export is not built"
pgbin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -n 1)
[[ -x $pgbin/initdb ]] || fail "no PostgreSQL server binaries (postgresql, tests/deps)"

emmc=$((16 << 20))
random_file payload.bin $((96 * 1024))
make_imx u-boot.imx payload.bin 0x17800000
uid() { printf '%016x' $((0x5ee0000 + $1)); } # the SoC UID of board number N
# one board: K (port), N (its UID number). (fl_wait_result PORT ok T N waits for
# the port's Nth ok record.)
board() { fl_board "$1" --emmc-size "$emmc" --uid "$(uid "$2")"; }

cat >"$VM_TMP/pools.lst" <<'PLAN'
uuu_version 1.4.0
SDP: boot -f u-boot.imx
FB: ucmd env default -a
FB: ucmd setenv -f serial# ${pool:serial}
FB: ucmd setenv ethaddr ${pool:mac}
FB: ucmd setenv eth1addr ${pool:mac:1}
FB: ucmd setenv board_key ${pool:keys}
FB: ucmd saveenv
FB: flash bootloader u-boot.imx
FB: done
PLAN
sed '/board_key/d' "$VM_TMP/pools.lst" >"$VM_TMP/line.lst"

# env K NAME: variable NAME of the environment saved on board K's eMMC (U-Boot's
# CONFIG_ENV_OFFSET 0xC0000, CONFIG_ENV_SIZE 0x2000 of the emulated board)
env_of() {
	echo "$(board_emmc "$1") 0xC0000 0x2000" >"$VM_TMP/fw_env$1.config"
	fw_printenv -c "$VM_TMP/fw_env$1.config" -n "$2"
}
# check_env K REC: the board's saved environment holds the values of its record
check_env() {
	local k=$1 rec=$2 v
	v=$(env_of "$k" 'serial#')
	expect_eq "board $k serial# in its eMMC" "$v" "$(fl_json_get "$rec" '.values.serial[0]')"
	v="$(env_of "$k" ethaddr) $(env_of "$k" eth1addr)"
	expect_eq "board $k MACs in its eMMC" "$v" "$(fl_json_get "$rec" '.values.mac | join(" ")')"
}

# ============ part 1: one station, SQLite ============
seq -f 'KEY-%03g' 1 3 >"$VM_TMP/keys.txt"
pools_sqlite() {
	cat <<EOF
pool-sqlite = $VM_TMP/pools.sqlite

[pool serial]
kind = serial
format = SN%06u
start = 100
end = 999999

[pool mac]
kind = mac
range = 02:00:00:00:00:00-02:00:00:00:ff:ff
count = 2

[pool keys]
kind = list
file = $VM_TMP/keys.txt
low = 1
EOF
}
fl_conf plan="$VM_TMP/pools.lst" plan-args= settle=1s bootloop-guard=0s read-uid=yes \
	pool-retry=1s
pools_sqlite >>"$FL_CONF"
cp "$FL_CONF" "$OUT/flashd-sqlite.conf"
"$FL_FLASHD" --check-plan "$VM_TMP/pools.lst" --config "$FL_CONF" >"$OUT/check-pools.txt" 2>&1 ||
	fail "pools.lst does not load: $(tail -n 3 "$OUT/check-pools.txt")"
grep -q 'SN000100' "$OUT/check-pools.txt" || fail "check-plan shows no sample value: $(cat "$OUT/check-pools.txt")"
fl_start
fl_watch "$OUT/watch-sqlite.ndjson"
board 0 1
board 1 2
fl_wait_ok 1-1 120
r1=$FL_REC
fl_wait_ok 2-1 120
r2=$FL_REC
stop_board 0
stop_board 1
check_env 0 "$r1"
check_env 1 "$r2"
s1=$(fl_json_get "$r1" '[.values.serial[0], .values.mac[0], .values.keys[0]] | join(" ")')
s2=$(fl_json_get "$r2" '[.values.serial[0], .values.mac[0], .values.keys[0]] | join(" ")')
note "board 1: $s1; board 2: $s2"
[[ $s1 != "$s2" ]] || fail "two boards got the same values: $s1"
[[ $(fl_json_get "$r1" '.values.mac | length') == 2 ]] || fail "board 1: not two MACs"
# the same board again (UID 1) on the other port: its own values again
fl_wait_state 2-1 empty 30
board 1 1
fl_wait_result 2-1 ok 120 2
expect_eq "board 1 again: its values" \
	"$(fl_json_get "$FL_REC" '[.values.serial[0], .values.mac[0], .values.keys[0]] | join(" ")')" "$s1"
stop_board 1
# a third board takes the list's last value, the fourth waits: the list is empty
board 0 3
fl_wait_result 1-1 ok 120 2
stop_board 0
fl_wait_state 1-1 empty 30
board 0 4
fl_wait_state 1-1 waiting 60
why=$(fl_port 1-1 .reason)
[[ $why == *"keys is empty"* ]] || fail "waiting port's reason: $why"
fl_ctl status >"$OUT/status-waiting.txt"
grep -q 'pool keys: empty' "$OUT/status-waiting.txt" || fail "flashctl status says nothing of the empty pool: $(cat "$OUT/status-waiting.txt")"
fl_ctl pools >"$OUT/pools-empty.txt"
note "flashctl pools: $(tr '\n' '|' <"$OUT/pools-empty.txt")"
grep -Eq '^keys +list +sqlite +1 +3 +0 +3 +1 +empty' "$OUT/pools-empty.txt" ||
	fail "flashctl pools: $(cat "$OUT/pools-empty.txt")"
ev=$(jq -cR 'fromjson? | select(.event == "pool" and .pool.name == "keys" and .pool.state == "empty")' \
	"$OUT/watch-sqlite.ndjson")
[[ -n $ev ]] || fail "no pool event for the empty list"
# the customer sends more keys: a reload, and the waiting board starts
seq -f 'KEY-%03g' 1 5 >"$VM_TMP/keys.txt"
fl_ctl reload >/dev/null || fail "reload refused"
fl_wait_result 1-1 ok 120 3
expect_eq "board 4's key" "$(fl_json_get "$FL_REC" '.values.keys[0]')" KEY-004
stop_board 0
fl_stop
note "part 1 (SQLite): ok"

# ============ part 2: two stations, PostgreSQL ============
pgdir=$VM_TMP/pg
pgrun=$VM_TMP/pgrun
mkdir -p "$pgdir" "$pgrun"
chown nobody "$pgdir" "$pgrun"
t0=$SECONDS
runuser -u nobody -- "$pgbin/initdb" -D "$pgdir" -U flashd --auth=trust -N -E UTF8 \
	--locale=C.UTF-8 >"$OUT/initdb.log" 2>&1 || fail "initdb: $(tail -n 3 "$OUT/initdb.log")"
# its log in $pgrun (nobody cannot write $OUT), copied there at the end
pg() { runuser -u nobody -- "$pgbin/pg_ctl" -D "$pgdir" -l "$pgrun/pg.log" "$@" >/dev/null; }
pg_start() {
	pg -w -t 120 -o "-c listen_addresses='' -k $pgrun -c fsync=off" start ||
		fail "pg_ctl start: $(tail -n 5 "$pgrun/pg.log")"
}
pg_start
db="host=$pgrun user=flashd dbname=postgres"
sql() { "$pgbin/psql" -X -q -At -v ON_ERROR_STOP=1 "$db" -c "$1"; }
sql "$(cat "$SRCDIR/conf/postgresql/schema.sql")" >/dev/null || fail "schema.sql"
note "PostgreSQL up in $((SECONDS - t0)) s"

declare -A ST_PID=() EX_PID=()
# st NAME: the fl_* helpers work on station NAME (A: boards 0-3, B: boards 4-7)
st() {
	[[ -z ${CUR:-} ]] || ST_PID[$CUR]=$FL_PID
	CUR=$1
	FL_SOCK=$VM_TMP/run/$1.sock FL_CONF=$VM_TMP/$1.conf FL_JOURNAL=$VM_TMP/$1.jsonl
	FL_LOG=$OUT/flashd-$1.log FL_PID=${ST_PID[$1]:-}
}
st_conf() { # NAME FIRST-BOARD
	local k slots=()
	for k in 0 1 2 3; do slots+=("slot $1$k=$(usb_port $(($2 + k)))"); done
	fl_conf plan="$VM_TMP/line.lst" plan-args= settle=1s bootloop-guard=0s read-uid=yes \
		station-id="$1" slots-only=yes "${slots[@]}" pool-retry=1s pool-refresh=60min \
		pool-postgresql="host=$pgrun user=flashd dbname=postgres"
	cat >>"$FL_CONF" <<EOF

[pool serial]
kind = serial
format = SN%06u
start = 1
end = 999999
backend = postgresql

[pool mac]
kind = mac
range = 02:00:00:00:00:00-02:00:00:00:ff:ff
count = 2
backend = postgresql
EOF
	cp "$FL_CONF" "$OUT/flashd-$1.conf"
}
exporter() { # NAME: flashd-export of station NAME in the background
	"$EXPORT" --socket "$VM_TMP/run/$1.sock" --db "$db" --station "$1" \
		>>"$OUT/export-$1.log" 2>&1 {FL_SLEEP_FD}>&- &
	EX_PID[$1]=$!
	FL_BG_PIDS+=("${EX_PID[$1]}")
}
other_station_stop() { # at exit: the station the lib does not know of
	local n
	for n in A B; do
		[[ $n == "${CUR:-}" || -z ${ST_PID[$n]:-} ]] || kill -TERM "${ST_PID[$n]}" 2>/dev/null || true
	done
	[[ ! -e $pgdir/postmaster.pid ]] || pg -m immediate stop 2>/dev/null || true
	cp "$pgrun/pg.log" "$OUT/pg.log" 2>/dev/null || true
}
trap 'other_station_stop; fl_on_exit; vm_on_exit' EXIT

for n in A B; do
	st $n
	st_conf $n $([[ $n == A ]] && echo 0 || echo 4)
	fl_start
	exporter $n
done

# round 1: eight boards, numbers 11..18, four on each station
for k in 0 1 2 3 4 5 6 7; do board "$k" $((11 + k)); done
declare -A REC=()
for k in 0 1 2 3 4 5 6 7; do
	st $([[ $k -lt 4 ]] && echo A || echo B)
	fl_wait_ok "$(usb_port "$k")" 300
	REC[$k]=$FL_REC
	# station A's exporter dies mid-run and comes back
	if ((k == 1)); then
		kill -KILL "${EX_PID[A]}"
		exporter A
	fi
done
for k in 0 1 2 3 4 5 6 7; do stop_board "$k"; done
for k in 0 1 2 3 4 5 6 7; do check_env "$k" "${REC[$k]}"; done

# round 2: board 11 (first on station A, port 0) on station B's port 4: its values
st B
fl_wait_state "$(usb_port 4)" empty 30
board 4 11
fl_wait_result "$(usb_port 4)" ok 300 2
expect_eq "board 11 on station B keeps its serial and MACs" \
	"$(fl_json_get "$FL_REC" '[.values.serial[0]] + .values.mac | join(" ")')" \
	"$(fl_json_get "${REC[0]}" '[.values.serial[0]] + .values.mac | join(" ")')"
stop_board 4
check_env 4 "$FL_REC"

# round 3: the server stops; a new board needs its values: it waits in fastboot
# (the pool is known down from then on), the next board waits before it starts.
# (pool-refresh = 60min: only board 21's allocation finds the server gone, so the
# order is certain.)
pg -m fast stop || fail "pg_ctl stop"
st A
fl_wait_state "$(usb_port 1)" empty 30
board 1 21
waits_for_values() { [[ $(fl_port "$(usb_port 1)" .reason 2>/dev/null) == *"waiting for pool"* ]]; }
fl_until 120 0.5 waits_for_values ||
	fail "board 21 does not wait for its values: $(fl_port "$(usb_port 1)")"
note "board 21: $(fl_port "$(usb_port 1)" '[.state, .reason] | join(": ")')"
fl_port "$(usb_port 1)" .state | grep -qx '"fastboot"' || fail "board 21 is not in fastboot"
board 2 22
fl_wait_state "$(usb_port 2)" waiting 60
note "board 22: $(fl_port "$(usb_port 2)" '[.state, .reason] | join(": ")')"
fl_sleep 5
pg_start
fl_wait_result "$(usb_port 1)" ok 300 2
REC[21]=$FL_REC
fl_wait_result "$(usb_port 2)" ok 300 2
REC[22]=$FL_REC
stop_board 1
stop_board 2
check_env 1 "${REC[21]}"
check_env 2 "${REC[22]}"

# no value twice: every board's values, the journals and the database agree
all=$(cat "$VM_TMP/A.jsonl" "$VM_TMP/B.jsonl" | jq -r 'select(.result == "ok") |
	[.uid, (.values.serial[0]), (.values.mac | join(","))] | @tsv' | sort -u)
echo "$all" >"$OUT/values.tsv"
expect_eq "boards" "$(cut -f1 <<<"$all" | sort -u | wc -l)" 10
expect_eq "uid-value pairs (one per board)" "$(wc -l <<<"$all")" 10
expect_eq "serials" "$(cut -f2 <<<"$all" | sort -u | wc -l)" 10
expect_eq "MACs" "$(cut -f3 <<<"$all" | tr ',' '\n' | sort -u | wc -l)" 20
expect_eq "live bindings in PostgreSQL" \
	"$(sql "SELECT count(*) FROM flashd_pool_binding WHERE released IS NULL")" 20
expect_eq "blocks bound twice" \
	"$(sql "SELECT count(*) FROM (SELECT pool, block FROM flashd_pool_binding GROUP BY pool, block HAVING count(*) > 1) d")" 0

# every record exported once
for n in A B; do
	want=$(wc -l <"$VM_TMP/$n.jsonl")
	fl_until 60 0.5 eval "[[ \$(sql \"SELECT count(*) FROM flashd_results WHERE station = '$n'\") == $want ]]" ||
		fail "station $n: $(sql "SELECT count(*) FROM flashd_results WHERE station = '$n'") of $want records exported"
	note "station $n: $want records exported"
done
expect_eq "exported serials" \
	"$(sql "SELECT count(DISTINCT record->'values'->'serial'->>0) FROM flashd_results WHERE result = 'ok'")" 10
for n in A B; do
	st $n
	fl_stop
done
note "flashd-pools: ok"
