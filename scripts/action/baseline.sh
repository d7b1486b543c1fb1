#!/usr/bin/env bash
# baseline.sh: history mode's baseline. For each scenario measure.sh ran
# ($M18_WORK/scenarios), m18-history fetches the stored results of the
# baseline commit (same scenario, same hardware fingerprint) from the
# history branch into out/base/SCENARIO/. A scenario without a baseline has
# its head results moved to out/head-nobaseline/ (recorded, not compared).
# Sets verdict=no-baseline when no scenario has one. This step holds the
# token (an https history repository) and runs none of the pull request's
# code.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

work=${M18_WORK:?}
out="$work/out"
head_dir=${GITHUB_WORKSPACE:-$PWD}
head_sha=${GITHUB_SHA:-$(git -C "$head_dir" rev-parse HEAD 2>/dev/null || true)}
reps=${M18_REPETITIONS:-10}
repo=${M18_HISTORY_REPO:-}
if [ -z "$repo" ]; then repo="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}.git"; fi
mapfile -t scenarios <"$work/scenarios"
with_baseline=0
fp=() # the runner's fingerprint; without one, m18-history takes the head result's
if [ -n "${M18_FINGERPRINT:-}" ]; then fp=(--fingerprint "$M18_FINGERPRINT"); fi
for scenario in "${scenarios[@]}"; do
	s=$(slug "$scenario")
	heads=("$out/head/$s"-*.json) # SLUG-0.json …, or SLUG-merged.json of a shard merge
	if [ ! -f "${heads[0]}" ]; then die "$scenario: no head result in $out/head (the Measure step ran no run of it)"; fi
	rc=0
	"${M18_BIN:?}/m18-history" baseline --repo "$repo" --branch "${M18_HISTORY_BRANCH:-m18-results}" \
		--scenario "$scenario" "${fp[@]}" --commit "${M18_BASELINE_COMMIT:-$head_sha}" \
		--source-repo "$head_dir" --head "${heads[0]}" --n "$((2 * reps))" --out "$out/base/$s" 2>"$out/logs/baseline-$s.err" || rc=$?
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
