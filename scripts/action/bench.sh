#!/usr/bin/env bash
# bench.sh: the action's benchmark modes, for any benchmark tool.
#
#   bench: the pull request's base is checked out beside the head (git
#          worktree), both are built with build-command, and bench-command
#          runs in each, interleaved base, head, head, base, … one run at a
#          time (m18-gate bench), `repetitions` runs per side. Each run's
#          result (its standard output, or bench-result-file) is one sample.
#   files: the workflow already produced the results: base-files and
#          head-files (globs, relative to the workspace) are gated as they are.
#
# Results land in $M18_WORK/out/base and out/head, where gate.sh compares
# them (paired in bench mode). Formats: go test -bench output, criterion
# sample.json, hyperfine --export-json, m18.samples/v1 JSON.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

bin=${M18_BIN:?}
work=${M18_WORK:?}
out="$work/out"
head_dir=${GITHUB_WORKSPACE:-$PWD}
mode=${M18_MODE:?}
reps=${M18_REPETITIONS:-10}
mkdir -p "$out/base" "$out/head" "$out/logs"

if [ "$mode" = files ]; then
	if [ -z "${M18_BASE_FILES:-}" ] || [ -z "${M18_HEAD_FILES:-}" ]; then
		die "mode files needs base-files and head-files (globs of the results your workflow produced)"
	fi
	shopt -s nullglob globstar
	n=0
	for side in base head; do
		var="M18_${side^^}_FILES"
		read -r -a globs <<<"$(printf '%s' "${!var}" | tr ',\n' '  ')"
		i=0
		for g in "${globs[@]}"; do
			# shellcheck disable=SC2206 # the glob is the point
			matches=($head_dir/$g)
			for f in "${matches[@]}"; do
				i=$((i + 1))
				cp "$f" "$out/$side/$(printf '%03d' "$i")-$(basename "$f")"
			done
		done
		[ "$i" -gt 0 ] || die "${side}-files '${!var}' matched no file in $head_dir"
		n=$((n + i))
	done
	echo "m18-gate: gating $n result files as they are"
	exit 0
fi

[ -n "${M18_BENCH_COMMAND:-}" ] || die "mode bench needs bench-command, e.g. 'go test -run NONE -bench . -count 1 ./...'"
base_sha=${M18_BASE_SHA:-}
if [ -z "$base_sha" ]; then
	notice "mode bench compares a pull request's base and head; event '${GITHUB_EVENT_NAME:-}' has none, so nothing is compared"
	set_output verdict no-baseline
	exit 0
fi
base_dir="$work/src-base"
if ! git -C "$head_dir" cat-file -e "$base_sha^{commit}" 2>/dev/null; then
	git -C "$head_dir" fetch --no-tags --depth=1 origin "$base_sha" ||
		die "cannot fetch the base commit $base_sha; check out with fetch-depth: 0 or give the job contents: read"
fi
git -C "$head_dir" worktree prune
git -C "$head_dir" worktree add --force --detach "$base_dir" "$base_sha" >/dev/null
for d in "$base_dir" "$head_dir"; do
	if [ -n "${M18_BUILD_COMMAND:-}" ]; then
		echo "m18-gate: building $d"
		(cd "$d" && bash -c "$M18_BUILD_COMMAND") || die "build-command failed in $d"
	fi
done
args=(bench --base-cmd "$M18_BENCH_COMMAND" --base-dir "$base_dir" --head-dir "$head_dir"
	--count "$reps" --out "$out/runs" --quiet --output "$out/logs/bench-verdict.json")
if [ -n "${M18_BENCH_RESULT_FILE:-}" ]; then args+=(--result-file "$M18_BENCH_RESULT_FILE"); fi
rc=0
"$bin/m18-gate" "${args[@]}" || rc=$?
case "$rc" in
0 | 1 | 2) ;; # decided; gate.sh decides again with the config and reports
*) die "m18-gate bench failed with exit $rc (its message is above)" ;;
esac
mv "$out/runs"/base-* "$out/base/"
mv "$out/runs"/head-* "$out/head/"
git -C "$head_dir" worktree remove --force "$base_dir" || true
echo "m18-gate: $reps interleaved runs per side done"
