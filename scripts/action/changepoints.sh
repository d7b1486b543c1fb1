#!/usr/bin/env bash
# changepoints.sh: looks for change points in the stored history of the
# scenarios a nightly job just measured (E-divisive means, m18-gate
# changepoints), writes them to the job summary, and alerts Slack when one is
# found in the newest points.
#
# Env: M18_BIN (the action's output bin dir, or m18-* on PATH), M18_SCENARIOS,
# M18_FINGERPRINT, M18_HISTORY_REPO (default this repository), M18_HISTORY_BRANCH,
# M18_METRICS (default "p99 p50 throughput"), M18_SLACK_WEBHOOK (optional),
# GITHUB_TOKEN for an https history repository.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

if [ -n "${M18_BIN:-}" ]; then PATH="$M18_BIN:$PATH"; fi
repo=${M18_HISTORY_REPO:-}
if [ -z "$repo" ]; then repo="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}.git"; fi
read -r -a scenarios <<<"$(printf '%s' "${M18_SCENARIOS:?}" | tr ',\n' '  ')"
read -r -a metrics <<<"${M18_METRICS:-p99 p50 throughput}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

found=()
for scenario in "${scenarios[@]}"; do
	s=$(slug "$scenario")
	for metric in "${metrics[@]}"; do
		series="$dir/$s-$metric.json"
		if ! m18-history series --repo "$repo" --branch "${M18_HISTORY_BRANCH:-m18-results}" \
			--scenario "$scenario" --fingerprint "${M18_FINGERPRINT:?}" --metric "$metric" --json >"$series"; then
			warn "$scenario $metric: no series on the history branch"
			continue
		fi
		m18-gate changepoints --series "$series" --json >"$dir/cp.json"
		{
			echo "### Change points: \`$s\` $metric"
			echo '```'
			m18-gate changepoints --series "$series"
			echo '```'
		} >>"${GITHUB_STEP_SUMMARY:-/dev/stdout}"
		if grep -q '"index":' "$dir/cp.json"; then
			found+=("$s $metric")
		fi
	done
done

if [ "${#found[@]}" -eq 0 ]; then
	echo "m18-gate: no change point in ${scenarios[*]}"
	exit 0
fi
warn "change points in: ${found[*]} (see the job summary)"
if [ -n "${M18_SLACK_WEBHOOK:-}" ]; then
	run_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID:-}"
	text="m18-gate nightly: change points in ${found[*]} on ${M18_FINGERPRINT} — ${run_url}"
	text=${text//\\/\\\\}
	text=${text//\"/\\\"}
	curl -fsS --retry 3 --max-time 10 -H 'Content-Type: application/json' \
		--data "{\"text\":\"$text\"}" "$M18_SLACK_WEBHOOK" >/dev/null ||
		warn "the Slack alert could not be sent"
fi
