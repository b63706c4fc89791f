# shellcheck shell=bash
# tests/vm/matrix-lib.sh: run many fault cells through flashd on several ports at once
# and write the outcome as a markdown table (the unplug matrix and the device-fault
# table of docs/reliability.md). Source it after lib.sh and flashd-lib.sh.
#
# A cell is one emulated board with one fault: "ID|EMU OPTIONS|EXPECT|THEN|NOTE" where
#   EXPECT  the first journal record the port must get: "ok", or "failed:STEP" with
#           STEP an extended regex the whole failed_step must match (a plan step's
#           text, or a port state such as "wait-reenum"), optionally followed by
#           "~REGEX" that the reason must match; " or " in either stands for "|"
#           (the field separator)
#   THEN    restart: the scenario unplugs the board (stops the emulator), waits until
#           flashd has the port empty, and plugs in a fresh one without the fault,
#           which must end "ok"; none: nothing more
# Ports 1..N-1 take the cells from a queue, one cell a port at a time; port 0 (the
# witness) flashes fault-free boards the whole time: each must end "ok" at once
# and every eMMC that ends "ok" is compared byte for byte with FL_EXPECTED.
# A cell fails when its port's records differ from EXPECT/THEN, when a record does not
# come within MX_TIMEOUT seconds (a hang), or when the eMMC differs. Cells named in
# MX_KNOWN (ids, blank-separated) are reported as "known failure" and do not fail the
# run; the docs list the same ids.

MX_CELLS=()          # the queue
MX_TIMEOUT=${MX_TIMEOUT:-90}
MX_KNOWN=${MX_KNOWN:-}
MX_TABLE=''          # markdown rows
MX_FAILED=0 MX_PASSED=0 MX_KNOWN_HIT=0
MX_WITNESS_OK=0 MX_WITNESS_BAD=0
MX_UID=$((0x4d00000000000000))
declare -A MX_CNT=() MX_RECS=() MX_BASE_OPTS=() MX_STATE=()
MX_JFD=''
MX_PART=''

# mx_emu_base K OPTS...: options every board on port K gets (the plan's board kind)
mx_base() {
	local k=$1
	shift
	MX_BASE_OPTS[$k]="$*"
}

# mx_journal_poll: read the journal lines appended since the last call; MX_CNT[port]
# = records so far, MX_RECS[port#N] = the Nth (1-based)
mx_journal_poll() {
	local line port
	if [[ -z $MX_JFD ]]; then
		[[ -e $FL_JOURNAL ]] || return 0
		exec {MX_JFD}<"$FL_JOURNAL"
	fi
	while IFS= read -r -u "$MX_JFD" line || { [[ -n $line ]] && MX_PART+=$line && false; }; do
		line=$MX_PART$line
		MX_PART=''
		[[ $line =~ \"port\":\"([^\"]+)\" ]] || continue
		port=${BASH_REMATCH[1]}
		MX_CNT[$port]=$((${MX_CNT[$port]:-0} + 1))
		MX_RECS[$port#${MX_CNT[$port]}]=$line
	done
}

mx_md() { # escape a table cell
	local s=${1//|/\\|}
	printf '%s' "${s//$'\n'/ }"
}

# mx_start K OPTS...: a fresh blank board on port K
mx_start() {
	local k=$1
	shift
	rm -f "$(board_emmc "$k")" "$(board_emmc "$k")".*
	MX_UID=$((MX_UID + 1))
	MX_START_MS[$k]=$((${EPOCHREALTIME/./} / 1000))
	local -a base=()
	read -ra base <<<"${MX_BASE_OPTS[$k]:-}"
	fl_board "$k" "${base[@]}" --uid "$(printf '%x' "$MX_UID")" --log "$OUT/$MX_LOGNAME.jsonl" "$@"
}

# mx_states: MX_STATE[port] = the port's state now (one flashctl, one jq)
mx_ports_json=''
mx_states() {
	local l
	MX_STATE=()
	mx_ports_json=$(fl_status 2>/dev/null || echo '{}')
	while read -r l; do
		if [[ -n $l ]]; then MX_STATE[${l%% *}]=${l#* }; fi
	done <<<"$(jq -r '.ports[]? | "\(.port) \(.state)"' <<<"$mx_ports_json")"
}

# mx_port_empty PORT: the last status shows the port empty (or not at all: no
# device was ever there)
mx_port_empty() {
	[[ ${MX_STATE[$1]:-empty} == empty ]]
}

# mx_next_rec K: MX_REC = the next record of port K not looked at yet (status 1: none)
mx_next_rec() {
	local port
	port=$(usb_port "$1")
	while ((${MX_CNT[$port]:-0} > MX_SEEN[$1])); do
		MX_SEEN[$1]=$((MX_SEEN[$1] + 1))
		MX_REC=${MX_RECS[$port#${MX_SEEN[$1]}]}
		# a record of a board plugged in before this cell's is not the cell's
		[[ $MX_REC =~ \"start_ms\":([0-9]+) ]] && ((BASH_REMATCH[1] < MX_START_MS[$1])) &&
			continue
		return 0
	done
	return 1
}

# per port: the cell it runs and where it is
declare -A MX_ID=() MX_EXPECT=() MX_THEN=() MX_NOTE=() MX_PHASE=() MX_DEADLINE=()
declare -A MX_START_MS=() MX_WHYK=() MX_GOT=() MX_SECOND=() MX_EMMC=() MX_T0=()

mx_cell_next() { # K: give port K the next cell, or nothing
	local k=$1 cell id opts expect after note
	((${#MX_CELLS[@]})) || return 1
	cell=${MX_CELLS[0]}
	MX_CELLS=("${MX_CELLS[@]:1}")
	IFS='|' read -r id opts expect after note <<<"$cell"
	MX_ID[$k]=$id MX_EXPECT[$k]=$expect MX_THEN[$k]=$after MX_NOTE[$k]=$note
	MX_GOT[$k]='' MX_SECOND[$k]='' MX_EMMC[$k]='' MX_T0[$k]=$SECONDS
	MX_PHASE[$k]=first
	MX_DEADLINE[$k]=$((SECONDS + MX_TIMEOUT))
	MX_LOGNAME=cell-$id
	local -a words=()
	read -ra words <<<"$opts" # words, no globbing (flash:*)
	mx_start "$k" "${words[@]}"
	return 0
}

# mx_check_first K REC: does the first record match the cell's EXPECT? (MX_WHY: why not)
MX_WHY=''
mx_check_first() {
	local k=$1 rec=$2 want=${MX_EXPECT[$1]} res step reason wstep wre=''
	res=$(jq -r .result <<<"$rec")
	step=$(jq -r '.failed_step // ""' <<<"$rec")
	reason=$(jq -r '.reason // ""' <<<"$rec")
	MX_GOT[$k]="$res${step:+ at \`$step\`}${reason:+: $reason}"
	if [[ $want == ok ]]; then
		[[ $res == ok ]] || { MX_WHY="want ok"; return 1; }
		return 0
	fi
	wstep=${want#failed:}
	if [[ $wstep == *'~'* ]]; then
		wre=${wstep#*~}
		wstep=${wstep%%~*}
	fi
	wstep=${wstep// or /|}
	wre=${wre// or /|}
	[[ $res == failed ]] || { MX_WHY="want failed, got $res"; return 1; }
	[[ $step =~ ^($wstep)$ ]] || { MX_WHY="want the step /$wstep/"; return 1; }
	[[ -n $reason ]] || { MX_WHY="no reason"; return 1; }
	[[ -z $wre || $reason =~ $wre ]] || { MX_WHY="reason does not match /$wre/"; return 1; }
	return 0
}

mx_row() { # K VERDICT WHY
	local k=$1 verdict=$2 why=$3 id=${MX_ID[$1]}
	if [[ $verdict != pass ]] && [[ " $MX_KNOWN " == *" $id "* ]]; then
		verdict="known failure"
		MX_KNOWN_HIT=$((MX_KNOWN_HIT + 1))
	elif [[ $verdict != pass ]]; then
		MX_FAILED=$((MX_FAILED + 1))
	else
		MX_PASSED=$((MX_PASSED + 1))
	fi
	MX_TABLE+="| $(mx_md "$id") | $(mx_md "${MX_NOTE[$k]}") | $(mx_md "${MX_EXPECT[$k]}") | $(mx_md "${MX_GOT[$k]}") | $(mx_md "${MX_SECOND[$k]:--}") | ${MX_EMMC[$k]:--} | $((SECONDS - MX_T0[$k])) s | **$verdict**${why:+ ($(mx_md "$why"))} |"$'\n'
	note "cell $id: $verdict${why:+ ($why)}: ${MX_GOT[$k]}"
	MX_PHASE[$k]=drain
}

mx_emmc_ok() { # K: the eMMC is the expected image
	cmp -s "$(board_emmc "$1")" "$FL_EXPECTED"
}

# mx_step K: move port K's cell on (called every tick)
mx_step() {
	local k=$1 port rec
	port=$(usb_port "$k")
	case ${MX_PHASE[$k]:-idle} in
	idle) ;;
	first)
		if mx_next_rec "$k"; then
			MX_WHY=''
			mx_check_first "$k" "$MX_REC" || true
			MX_WHYK[$k]=$MX_WHY
			case ${MX_THEN[$k]} in
			restart)
				stop_board "$k"
				MX_PHASE[$k]=restart
				# the removal can lag: usbhid's probe of a board cut mid-enumeration
				# holds the device for its control timeouts (5 s each, retried)
				MX_DEADLINE[$k]=$((SECONDS + 60))
				;;
			*)
				stop_board "$k"
				mx_row "$k" "$([[ -z $MX_WHY ]] && echo pass || echo fail)" "$MX_WHY"
				;;
			esac
		elif ((SECONDS > MX_DEADLINE[$k])); then
			MX_GOT[$k]="no record in $MX_TIMEOUT s; port: $(jq -c --arg p "$port" '.ports[]? | select(.port == $p) | [.state, .step, .reason]' <<<"$mx_ports_json")"
			stop_board "$k"
			mx_row "$k" fail "hang"
		fi
		;;
	restart)
		if mx_port_empty "$port"; then
			MX_LOGNAME=cell-${MX_ID[$k]}-2
			mx_start "$k"
			MX_PHASE[$k]=second
			MX_DEADLINE[$k]=$((SECONDS + MX_TIMEOUT))
		elif ((SECONDS > MX_DEADLINE[$k])); then
			mx_row "$k" fail "the port did not get empty after the unplug"
		fi
		;;
	second)
		if mx_next_rec "$k"; then
			MX_SECOND[$k]=$(jq -r '.result + (if .failed_step then " at `" + .failed_step + "`: " + .reason else "" end)' <<<"$MX_REC")
			if [[ ${MX_SECOND[$k]} == ok ]] && mx_emmc_ok "$k"; then
				MX_EMMC[$k]=same
			elif [[ ${MX_SECOND[$k]} == ok ]]; then
				MX_EMMC[$k]=DIFFERS
			fi
			stop_board "$k"
			if [[ -n ${MX_WHYK[$k]} ]]; then
				mx_row "$k" fail "${MX_WHYK[$k]}"
			elif [[ ${MX_SECOND[$k]} != ok ]]; then
				mx_row "$k" fail "the next board did not end ok"
			elif [[ ${MX_EMMC[$k]} != same ]]; then
				mx_row "$k" fail "eMMC differs from the expected image"
			else
				mx_row "$k" pass ''
			fi
		elif ((SECONDS > MX_DEADLINE[$k])); then
			MX_SECOND[$k]="no record in $MX_TIMEOUT s"
			stop_board "$k"
			mx_row "$k" fail "${MX_WHYK[$k]:+${MX_WHYK[$k]}; }hang: no record for the fresh board"
		fi
		;;
	drain)
		if mx_port_empty "$port"; then
			MX_PHASE[$k]=idle
		fi
		;;
	esac
}

# the witness on port 0
MX_W_PHASE=idle MX_W_DEADLINE=0
mx_witness() {
	local port rec
	port=$(usb_port 0)
	case $MX_W_PHASE in
	idle)
		((MX_ACTIVE)) || return 0
		mx_port_empty "$port" || return 0
		MX_LOGNAME=witness-$((MX_WITNESS_OK + MX_WITNESS_BAD + 1))
		mx_start 0
		MX_W_PHASE=run MX_W_DEADLINE=$((SECONDS + MX_TIMEOUT))
		;;
	run)
		if mx_next_rec 0; then
			rec=$MX_REC
			if [[ $(jq -r .result <<<"$rec") == ok ]] && mx_emmc_ok 0; then
				MX_WITNESS_OK=$((MX_WITNESS_OK + 1))
			else
				MX_WITNESS_BAD=$((MX_WITNESS_BAD + 1))
				note "witness: $(jq -c '[.result, .failed_step, .reason]' <<<"$rec"); eMMC $(mx_emmc_ok 0 && echo same || echo DIFFERS)"
			fi
			stop_board 0
			MX_W_PHASE=idle
		elif ((SECONDS > MX_W_DEADLINE)); then
			MX_WITNESS_BAD=$((MX_WITNESS_BAD + 1))
			note "witness: no record in $MX_TIMEOUT s"
			stop_board 0
			MX_W_PHASE=idle
		fi
		;;
	esac
}

# mx_run: run the queue on ports 1..NBOARDS-1 with the witness on port 0
declare -A MX_SEEN=()
MX_ACTIVE=1
mx_run() {
	local k busy port
	mx_journal_poll
	for ((k = 0; k < NBOARDS; k++)); do
		port=$(usb_port "$k")
		MX_SEEN[$k]=${MX_CNT[$port]:-0}
	done
	while :; do
		fl_alive
		mx_journal_poll
		mx_states
		busy=0
		for ((k = 1; k < NBOARDS; k++)); do
			mx_step "$k"
			if [[ ${MX_PHASE[$k]:-idle} == idle ]]; then
				mx_port_empty "$(usb_port "$k")" && mx_cell_next "$k" && busy=1
			else
				busy=1
			fi
		done
		MX_ACTIVE=$busy
		mx_witness
		((busy)) || [[ $MX_W_PHASE == run ]] || break
		fl_sleep 0.5
	done
}

# mx_table TITLE: the markdown table of the cells run so far
mx_table() {
	echo "| cell | fault | expected first record | first record | next board | eMMC | time | verdict |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '%s' "$MX_TABLE"
	echo
	echo "$MX_PASSED passed, $MX_FAILED failed, $MX_KNOWN_HIT known failures; witness boards" \
		"on $(usb_port 0) meanwhile: $MX_WITNESS_OK ok byte for byte, $MX_WITNESS_BAD not."
	# the failed rows again, last: a log's tail (CI) shows them
	if ((MX_FAILED > 0)); then
		echo "failed cells:"
		grep -F -- '**fail**' <<<"$MX_TABLE" || true
	fi
}
