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
# Writes $M18_WORK/out/head/*.json, out/base/*.json (ab) and
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
		warn "could not list the scenarios of tier '${M18_TIER:-pr}' in $config ($(head -n 1 "$out/logs/tier.err")); running ci/fast_regression_check — name them in the scenarios input instead"
	fi
fi
if [ "${#scenarios[@]}" -eq 0 ]; then scenarios=(ci/fast_regression_check); fi
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

target_pid=
stop_target() {
	if [ -z "$target_pid" ]; then return 0; fi
	kill -TERM -- "-$target_pid" 2>/dev/null || true
	local i
	for i in $(seq 1 100); do
		kill -0 -- "-$target_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$target_pid" 2>/dev/null || true
	wait "$target_pid" 2>/dev/null || true
	target_pid=
}
trap stop_target EXIT

# start_target DIR LOG starts target-command in DIR and waits for health-url.
start_target() {
	if [ -z "${M18_TARGET_COMMAND:-}" ]; then return 0; fi
	(cd "$1" && scrubbed bash -c "$M18_TARGET_COMMAND") >>"$2" 2>&1 &
	target_pid=$!
	local deadline=$((SECONDS + health_timeout))
	until curl -fsS -o /dev/null --max-time 2 "$health" 2>/dev/null; do
		if ! kill -0 "$target_pid" 2>/dev/null; then
			tail -n 20 "$2" >&2 || true
			die "target-command exited before $health answered (log above; it runs in $1 with M18_ADDR=$M18_ADDR)"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -n 20 "$2" >&2 || true
			die "$health did not answer 2xx within ${health_timeout}s after target-command started; check health-url and the log above"
		fi
		sleep 0.2
	done
}

run_args=(--quiet)
if [ -n "$endpoint" ]; then run_args+=(--endpoint "$endpoint"); fi
if [ -n "${M18_DURATION:-}" ]; then run_args+=(--duration "$M18_DURATION"); fi
if [ -n "${M18_WARMUP:-}" ]; then run_args+=(--warmup "$M18_WARMUP"); fi

# run_one SIDE DIR SHA SCENARIO REPS OUTPUT runs one m18-run invocation for a
# side: the target is started in DIR and the result is attributed to SHA.
run_one() {
	local side=$1 dir=$2 sha=$3 scenario=$4 n=$5 output=$6 rc=0 ref=${GITHUB_REF:-}
	local log="$out/logs/$side-target.log"
	if [ "$side" = base ]; then ref=; fi # the result's commit is the base's; its ref is unknown here
	start_target "$dir" "$log"
	local cost=() # the target's CPU per request, measured from its process tree
	if [ -n "$target_pid" ]; then cost=(--target-pid "$target_pid"); fi
	(cd "$head_dir" && GITHUB_SHA="$sha" GITHUB_REF="$ref" m18-run --scenario "$scenario" "${run_args[@]}" "${cost[@]}" \
		--repetitions "$n" --label "m18-side:$side" --output "$output") || rc=$?
	stop_target
	case "$rc" in
	0) ;;
	1) warn "$scenario ($side): the scenario's [validation] bars failed; the comparison still decides the gate" ;;
	4) warn "$scenario ($side): the load generator could not keep the schedule (exit 4), so this run measured the runner as much as the target; expect an inconclusive verdict — lower the rate or use a quieter, bigger runner" ;;
	*) die "$scenario ($side): m18-run failed with exit $rc" ;;
	esac
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
	read -r -a ends <<<"${plan//,/ }"
	if [ "${#ends[@]}" -eq 0 ]; then ends=("$reps"); fi
	policy_flags
	i=0
	for end in "${ends[@]}"; do
		for ((; i < end; i++)); do
			order=(base head)
			if ((i % 2 == 1)); then order=(head base); fi
			for scenario in "${scenarios[@]}"; do
				s=$(slug "$scenario")
				for side in "${order[@]}"; do
					if [ "$side" = base ]; then
						run_one base "$base_dir" "$base_sha" "$scenario" 1 "$out/base/$s-$(printf %03d "$i").json"
					else
						run_one head "$head_dir" "$head_sha" "$scenario" 1 "$out/head/$s-$(printf %03d "$i").json"
					fi
				done
			done
			echo "m18-gate: pair $((i + 1))/${ends[-1]} of ${scenarios[*]} done (order ${order[*]})"
		done
		if [ -z "$plan" ] || [ "$end" = "${ends[-1]}" ]; then break; fi
		rc=0
		m18-gate compare --paired --looks "$plan" --quiet "${policy_flags[@]}" \
			--base "$out"/base/*.json --head "$out"/head/*.json --output "$out/logs/look-$end.json" \
			>/dev/null 2>"$out/logs/look-$end.err" || rc=$?
		case "$rc" in
		4) echo "m18-gate: look at $end pairs: not decided yet; measuring up to the next look" ;;
		0 | 1 | 2)
			echo "m18-gate: look at $end pairs decided (exit $rc); the gate step reports it"
			break
			;;
		*) die "m18-gate compare at the look of $end pairs failed (exit $rc): $(head -n 3 "$out/logs/look-$end.err")" ;;
		esac
	done
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
