#!/usr/bin/env bash
# plan.sh: checks the inputs that only the action reads and decides, from the
# event, the effective mode, whether history may be written, and which
# commit is the baseline. Outputs: mode, base-sha, baseline-commit,
# write-history, work.
#
# Trusted events write history: a push to the default branch, a schedule, a
# workflow_dispatch on the default branch. Pull requests never do.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

mode=${M18_MODE:-ab}
case "$mode" in
ab | history | bench | files) ;;
*) die "input mode is '$mode'; want 'ab', 'history', 'bench' or 'files'" ;;
esac
reps=${M18_REPETITIONS:-10}
case "$reps" in
'' | *[!0-9]*) die "input repetitions is '$reps'; want a whole number such as 10" ;;
esac
if [ "$reps" -lt 1 ]; then die "input repetitions is $reps; want at least 1 (5 or more for p < 0.01)"; fi
if [ "$reps" -lt 5 ]; then warn "repetitions is $reps: with fewer than 5 runs per side p < 0.01 is unreachable, so the gate can only say 'inconclusive'"; fi
case "${M18_COMMENT:-always}" in
always | on-change | never) ;;
*) die "input comment is '${M18_COMMENT}'; want always, on-change or never" ;;
esac
case "${M18_BUDGET:-nightly}" in
pr | nightly | full) ;;
*) die "input budget is '${M18_BUDGET}'; want pr, nightly or full" ;;
esac
is_bool "${M18_FAIL_ON_REGRESSION:-true}" || die "input fail-on-regression is '${M18_FAIL_ON_REGRESSION}'; want true or false"
is_bool "${M18_HISTORY_WRITE:-true}" || die "input history-write is '${M18_HISTORY_WRITE}'; want true or false"

event=${M18_EVENT_NAME:-${GITHUB_EVENT_NAME:-}}
ref=${GITHUB_REF:-}
default_ref="refs/heads/${M18_DEFAULT_BRANCH:-main}"
base_sha=${M18_BASE_SHA:-}
zero=0000000000000000000000000000000000000000

# The baseline commit: the pull request's base, the commit before a push,
# else this commit (a nightly compares with the newest stored results at or
# before it).
baseline=${GITHUB_SHA:-}
if [ -n "$base_sha" ]; then
	baseline=$base_sha
elif [ -n "${M18_PUSH_BEFORE:-}" ] && [ "${M18_PUSH_BEFORE}" != "$zero" ]; then
	baseline=$M18_PUSH_BEFORE
fi

if [ "$mode" = ab ] && [ -z "$base_sha" ]; then
	notice "mode ab needs a pull request base; event '$event' has none, so this run compares with the history branch instead"
	mode=history
fi

write=false
if [ "${M18_HISTORY_WRITE:-true}" = true ]; then
	case "$event" in
	push | workflow_dispatch)
		if [ "$ref" = "$default_ref" ]; then write=true; fi
		;;
	schedule) write=true ;;
	esac
fi
if [ "$mode" = ab ] || [ "$mode" = bench ] || [ "$mode" = files ]; then write=false; fi

work="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/m18-gate"
rm -rf "$work/out" "$work/src-base"
mkdir -p "$work/out"
# The pull request's number travels in the artifact for the reporting
# workflow of fork pull requests, which verifies it before use.
case "${M18_PR_NUMBER:-}" in
'' | *[!0-9]*) ;;
*) printf '%s\n' "$M18_PR_NUMBER" >"$work/out/pr" ;;
esac

set_output mode "$mode"
set_output base-sha "$base_sha"
set_output baseline-commit "$baseline"
set_output write-history "$write"
set_output work "$work"
echo "m18-gate: event=$event mode=$mode baseline=${baseline:-none} write-history=$write work=$work"
