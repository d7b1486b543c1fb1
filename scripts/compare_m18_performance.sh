#!/usr/bin/env bash
# Compare before/after performance, compatible with Engram's
# scripts/compare_m17_performance.sh (same arguments, files and exit codes),
# but decided by m18-gate: Mann-Whitney over the repetitions of each side,
# false-discovery control across metrics, a confidence interval for every
# change, and "inconclusive" instead of a guess when the runs are too few.
#
# Usage: scripts/compare_m18_performance.sh <task_id> [--competitive]
#
# Reads the newest tmp/m18_performance/{competitive_}TASK_before_*.json and
# …_after_*.json (written by m18_performance_check.sh; M18_PERF_DIR overrides
# the directory) and writes …TASK_verdict_YYYYmmdd_HHMMSS.json and .md beside
# them. M18_CONFIG names a gate policy file (default: .github/m18-gate.toml
# when it exists).
#
# With --competitive, when m18_performance_check.sh also measured a
# competitor (M18_COMPETITOR: competitive_vs_NAME_TASK_{before,after}_*.json),
# the verdict adds Engram's position against it: the ratios of p50, p99 and
# throughput before and after, and the position's move (exit 2 when it
# worsened by more than the competitive threshold, significantly, or a
# [milestone] target of the policy file is missed); an internal regression
# of after against before still exits 1 first.
#
# Exit codes:
#   0 - no regressions detected
#   1 - internal regression (latency up or throughput down by more than 5 %,
#       significant; or error rate more than 5 points worse when either side
#       is at or above 5 %)
#   2 - competitive regression (more than 10 %)
#   3 - error (missing files or invalid data)
set -euo pipefail

TASK_ID=${1:-}
COMPETITIVE=false
if [ "${2:-}" = --competitive ]; then COMPETITIVE=true; fi
if [ -z "$TASK_ID" ] || [ "$TASK_ID" = -h ] || [ "$TASK_ID" = --help ]; then
	echo "Usage: $0 <task_id> [--competitive]"
	echo "Example: $0 001"
	echo "Example: $0 001 --competitive"
	exit 3
fi
PERF_DIR=${M18_PERF_DIR:-tmp/m18_performance}
prefix="${PERF_DIR}/${TASK_ID}"
flag=
if [ "$COMPETITIVE" = true ]; then
	prefix="${PERF_DIR}/competitive_${TASK_ID}"
	flag=" --competitive"
fi

# newest PHASE prints the newest result of a phase (names sort by time).
newest() {
	local f last=
	for f in "${prefix}_$1_"*.json; do
		if [ -f "$f" ]; then last=$f; fi
	done
	printf '%s' "$last"
}
BEFORE_FILE=$(newest before)
AFTER_FILE=$(newest after)
for phase in before after; do
	file=$BEFORE_FILE
	if [ "$phase" = after ]; then file=$AFTER_FILE; fi
	if [ -z "$file" ]; then
		if [ "$COMPETITIVE" = true ]; then
			echo "ERROR: No '$phase' competitive results found for task $TASK_ID in $PERF_DIR"
		else
			echo "ERROR: No '$phase' results found for task $TASK_ID in $PERF_DIR"
		fi
		echo "Run: ./scripts/m18_performance_check.sh $TASK_ID $phase$flag"
		exit 3
	fi
done

# The competitor's runs, when both phases measured the same one (the
# newest competitor measured before).
COMP_BEFORE=''
COMP_AFTER=''
if [ "$COMPETITIVE" = true ]; then
	for f in "${PERF_DIR}/competitive_vs_"*"_${TASK_ID}_before_"*.json; do
		if [ -f "$f" ]; then COMP_BEFORE=$f; fi
	done
	if [ -n "$COMP_BEFORE" ]; then
		name=${COMP_BEFORE#"${PERF_DIR}/competitive_vs_"}
		name=${name%"_${TASK_ID}_before_"*}
		for f in "${PERF_DIR}/competitive_vs_${name}_${TASK_ID}_after_"*.json; do
			if [ -f "$f" ]; then COMP_AFTER=$f; fi
		done
		if [ -z "$COMP_AFTER" ]; then
			echo "ERROR: $name was measured before but not after for task $TASK_ID in $PERF_DIR"
			echo "Run: M18_COMPETITOR=$name ./scripts/m18_performance_check.sh $TASK_ID after --competitive"
			exit 3
		fi
	fi
fi

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${M18_BIN:-}" ]; then
	PATH="$M18_BIN:$PATH"
elif ! command -v m18-gate >/dev/null 2>&1; then
	if [ -x "$PERF_DIR/bin/m18-gate" ]; then
		PATH="$(cd "$PERF_DIR/bin" && pwd):$PATH"
	else
		mkdir -p "$PERF_DIR/bin"
		bindir=$(cd "$PERF_DIR/bin" && pwd)
		(cd "$here/.." && CGO_ENABLED=0 go build -trimpath -o "$bindir/" ./cmd/m18-gate) || {
			echo "ERROR: could not build m18-gate (needs Go 1.26; or set M18_BIN)"
			exit 3
		}
		PATH="$bindir:$PATH"
	fi
fi
export PATH

if [ "$COMPETITIVE" = true ]; then
	echo "=== Competitive Performance Comparison: Task $TASK_ID ==="
else
	echo "=== Performance Comparison: Task $TASK_ID ==="
fi
echo "Before: $(basename "$BEFORE_FILE")"
echo "After:  $(basename "$AFTER_FILE")"
echo

stamp=$(date +%Y%m%d_%H%M%S)
args=(compare --base "$BEFORE_FILE" --head "$AFTER_FILE" --output "${prefix}_verdict_${stamp}.json" --markdown "${prefix}_verdict_${stamp}.md")
if [ "$COMPETITIVE" = true ]; then args+=(--competitive); fi
if [ -n "$COMP_AFTER" ]; then
	echo "Competitor before: $(basename "$COMP_BEFORE")"
	echo "Competitor after:  $(basename "$COMP_AFTER")"
	echo
	args=(competitive --engram "$AFTER_FILE" --versus "$COMP_AFTER" --baseline-engram "$BEFORE_FILE" --baseline-versus "$COMP_BEFORE"
		--base "$BEFORE_FILE" --head "$AFTER_FILE" --output "${prefix}_verdict_${stamp}.json" --markdown "${prefix}_verdict_${stamp}.md")
fi
config=${M18_CONFIG:-.github/m18-gate.toml}
if [ -f "$config" ]; then args+=(--config "$config"); fi
rc=0
m18-gate "${args[@]}" || rc=$?
echo
case "$rc" in
0) echo "✓ No significant regressions detected" ;;
1) echo "⚠️  REGRESSION detected (internal threshold)" ;;
2) echo "⚠️  COMPETITIVE REGRESSION detected" ;;
*)
	echo "ERROR: m18-gate could not compare the files (exit $rc)"
	exit 3
	;;
esac
echo "Verdict: ${prefix}_verdict_${stamp}.json"
if [ "$rc" -ne 0 ]; then
	echo "Action required: investigate and fix the regression before completing the task"
	echo "  rerun both phases with more repetitions (M18_REPETITIONS) if the verdict says inconclusive"
fi
exit "$rc"
