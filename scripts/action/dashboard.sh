#!/usr/bin/env bash
# dashboard.sh: builds the performance dashboard from the history branch
# with m18-dash and, for `dashboard: pages`, commits it to the Pages branch
# (trusted events only: action.yml runs this step for pages only when the
# history may be written). `artifact` leaves it in out/dashboard, which the
# upload step takes along.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

repo=${M18_HISTORY_REPO:-}
if [ -z "$repo" ]; then repo="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}.git"; fi
args=(--repo "$repo" --results-branch "${M18_HISTORY_BRANCH:-m18-results}" --out "${M18_WORK:?}/out/dashboard")
if [ -d "${GITHUB_WORKSPACE:-.}/.git" ]; then args+=(--source-repo "${GITHUB_WORKSPACE:-.}"); fi
case "${M18_DASHBOARD:-off}" in
pages) "${M18_BIN:?}/m18-dash" publish "${args[@]}" --branch "${M18_DASHBOARD_BRANCH:-gh-pages}" ;;
artifact) "${M18_BIN:?}/m18-dash" build "${args[@]}" ;;
off) ;;
*) die "input dashboard: \"$M18_DASHBOARD\" is not one of pages, artifact, off" ;;
esac
