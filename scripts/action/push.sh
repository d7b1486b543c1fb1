#!/usr/bin/env bash
# push.sh: appends the head's results and the task documents to the history branch with
# m18-history push (one file per run; concurrent writers retry). Runs only
# when plan.sh decided the event is trusted.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

shopt -s nullglob
results=("${M18_WORK:?}"/out/head/*.json "${M18_WORK:?}"/out/head-nobaseline/*.json "${M18_WORK:?}"/out/tasks/*.json)
if [ "${#results[@]}" -eq 0 ]; then
	warn "no results to record"
	exit 0
fi
repo=${M18_HISTORY_REPO:-}
if [ -z "$repo" ]; then repo="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}.git"; fi
"${M18_BIN:?}/m18-history" push --repo "$repo" --branch "${M18_HISTORY_BRANCH:-m18-results}" "${results[@]}"
