#!/usr/bin/env bash
# tasks.sh: runs the M18 catalogue tasks of the tasks input with
# m18-run task at the budget input, one result document per task in
# $M18_WORK/out/tasks/. gate.sh turns their criteria into verdict entries
# (m18-gate criteria); push.sh records the documents on the history branch.
#
# Env: M18_BIN, M18_WORK, M18_TASKS ("002 003", commas or newlines also
# separate), M18_BUDGET (pr, nightly or full), M18_TASK_TARGET_COMMAND
# (placeholders {addr} {port} {seed} {dir} {threads} {nodes}), M18_ENDPOINT.
# Exit 0 whatever the criteria say (the gate step decides on them); 3 when a
# task cannot run (unknown id, unreachable target, bad budget).
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

read -r -a ids <<<"$(printf '%s' "${M18_TASKS:-}" | tr ',\n' '  ')"
if [ "${#ids[@]}" -eq 0 ]; then exit 0; fi
out="${M18_WORK:?}/out"
head_dir=${GITHUB_WORKSPACE:-$PWD}
export PATH="${M18_BIN:?}:$PATH"
mkdir -p "$out/tasks" "$out/task-files"

budget=${M18_BUDGET:-nightly}
args=(--budget "$budget" --quiet)
if [ -n "${M18_TASK_TARGET_COMMAND:-}" ]; then
	args+=(--target-command "$M18_TASK_TARGET_COMMAND")
elif [ -n "${M18_ENDPOINT:-}" ]; then
	args+=(--endpoint "$M18_ENDPOINT")
fi
echo "m18-gate: tasks ${ids[*]} at budget $budget"
for id in "${ids[@]}"; do
	case "$id" in
	*[!0-9A-Za-z]*) die "input tasks: '$id' is not a task id; want ids such as 002 003 (m18-run task list)" ;;
	esac
	start=$SECONDS
	rc=0
	# In the checkout, so the document records the commit under test.
	(cd "$head_dir" && m18-run task "$id" "${args[@]}" --output "$out/tasks/task-$id.json" --dir "$out/task-files/$id") || rc=$?
	case "$rc" in
	0) echo "m18-gate: task $id: every criterion met ($((SECONDS - start)) s)" ;;
	1) warn "task $id: a criterion failed; the gate fails on it (the check run and the job summary list it)" ;;
	4) warn "task $id: the load generator could not keep the schedule, so its figures describe the runner as much as the target; the document is kept" ;;
	*) die "task $id: m18-run task failed with exit $rc (its message above names the cause)" ;;
	esac
done
set_output results "$out/tasks"
