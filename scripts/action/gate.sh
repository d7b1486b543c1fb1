#!/usr/bin/env bash
# gate.sh: runs m18-gate compare over the base and head results and records
# its exit code (0 pass, 1 regression, 2 competitive regression, 3 bad
# input) as an output for the last step, so the report is written first.
# Outputs: exit-code, verdict, verdict-path.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

out="${M18_WORK:?}/out"
head_dir=${GITHUB_WORKSPACE:-$PWD}
shopt -s nullglob
# ab: out/base/*.json; history: out/base/SCENARIO/*.json (m18-history baseline).
base=("$out"/base/*.json "$out"/base/*/*.json)
head=("$out"/head/*.json)
case "${M18_MODE:-}" in
bench | files) base=("$out"/base/*) head=("$out"/head/*) ;; # any benchmark tool's files (bench.sh)
esac
if [ "${#head[@]}" -eq 0 ] || [ "${#base[@]}" -eq 0 ]; then
	set_output verdict no-baseline
	set_output exit-code 0
	exit 0
fi

args=(compare --output "$out/verdict.json" --markdown "$out/verdict.md")
for f in "${base[@]}"; do args+=(--base "$f"); done
for f in "${head[@]}"; do args+=(--head "$f"); done
config="${M18_CONFIG:-.github/m18-gate.toml}"
case "$config" in /*) ;; *) config="$head_dir/$config" ;; esac
if [ -f "$config" ]; then args+=(--config "$config"); fi
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
if [ "$mode" = ab ] || [ "$mode" = bench ]; then args+=(--paired); fi
if [ -n "${M18_ALPHA:-}" ]; then args+=(--alpha "$M18_ALPHA"); fi
if [ -n "${M18_THRESHOLD:-}" ]; then args+=(--threshold "$M18_THRESHOLD"); fi
if [ -n "${M18_COMPETITIVE_THRESHOLD:-}" ]; then args+=(--competitive-threshold "$M18_COMPETITIVE_THRESHOLD"); fi

rc=0
"${M18_BIN:?}/m18-gate" "${args[@]}" || rc=$?
set_output exit-code "$rc"
case "$rc" in
0) set_output verdict pass ;;
1) set_output verdict regression ;;
2) set_output verdict competitive_regression ;;
*) set_output verdict error ;;
esac
if [ -f "$out/verdict.json" ]; then set_output verdict-path "$out/verdict.json"; fi
