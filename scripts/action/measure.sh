#!/usr/bin/env bash
# measure.sh: runs the scenarios with m18-run and gathers the baseline.
#
#   ab mode:      the base commit, checked out beside the head by
#                 prepare.sh (M18_BASE_DIR), and the head are built, and each scenario runs
#                 base/head interleaved A B B A … one repetition per m18-run,
#                 the target restarted for every run, so machine drift hits
#                 both sides alike.
#   history mode: the head runs its repetitions (one m18-run each); the next
#                 step (baseline.sh) fetches the stored baseline.
#
# This step runs the pull request's code and never holds the token:
# build-command and target-command run through `scrubbed` (lib.sh), with an
# environment of a few allow-listed variables.
#
# Writes $M18_WORK/out/head/*.json, out/base/*.json (ab), the confirming
# re-run's out/confirm/{base,head}/*.json and, when it looks in turn, its
# plan out/confirm/looks (ab, when a regression is to be confirmed: the
# confirm input) and
# $M18_WORK/scenarios (one per line), and sets the output result-path.
set -euo pipefail
set -m # every background job gets its own process group: the target is stopped whole
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

bin=${M18_BIN:?}
work=${M18_WORK:?}
out="$work/out"
head_dir=${GITHUB_WORKSPACE:-$PWD}
mode=${M18_MODE:-ab}
case "$mode" in bench | files) exit 0 ;; esac # any benchmark tool: bench.sh measures
reps=${M18_REPETITIONS:-10}
export PATH="$bin:$PATH"
mkdir -p "$out/head" "$out/base" "$out/logs"

# --- scenarios: the input, else the config's tier (m18-gate scenarios), else
# the CI default; none when the tasks input is given without scenarios.
read -r -a scenarios <<<"$(printf '%s' "${M18_SCENARIOS:-}" | tr ',\n' '  ')"
read -r -a task_ids <<<"$(printf '%s' "${M18_TASKS:-}" | tr ',\n' '  ')"
tasks_only=false
if [ "${#scenarios[@]}" -eq 0 ] && [ "${#task_ids[@]}" -gt 0 ]; then tasks_only=true; fi
config=${M18_POLICY:-} # prepare.sh: the base's policy file, or empty
if [ "${#scenarios[@]}" -eq 0 ] && [ "$tasks_only" = false ] && [ -n "$config" ] && [ -f "$config" ]; then
	if listed=$(m18-gate scenarios --config "$config" --tier "${M18_TIER:-pr}" 2>"$out/logs/tier.err"); then
		read -r -a scenarios <<<"$(printf '%s' "$listed" | tr ',\n' '  ')"
	else
		warn "could not list the scenarios of tier '${M18_TIER:-pr}' in $config ($(head -n 1 "$out/logs/tier.err")); running ci/pr_gate — name them in the scenarios input instead"
	fi
fi
if [ "${#scenarios[@]}" -eq 0 ]; then scenarios=(ci/pr_gate); fi
if [ "$tasks_only" = true ]; then
	: >"$work/scenarios"
	echo "m18-gate: no scenarios to measure; tasks ${task_ids[*]} run next"
else
	printf '%s\n' "${scenarios[@]}" >"$work/scenarios"
	echo "m18-gate: scenarios: ${scenarios[*]}; mode $mode; $reps repetitions"
fi

# --- the target: a command to start, an endpoint, or the built-in one.
endpoint=${M18_ENDPOINT:-}
if [ -n "${M18_TARGET_COMMAND:-}" ] && [ -z "$endpoint" ]; then endpoint=http://127.0.0.1:7432; fi
health=${M18_HEALTH_URL:-}
if [ -z "$health" ] && [ -n "$endpoint" ]; then health="${endpoint%/}/health"; fi
addr=${endpoint#*://}
addr=${addr%%/*}
export M18_ENDPOINT="$endpoint" M18_ADDR="$addr" M18_PORT="${addr##*:}"
health_timeout=${M18_HEALTH_TIMEOUT:-60}
case "$health_timeout" in '' | *[!0-9]*) die "input health-timeout is '$health_timeout'; want whole seconds such as 60" ;; esac

# duet (the duet input, ab mode): base and head run at the same time, each
# against its own target, so that whatever else the runner does hits both
# runs of a pair alike; the pair's difference then cancels it. It needs two
# targets at once: the built-in one (in-process, one per m18-run), or a
# target-command that listens on $M18_ADDR / $M18_PORT (the base's target
# gets the next free port). auto: on when one of those holds.
# names_addr: target-command, or the script in the checkout it starts with,
# names the address variables.
names_addr() {
	local re='M18_(ADDR|PORT|ENDPOINT)' first
	if [[ $M18_TARGET_COMMAND =~ $re ]]; then return 0; fi
	read -r first _ <<<"$M18_TARGET_COMMAND"
	case "$first" in /*) ;; *) first=$head_dir/$first ;; esac
	[ -f "$first" ] && grep -Eq "$re" "$first"
}
duet=false
base_addr=$addr
case "${M18_DUET:-auto}" in
auto | true)
	why=
	if [ "$mode" != ab ] || [ "${M18_SHARDS:-1}" != 1 ]; then
		why="it pairs base and head runs (ab mode, one shard)"
	elif [ -n "$endpoint" ] && [ -z "${M18_TARGET_COMMAND:-}" ]; then
		why="endpoint without target-command is one server for both sides"
	elif [ -n "${M18_TARGET_COMMAND:-}" ] && ! names_addr; then
		why="neither target-command nor the script it starts names \$M18_ADDR, \$M18_PORT or \$M18_ENDPOINT, so two of its targets would want one port"
	elif [ -n "${M18_TARGET_COMMAND:-}" ] && [ -n "${M18_HEALTH_URL:-}" ] && [[ $M18_HEALTH_URL != *"$addr"* ]]; then
		why="health-url does not contain the endpoint's address $addr"
	fi
	if [ -z "$why" ]; then
		duet=true
	elif [ "${M18_DUET:-auto}" = true ] && [ "$mode" = ab ]; then
		die "input duet is true, but $why; use duet: auto or false"
	fi
	;;
false) ;;
*) die "input duet is '${M18_DUET}'; want auto, true or false" ;;
esac
# next_base_addr sets base_addr to the first port above $1 that nothing
# answers on: the base's target listens there in a duet.
next_base_addr() {
	local p
	for ((p = $1 + 1; p < $1 + 50; p++)); do
		if ! answers "${addr%:*}:$p"; then
			base_addr="${addr%:*}:$p"
			return 0
		fi
	done
	die "duet: no free port in $(($1 + 1))–$(($1 + 49)) for the base's target; use duet: false"
}
if [ "$duet" = true ] && [ -n "${M18_TARGET_COMMAND:-}" ]; then next_base_addr "$M18_PORT"; fi

# The targets, by side; each in its own process group so that it is
# stopped whole.
declare -A target_pid=()
stop_target() { # stop_target SIDE
	local pid=${target_pid[$1]:-}
	if [ -z "$pid" ]; then return 0; fi
	kill -TERM -- "-$pid" 2>/dev/null || true
	local i
	for i in $(seq 1 200); do
		group_alive "$pid" || break
		sleep 0.05
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	target_pid[$1]=
}
trap 'stop_target base; stop_target head' EXIT

# side_addr SIDE: the address SIDE's target listens on.
side_addr() {
	if [ "$1" = base ]; then printf '%s' "$base_addr"; else printf '%s' "$addr"; fi
}

# start_target SIDE DIR LOG starts target-command in DIR on SIDE's address
# and waits for its health-url. In a duet a base target that exits before
# answering, or whose port something answers on before it starts, is
# started again on the next free port, up to 4 times: a port nothing
# listened on can be taken meanwhile (a client's outgoing connection on
# this machine, say).
start_target() {
	if [ -z "${M18_TARGET_COMMAND:-}" ]; then return 0; fi
	local try
	for try in 1 2 3 4 5; do
		if try_target "$@"; then return 0; fi
		if [ "$1" != base ] || [ "$duet" != true ] || [ "$try" = 5 ]; then
			tail -n 20 "$3" >&2 || true
			die "target-command exited before it answered (log above; it runs in $2 with M18_ADDR=$(side_addr "$1"))"
		fi
		warn "duet: the base's target on $base_addr did not start (its port taken meanwhile?); starting it on the next free port"
		next_base_addr "${base_addr##*:}"
	done
}

# try_target SIDE DIR LOG starts target-command once; it fails when the
# target exits before its health-url answers, or when something answers on
# the address before it starts: the health check would find that server
# and the runs would measure it (the base's in a duet is moved to the next
# free port; anything else is an error once it has answered for 10 s).
try_target() {
	local a h pid
	a=$(side_addr "$1")
	h=${health/"$addr"/"$a"}
	if answers "$a"; then
		if [ "$1" = base ] && [ "$duet" = true ]; then return 1; fi
		local i # the previous run's target may still be letting go of it
		for i in $(seq 1 100); do
			sleep 0.1
			answers "$a" || break
		done
		if answers "$a"; then
			die "something already answers on $a before target-command starts (a target left running by an earlier job?), so the runs would measure it; stop it, or give endpoint a free port"
		fi
	fi
	(cd "$2" && M18_ADDR=$a M18_PORT=${a##*:} M18_ENDPOINT=${endpoint/"$addr"/"$a"} scrubbed bash -c "$M18_TARGET_COMMAND") >>"$3" 2>&1 &
	pid=$!
	target_pid[$1]=$pid
	local deadline=$((SECONDS + health_timeout))
	until curl -fsS -o /dev/null --max-time 2 "$h" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
			target_pid[$1]=
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -n 20 "$3" >&2 || true
			die "$h did not answer 2xx within ${health_timeout}s after target-command started; check health-url and the log above"
		fi
		sleep 0.05
	done
}

# run_args: m18-run's flags for the target at the endpoint; measure gives
# each side its own.
common_args=(--quiet)
if [ -n "${M18_DURATION:-}" ]; then common_args+=(--duration "$M18_DURATION"); fi
if [ -n "${M18_WARMUP:-}" ]; then common_args+=(--warmup "$M18_WARMUP"); fi
run_args=("${common_args[@]}")
if [ -n "$endpoint" ]; then run_args+=(--endpoint "$endpoint"); fi

# measure SIDE SHA SCENARIO REPS OUTPUT runs m18-run against SIDE's started
# target (or the built-in one) and attributes the result to SHA; it returns
# m18-run's exit code.
measure() {
	local side=$1 sha=$2 scenario=$3 n=$4 output=$5 ref=${GITHUB_REF:-}
	if [ "$side" = base ]; then ref=; fi # the result's commit is the base's; its ref is unknown here
	local args=() # the target's CPU per request, measured from its process tree
	if [ -n "$endpoint" ]; then args+=(--endpoint "${endpoint/"$addr"/"$(side_addr "$side")"}"); fi
	if [ -n "${target_pid[$side]:-}" ]; then args+=(--target-pid "${target_pid[$side]}"); fi
	(cd "$head_dir" && GITHUB_SHA="$sha" GITHUB_REF="$ref" m18-run --scenario "$scenario" "${common_args[@]}" "${args[@]}" \
		--repetitions "$n" --label "m18-side:$side" --output "$output")
}

# judge SIDE SCENARIO RC: what m18-run's exit code means for the gate.
judge() {
	case "$3" in
	0) ;;
	1) warn "$2 ($1): the scenario's [validation] bars failed; the comparison still decides the gate" ;;
	4) warn "$2 ($1): the load generator could not keep the schedule (exit 4), so this run measured the runner as much as the target; expect an inconclusive verdict — lower the rate or use a quieter, bigger runner" ;;
	*) die "$2 ($1): m18-run failed with exit $3" ;;
	esac
}

# run_one SIDE DIR SHA SCENARIO REPS OUTPUT: one m18-run invocation for a
# side, its target started in DIR.
run_one() {
	local rc=0
	start_target "$1" "$2" "$out/logs/$1-target.log"
	measure "$1" "$3" "$4" "$5" "$6" || rc=$?
	stop_target "$1"
	judge "$1" "$4" "$rc"
}

# run_duet SCENARIO I DEST FIRST SECOND: pair I of SCENARIO, base and head
# at the same time, into DEST/base and DEST/head, FIRST's target started
# first (measure_pair alternates it with the pair).
run_duet() {
	local scenario=$1 i=$2 dest=$3 s side pids=() rcs=() k
	local order=("$4" "$5")
	s=$(slug "$scenario")
	for side in "${order[@]}"; do
		if [ "$side" = base ]; then
			start_target base "$base_dir" "$out/logs/base-target.log"
		else
			start_target head "$head_dir" "$out/logs/head-target.log"
		fi
	done
	for side in "${order[@]}"; do
		local sha=$head_sha
		if [ "$side" = base ]; then sha=$base_sha; fi
		measure "$side" "$sha" "$scenario" 1 "$dest/$side/$s-$(printf %03d "$i").json" &
		pids+=($!)
	done
	for k in 0 1; do
		rcs[k]=0
		wait "${pids[k]}" || rcs[k]=$?
	done
	for k in 0 1; do
		stop_target "${order[k]}"
		judge "${order[k]}" "$scenario" "${rcs[k]}"
	done
}

# measure_pair I DEST N: pair I (of N) of every scenario, into DEST/base and
# DEST/head: a duet, or the sides one after the other, base first for even
# I and head first for odd I (A B B A …).
measure_pair() {
	local i=$1 dest=$2 order=(base head) scenario s side
	if ((i % 2 == 1)); then order=(head base); fi
	for scenario in "${scenarios[@]}"; do
		s=$(slug "$scenario")
		if [ "$duet" = true ]; then
			run_duet "$scenario" "$i" "$dest" "${order[@]}"
			continue
		fi
		for side in "${order[@]}"; do
			if [ "$side" = base ]; then
				run_one base "$base_dir" "$base_sha" "$scenario" 1 "$dest/base/$s-$(printf %03d "$i").json"
			else
				run_one head "$head_dir" "$head_sha" "$scenario" 1 "$dest/head/$s-$(printf %03d "$i").json"
			fi
		done
	done
	if [ "$duet" = true ]; then
		echo "m18-gate: pair $((i + 1))/$3 of ${scenarios[*]} done (duet: base and head at once, ${order[0]} started first)"
	else
		echo "m18-gate: pair $((i + 1))/$3 of ${scenarios[*]} done (order ${order[*]})"
	fi
}

# measure_looks DEST PLAN N NAME [FLAG...] measures pairs into
# DEST/{base,head} look by look: PLAN's looks (such as 10,15,20), or N pairs
# at once when PLAN is empty. After each look but the last it runs
# m18-gate compare --paired --looks PLAN FLAG... over them (the verdict in
# logs/NAME-END.json) and stops at the first look that decides. It sets
# pairs (how many it measured), decided (the verdict of the look that
# decided; empty when none did before the last) and decided_rc (that
# compare's exit code).
measure_looks() {
	local dest=$1 plan=$2 n=$3 name=$4 ends end
	shift 4
	read -r -a ends <<<"${plan//,/ }"
	if [ "${#ends[@]}" -eq 0 ]; then ends=("$n"); fi
	pairs=0 decided='' decided_rc=0
	for end in "${ends[@]}"; do
		for ((; pairs < end; pairs++)); do
			measure_pair "$pairs" "$dest" "${ends[-1]}"
		done
		if [ -z "$plan" ] || [ "$end" = "${ends[-1]}" ]; then return 0; fi
		decided_rc=0
		m18-gate compare --paired --looks "$plan" --quiet "${policy_flags[@]}" "$@" \
			--base "$dest"/base/*.json --head "$dest"/head/*.json --output "$out/logs/$name-$end.json" \
			>/dev/null 2>"$out/logs/$name-$end.err" || decided_rc=$?
		case "$decided_rc" in
		4) echo "m18-gate: ${name//-/ } at $end pairs: not decided yet; measuring up to the next look" ;;
		0 | 1 | 2)
			echo "m18-gate: ${name//-/ } at $end pairs decided (exit $decided_rc); the gate step reports it"
			decided=$out/logs/$name-$end.json
			return 0
			;;
		*) die "m18-gate compare at the ${name//-/ } of $end pairs failed (exit $decided_rc): $(head -n 3 "$out/logs/$name-$end.err")" ;;
		esac
	done
}

build() { # build DIR
	if [ -z "${M18_BUILD_COMMAND:-}" ]; then return 0; fi
	echo "m18-gate: building $1"
	(cd "$1" && scrubbed bash -c "$M18_BUILD_COMMAND") || die "build-command failed in $1"
}

head_sha=${GITHUB_SHA:-$(git -C "$head_dir" rev-parse HEAD 2>/dev/null || true)}
set_output result-path "$out/head"

if [ "$tasks_only" = true ]; then
	build "$head_dir" # what task-target-command starts
	exit 0
fi

# Sharded: this job sends one shard of the load, or merges the shards
# (shard.sh).
if [ "${M18_SHARDS:-1}" != 1 ]; then
	# shellcheck source=scripts/action/shard.sh
	. "$(dirname "$0")/shard.sh"
	exit 0
fi

if [ "$mode" = ab ]; then
	base_sha=${M18_BASE_SHA:?mode ab needs a base commit}
	base_dir=${M18_BASE_DIR:?mode ab needs the base checkout of prepare.sh}
	build "$base_dir"
	build "$head_dir"
	# Sequential (the looks input): the pairs are measured look by look,
	# every scenario in each, and after each look m18-gate compare --looks
	# decides with that look's share of alpha; the gate stops at the first
	# clear look (a regression, or everything decided). Fixed: one look.
	plan=$(looks_plan) || exit 3
	confirm=$(confirm_setting) || exit 3
	policy_flags
	measure_looks "$out" "$plan" "$reps" look
	i=$pairs
	first=$decided # the verdict that decided, when a look did
	rc=$decided_rc
	# Confirming re-run (the confirm input): a gate that regressed measures
	# more pairs, into out/confirm/{base,head}, and the gate step fails only
	# when m18-gate compare --confirm finds the regressions again in them.
	# After the last look (or in a fixed design) no compare has run yet:
	# this one tells whether there is anything to confirm.
	if [ "$confirm" != off ] && [ -z "$first" ]; then
		looks_flags=()
		if [ -n "$plan" ]; then looks_flags=(--looks "$plan"); fi
		first=$out/logs/first.json
		rc=0
		m18-gate compare --paired "${looks_flags[@]}" --quiet "${policy_flags[@]}" \
			--base "$out"/base/*.json --head "$out"/head/*.json --output "$first" \
			>/dev/null 2>"$out/logs/first.err" || rc=$?
		case "$rc" in
		0 | 1 | 2 | 4) ;;
		*) die "m18-gate compare after $i pairs failed (exit $rc): $(head -n 3 "$out/logs/first.err")" ;;
		esac
	fi
	# auto: the re-run looks in turn (m18-gate compare --confirm-looks, e.g.
	# 9,18), stopping at the first look that confirms or clears the
	# regression; the plan is kept in out/confirm/looks for gate.sh. A
	# number: that many pairs, decided once.
	if [ "$confirm" != off ] && { [ "$rc" = 1 ] || [ "$rc" = 2 ]; }; then
		mkdir -p "$out/confirm/base" "$out/confirm/head"
		cplan=
		if [ "$confirm" = auto ]; then
			cplan=$(m18-gate compare --confirm "$first" --confirm-looks "${policy_flags[@]}" 2>"$out/logs/confirm-looks.err") ||
				die "m18-gate compare --confirm-looks failed: $(head -n 3 "$out/logs/confirm-looks.err")"
			[ -n "$cplan" ] || die "m18-gate compare --confirm-looks printed no plan for $first, which regressed"
			printf '%s\n' "$cplan" >"$out/confirm/looks"
			echo "m18-gate: regression after $i pairs; confirming it on fresh pairs, looking at $cplan of them, before the gate fails"
		else
			echo "m18-gate: regression after $i pairs; measuring $confirm more pairs to confirm it before the gate fails"
		fi
		measure_looks "$out/confirm" "$cplan" "$confirm" confirm-look --confirm "$first"
	elif [ "$confirm" != off ]; then
		echo "m18-gate: no regression after $i pairs: nothing to confirm"
	fi
	git -C "$head_dir" worktree remove --force "$base_dir" || true
	exit 0
fi

# history mode: the head's runs (one m18-run each, the target restarted, as in
# ab mode); baseline.sh then fetches the stored baseline.
build "$head_dir"
for scenario in "${scenarios[@]}"; do
	s=$(slug "$scenario")
	for ((i = 0; i < reps; i++)); do
		run_one head "$head_dir" "$head_sha" "$scenario" 1 "$out/head/$s-$i.json"
	done
	echo "m18-gate: $scenario: $reps runs done"
done
