#!/usr/bin/env bash
# prepare.sh: everything the measurement needs from git, done before any of
# the pull request's code runs and the only part of it that may use the
# token (to fetch the base commit of a private repository):
#
#   - the gate policy (the config input) is read from the pull request's
#     base commit, so a pull request cannot loosen its own gate; without a
#     base (push, schedule) from the checkout, which is then trusted;
#   - in ab mode the base commit is checked out beside the head (git
#     worktree) for measure.sh.
#
# Env: M18_WORK, M18_MODE, M18_BASE_SHA, M18_CONFIG, GITHUB_TOKEN (optional).
# Outputs: policy (path of the policy to use; empty for the built-in
# defaults), base-dir (ab mode).
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

work=${M18_WORK:?}
head_dir=${GITHUB_WORKSPACE:-$PWD}
base_sha=${M18_BASE_SHA:-}
config=${M18_CONFIG:-.github/m18-gate.toml}
policy="$work/policy.toml"
rm -f "$policy"

if [ -n "$base_sha" ] && ! git -C "$head_dir" cat-file -e "$base_sha^{commit}" 2>/dev/null; then
	with_git_token git -C "$head_dir" fetch --no-tags --depth=1 origin "$base_sha" ||
		die "cannot fetch the base commit $base_sha; check out with fetch-depth: 0 or give the job contents: read"
fi

case "$config" in
/*)
	# An absolute path is outside the repository: the workflow chose it.
	if [ -f "$config" ]; then cp "$config" "$policy"; fi
	;;
*)
	rel=${config#./}
	if [ -n "$base_sha" ]; then
		if git -C "$head_dir" cat-file -e "$base_sha:$rel" 2>/dev/null; then
			git -C "$head_dir" show "$base_sha:$rel" >"$policy"
			echo "m18-gate: policy $rel from the base commit ${base_sha:0:12}"
		fi
		if [ -f "$head_dir/$rel" ] && ! cmp -s "$head_dir/$rel" "$policy" 2>/dev/null; then
			notice "this pull request changes $rel; the gate uses the base's version (the change takes effect once merged)"
		fi
	elif [ -f "$head_dir/$rel" ]; then
		cp "$head_dir/$rel" "$policy"
	fi
	;;
esac
if [ -f "$policy" ]; then set_output policy "$policy"; else set_output policy ''; fi

if [ "${M18_MODE:-ab}" = ab ]; then
	base_dir="$work/src-base"
	git -C "$head_dir" worktree prune
	git -C "$head_dir" worktree add --force --detach "$base_dir" "${base_sha:?mode ab needs a base commit}" >/dev/null
	set_output base-dir "$base_dir"
fi
