#!/usr/bin/env bash
# changepoints.sh: looks for change points in the stored history of what a
# nightly job just measured: m18-history series --json writes each metric's
# history as an m18.series/v1 file, m18-gate changepoints runs E-divisive
# means over them and marks the change points among the newest points as
# new, and m18-report --changepoints alerts Slack about the new ones. The
# table goes to the job summary.
#
# Env: M18_BIN (the action's output bin dir, or m18-* on PATH);
# M18_TASK_RESULTS (the action's task-results output: every task document
# there names its scenario and fingerprint) and/or M18_SCENARIOS with
# M18_FINGERPRINT; M18_HISTORY_REPO (default this repository);
# M18_HISTORY_BRANCH; M18_METRICS (default "p99 p50 throughput");
# M18_RECENT (default 7: change points among the newest 7 runs are new);
# M18_SLACK_WEBHOOK (optional; read by m18-report from the environment,
# never put on a command line); GITHUB_TOKEN for an https history.
#
# Every failure fails the step: an unreachable history, a series m18-gate
# cannot read, an alert Slack did not accept.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

if [ -n "${M18_BIN:-}" ]; then PATH="$M18_BIN:$PATH"; fi
repo=${M18_HISTORY_REPO:-}
if [ -z "$repo" ]; then repo="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}.git"; fi
branch=${M18_HISTORY_BRANCH:-m18-results}
read -r -a scenarios <<<"$(printf '%s' "${M18_SCENARIOS:-}" | tr ',\n' '  ')"
read -r -a metrics <<<"${M18_METRICS:-p99 p50 throughput}"
shopt -s nullglob
docs=()
if [ -n "${M18_TASK_RESULTS:-}" ]; then docs=("$M18_TASK_RESULTS"/*.json); fi
if [ "${#scenarios[@]}" -eq 0 ] && [ "${#docs[@]}" -eq 0 ]; then
	die "nothing to look at: M18_SCENARIOS is empty and M18_TASK_RESULTS holds no task document"
fi
if [ "${#scenarios[@]}" -gt 0 ] && [ -z "${M18_FINGERPRINT:-}" ]; then
	die "M18_SCENARIOS is set but M18_FINGERPRINT is not (the action's fingerprint output)"
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

files=()
series() { # series ARGS...: one m18.series/v1 file from the history branch
	local f
	f="$dir/series-${#files[@]}.json"
	m18-history series --repo "$repo" --branch "$branch" --json "$@" >"$f"
	files+=("$f")
}
for metric in "${metrics[@]}"; do
	for scenario in "${scenarios[@]}"; do
		series --scenario "$scenario" --fingerprint "$M18_FINGERPRINT" --metric "$metric"
	done
	for doc in "${docs[@]}"; do
		series --head "$doc" --metric "$metric"
	done
done

m18-gate changepoints --recent "${M18_RECENT:-7}" --output "$dir/changepoints.json" --series "${files[@]}" >"$dir/changepoints.txt"
cat "$dir/changepoints.txt"
fence='```'
summary "### m18-gate: change points in the nightly history

$fence
$(cat "$dir/changepoints.txt")
$fence"

args=(--changepoints "$dir/changepoints.json" --strict)
if [ -n "${M18_SLACK_WEBHOOK:-}" ]; then args+=(--slack); fi
m18-report "${args[@]}"
if grep -q '"recent": true' "$dir/changepoints.json"; then
	warn "new change points in the nightly history (see the job summary)"
fi
