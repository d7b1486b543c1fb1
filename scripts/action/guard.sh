#!/usr/bin/env bash
# guard.sh: the first step. Refuses to run where measuring a pull request
# would hand untrusted code more than it should get:
#
#   - pull_request_target: the job has write permissions and secrets;
#   - a pull request from a fork on a self-hosted runner: the fork's code
#     would run on hardware that keeps state between jobs.
#
# Env: M18_EVENT_NAME, M18_RUNNER_ENVIRONMENT (runner.environment:
# github-hosted or self-hosted), M18_HEAD_REPO_FORK
# (github.event.pull_request.head.repo.fork), M18_HEAD_REPO and M18_BASE_REPO
# (the head's and the base's full names).
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

event=${M18_EVENT_NAME:-${GITHUB_EVENT_NAME:-}}
if [ "$event" = pull_request_target ]; then
	echo "::error title=m18-gate refuses pull_request_target::This event runs with write permissions and secrets; measuring pull request code here would run untrusted code with them. Measure on 'pull_request' and report from a separate 'workflow_run' workflow (see .github/ACTION.md, 'Fork pull requests')." >&2
	exit 1
fi

fork=false
if [ "${M18_HEAD_REPO_FORK:-}" = true ]; then fork=true; fi
if [ -n "${M18_HEAD_REPO:-}" ] && [ -n "${M18_BASE_REPO:-}" ] && [ "$M18_HEAD_REPO" != "$M18_BASE_REPO" ]; then fork=true; fi
if [ "$fork" = true ]; then
	case "${M18_RUNNER_ENVIRONMENT:-}" in
	self-hosted)
		echo "::error title=m18-gate refuses a fork's pull request on a self-hosted runner::This pull request comes from ${M18_HEAD_REPO:-a fork}; its build-command and target-command would run on this self-hosted runner, which keeps files, caches and network access between jobs. Run pull-request gates on GitHub-hosted runners (runs-on: ubuntu-latest) and keep self-hosted runners for push, schedule and workflow_dispatch (see .github/ACTION.md, 'Self-hosted runners')." >&2
		exit 1
		;;
	github-hosted) ;;
	*) warn "runner.environment is '${M18_RUNNER_ENVIRONMENT:-}' (neither github-hosted nor self-hosted); if this is a self-hosted runner, do not let pull requests from forks reach it" ;;
	esac
fi
echo "m18-gate: event=${event:-unknown} runner=${M18_RUNNER_ENVIRONMENT:-unknown} fork=$fork"
