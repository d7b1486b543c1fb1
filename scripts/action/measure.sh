#!/usr/bin/env bash
# measure.sh: runs the scenarios with m18-run and gathers the baseline.
#
#   ab mode:      the base commit is checked out beside the head (git
#                 worktree), both are built, and each scenario runs
#                 base/head interleaved A B B A … one repetition per m18-run,
#                 the target restarted for every run, so machine drift hits
#                 both sides alike.
#   history mode: the head runs its repetitions (one m18-run each); m18-history fetches the
#                 stored results of the baseline commit (same scenario, same
#                 hardware fingerprint) from the history branch.
#
# Writes $M18_WORK/out/head/*.json and out/base/*.json (ab) or out/base/SCENARIO/
# (history; a scenario without a baseline has its head results in
# out/head-nobaseline/ instead), and sets the outputs result-path and (when no
# scenario has a baseline) verdict=no-baseline.
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

# --- scenarios: the input, else the config's tier (m18-gate scenarios), else the CI default.
read -r -a scenarios <<<"$(printf '%s' "${M18_SCENARIOS:-}" | tr ',\n' '  ')"
config="${M18_CONFIG:-.github/m18-gate.toml}"
case "$config" in /*) ;; *) config="$head_dir/$config" ;; esac
if [ "${#scenarios[@]}" -eq 0 ] && [ -f "$config" ]; then
	if listed=$(m18-gate scenarios --config "$config" --tier "${M18_TIER:-pr}" 2>"$out/logs/tier.err"); then
		read -r -a scenarios <<<"$(printf '%s' "$listed" | tr ',\n' '  ')"
	else
		warn "could not list the scenarios of tier '${M18_TIER:-pr}' in ${M18_CONFIG} ($(head -n 1 "$out/logs/tier.err")); running ci/fast_regression_check — name them in the scenarios input instead"
	fi
fi
if [ "${#scenarios[@]}" -eq 0 ]; then scenarios=(ci/fast_regression_check); fi
echo "m18-gate: scenarios: ${scenarios[*]}; mode $mode; $reps repetitions"

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
	(cd "$1" && exec bash -c "$M18_TARGET_COMMAND") >>"$2" 2>&1 &
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
	(cd "$1" && bash -c "$M18_BUILD_COMMAND") || die "build-command failed in $1"
}

head_sha=${GITHUB_SHA:-$(git -C "$head_dir" rev-parse HEAD 2>/dev/null || true)}
set_output result-path "$out/head"

if [ "$mode" = ab ]; then
	base_sha=${M18_BASE_SHA:?mode ab needs a base commit}
	base_dir="$work/src-base"
	if ! git -C "$head_dir" cat-file -e "$base_sha^{commit}" 2>/dev/null; then
		git -C "$head_dir" fetch --no-tags --depth=1 origin "$base_sha" ||
			die "cannot fetch the base commit $base_sha; check out with fetch-depth: 0 or give the job contents: read"
	fi
	git -C "$head_dir" worktree prune
	git -C "$head_dir" worktree add --force --detach "$base_dir" "$base_sha" >/dev/null
	build "$base_dir"
	build "$head_dir"
	for scenario in "${scenarios[@]}"; do
		s=$(slug "$scenario")
		for ((i = 0; i < reps; i++)); do
			order=(base head)
			if ((i % 2 == 1)); then order=(head base); fi
			for side in "${order[@]}"; do
				if [ "$side" = base ]; then
					run_one base "$base_dir" "$base_sha" "$scenario" 1 "$out/base/$s-$i.json"
				else
					run_one head "$head_dir" "$head_sha" "$scenario" 1 "$out/head/$s-$i.json"
				fi
			done
			echo "m18-gate: $scenario: repetition $((i + 1))/$reps done (order ${order[*]})"
		done
	done
	git -C "$head_dir" worktree remove --force "$base_dir" || true
	exit 0
fi

# history mode: the head's runs (one m18-run each, the target restarted, as in
# ab mode), then the stored baseline of the same scenario and fingerprint.
build "$head_dir"
repo=${M18_HISTORY_REPO:-}
if [ -z "$repo" ]; then repo="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}.git"; fi
with_baseline=0
for scenario in "${scenarios[@]}"; do
	s=$(slug "$scenario")
	for ((i = 0; i < reps; i++)); do
		run_one head "$head_dir" "$head_sha" "$scenario" 1 "$out/head/$s-$i.json"
	done
	echo "m18-gate: $scenario: $reps runs done"
	rc=0
	m18-history baseline --repo "$repo" --branch "${M18_HISTORY_BRANCH:-m18-results}" \
		--scenario "$scenario" --fingerprint "${M18_FINGERPRINT:?}" --commit "${M18_BASELINE_COMMIT:-$head_sha}" \
		--source-repo "$head_dir" --head "$out/head/$s-0.json" --n "$((2 * reps))" --out "$out/base/$s" 2>"$out/logs/baseline-$s.err" || rc=$?
	case "$rc" in
	0) with_baseline=$((with_baseline + 1)) ;;
	4)
		warn "$scenario: no baseline on branch ${M18_HISTORY_BRANCH:-m18-results}: $(cat "$out/logs/baseline-$s.err")"
		summary "**m18-gate** — \`$s\`: no stored baseline for this hardware fingerprint; nothing compared (its results are still recorded on trusted events)."
		rm -rf "${out:?}/base/$s"
		mkdir -p "$out/head-nobaseline"
		mv "$out/head/$s"-*.json "$out/head-nobaseline/" # recorded, not compared
		;;
	*)
		cat "$out/logs/baseline-$s.err" >&2
		die "$scenario: m18-history baseline failed with exit $rc"
		;;
	esac
done
if [ "$with_baseline" -eq 0 ]; then set_output verdict no-baseline; fi
