#!/usr/bin/env bash
# gate.sh: runs m18-gate compare over the base and head results and records
# its exit code (0 no regression, 1 regression, 2 competitive regression, 3
# bad input) as an output for the last step, so the report is written first.
# The policy is M18_POLICY: the base's config file from prepare.sh (never
# the pull request's own), or none for the built-in defaults.
# Outputs: exit-code, verdict (pass, regression, competitive-regression,
# inconclusive, error, no-baseline), verdict-path.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

out="${M18_WORK:?}/out"
shopt -s nullglob
# ab: out/base/*.json; history: out/base/SCENARIO/*.json (m18-history baseline).
base=("$out"/base/*.json "$out"/base/*/*.json)
head=("$out"/head/*.json)
if [ "${#head[@]}" -eq 0 ] || [ "${#base[@]}" -eq 0 ]; then
	set_output verdict no-baseline
	set_output exit-code 0
	exit 0
fi

args=(compare --output "$out/verdict.json" --markdown "$out/verdict.md" --outcome "$out/outcome")
for f in "${base[@]}"; do args+=(--base "$f"); done
for f in "${head[@]}"; do args+=(--head "$f"); done
config=${M18_POLICY:-}
if [ -n "$config" ] && [ -f "$config" ]; then args+=(--config "$config"); fi
# ab mode interleaves base and head runs on this machine (measure.sh), so
# they are compared pair by pair. The mode comes from M18_MODE when the step
# passes it, else from the layout: history baselines sit in out/base/SCENARIO/.
mode=${M18_MODE:-}
if [ -z "$mode" ]; then
	mode=ab
	for f in "${base[@]}"; do
		if [ "$(dirname "$f")" != "$out/base" ]; then mode=history; fi
	done
fi
if [ "$mode" = ab ]; then args+=(--paired); fi
if [ -n "${M18_ALPHA:-}" ]; then args+=(--alpha "$M18_ALPHA"); fi
if [ -n "${M18_THRESHOLD:-}" ]; then args+=(--threshold "$M18_THRESHOLD"); fi
if [ -n "${M18_COMPETITIVE_THRESHOLD:-}" ]; then args+=(--competitive-threshold "$M18_COMPETITIVE_THRESHOLD"); fi

rc=0
rm -f "$out/outcome"
"${M18_BIN:?}/m18-gate" "${args[@]}" || rc=$?
set_output exit-code "$rc"
# m18-gate wrote the one-word outcome (a passing verdict with undecided
# comparisons is "inconclusive", not "pass"); none means bad input.
if [ -s "$out/outcome" ]; then set_output verdict "$(cat "$out/outcome")"; else set_output verdict error; fi
if [ -f "$out/verdict.json" ]; then set_output verdict-path "$out/verdict.json"; fi
