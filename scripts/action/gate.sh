#!/usr/bin/env bash
# gate.sh: runs m18-gate compare over the base and head results, adds the
# criteria of the task documents (m18-gate criteria: a failed one fails
# like a regression), and records the exit code (0 pass, 1 regression, 2
# competitive regression, 3 bad input) as an output for the last step, so
# the report is written first.
# The policy is M18_POLICY: the base's config file from prepare.sh (never
# the pull request's own), or none for the built-in defaults.
# In ab mode, when measure.sh measured a confirming re-run (out/confirm/),
# a regression is judged again on it (m18-gate compare --confirm) and only
# a confirmed one fails.
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
tasks=("$out"/tasks/*.json) # m18-run task documents (tasks.sh)
case "${M18_MODE:-}" in
bench | files) base=("$out"/base/*) head=("$out"/head/*) ;; # any benchmark tool's files (bench.sh)
esac
if [ "${#head[@]}" -eq 0 ] || [ "${#base[@]}" -eq 0 ]; then
	if [ "${#tasks[@]}" -eq 0 ]; then
		set_output verdict no-baseline
		set_output exit-code 0
		exit 0
	fi
	head=() # nothing to compare: the verdict holds the task criteria only
fi

args=(compare --output "$out/verdict.json" --markdown "$out/verdict.md" --outcome "$out/outcome")
for f in "${base[@]}"; do args+=(--base "$f"); done
for f in "${head[@]}"; do args+=(--head "$f"); done
policy_flags
args+=("${policy_flags[@]}")
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
# A sequential ab gate (measure.sh) decides at the look its pairs reached,
# with that look's share of alpha.
if [ "$mode" = ab ] && plan=$(looks_plan) && [ -n "$plan" ]; then args+=(--looks "$plan"); fi

rc=0
rm -f "$out/outcome"
if [ "${#head[@]}" -gt 0 ]; then
	"${M18_BIN:?}/m18-gate" "${args[@]}" || rc=$?
fi
# The confirming re-run (measure.sh measured out/confirm/ because the gate
# regressed): the regressions of this verdict are judged again on those
# pairs, and the verdict the report reads is the confirmed one.
confirm_base=("$out"/confirm/base/*.json)
confirm_head=("$out"/confirm/head/*.json)
if [ "$mode" = ab ] && { [ "$rc" = 1 ] || [ "$rc" = 2 ]; } && [ "${#confirm_base[@]}" -gt 0 ] && [ "${#confirm_head[@]}" -gt 0 ]; then
	cp "$out/verdict.json" "$out/first-verdict.json"
	cargs=(compare --confirm "$out/first-verdict.json" --paired --output "$out/verdict.json" --markdown "$out/verdict.md" --outcome "$out/outcome")
	# A re-run in looks (measure.sh's confirm auto) decides at the look its
	# pairs reached.
	if [ -s "$out/confirm/looks" ]; then cargs+=(--looks "$(cat "$out/confirm/looks")"); fi
	for f in "${confirm_base[@]}"; do cargs+=(--base "$f"); done
	for f in "${confirm_head[@]}"; do cargs+=(--head "$f"); done
	echo "m18-gate: confirming the regression on ${#confirm_head[@]} more result files (out/confirm)"
	rc=0
	"${M18_BIN:?}/m18-gate" "${cargs[@]}" "${policy_flags[@]}" || rc=$?
fi
# Task criteria join the verdict; a failed one fails it like a regression.
# m18-gate criteria's exit code covers the whole verdict, so it replaces
# compare's unless compare could not decide (3).
if [ "${#tasks[@]}" -gt 0 ] && [ "$rc" -le 2 ]; then
	cargs=(criteria --results "${tasks[@]}" --output "$out/verdict.json" --markdown "$out/verdict.md")
	if [ -f "$out/verdict.json" ]; then cargs+=(--verdict "$out/verdict.json"); fi
	rc=0
	"${M18_BIN:?}/m18-gate" "${cargs[@]}" || rc=$?
	case "$rc" in # the outcome of the whole verdict, criteria included
	0) if [ ! -s "$out/outcome" ]; then echo pass >"$out/outcome"; fi ;;
	1) echo regression >"$out/outcome" ;;
	2) echo competitive-regression >"$out/outcome" ;;
	*) rm -f "$out/outcome" ;;
	esac
fi
set_output exit-code "$rc"
# m18-gate wrote the one-word outcome (a passing verdict with undecided
# comparisons is "inconclusive", not "pass"); none means bad input.
if [ -s "$out/outcome" ]; then set_output verdict "$(cat "$out/outcome")"; else set_output verdict error; fi
if [ -f "$out/verdict.json" ]; then set_output verdict-path "$out/verdict.json"; fi
