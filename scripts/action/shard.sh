# shellcheck shell=bash
# shellcheck disable=SC2154 # mode, scenarios, head_dir, out, run_args, reps and endpoint are measure.sh's
# shard.sh: the sharded part of measure.sh, sourced by it when the input
# shards is more than 1 (it uses measure.sh's scenarios, run_args and build). One job of a matrix sends one shard of the load; the final job
# merges the shards:
#
#   shard: I      (0 ≤ I < shards) this job's m18-run --shard I/N --start-at
#                 T, every repetition on one shared timeline, against the
#                 endpoint every shard shares; the document goes to
#                 out/shard/ for the job's artifact. Output verdict=shard.
#   shard: merge  m18-run merge of the documents in shard-dir into
#                 out/head/SLUG-merged.json (a missing, late, interrupted
#                 shard fails the job: a partial load is no sample); the
#                 action's Baseline, Gate, Report and history steps take it
#                 from there as in history mode.
#
# See .github/ACTION.md, "Load beyond one runner".

shards=${M18_SHARDS:-1}
shard=${M18_SHARD:-}
case "$shards" in '' | *[!0-9]*) die "input shards is '$shards'; want a whole number such as 4" ;; esac
if [ "$mode" != history ]; then
	die "a sharded run is compared with the history branch: set mode: history (mode is '$mode')"
fi
if [ "${#scenarios[@]}" -ne 1 ]; then
	die "a sharded run measures one scenario (the shards share one timeline); got ${#scenarios[@]}: ${scenarios[*]} — give one in the scenarios input, or one matrix per scenario"
fi
scenario=${scenarios[0]}
s=$(slug "$scenario")

case "$shard" in
merge)
	dir=${M18_SHARD_DIR:-m18-shards}
	case "$dir" in /*) ;; *) dir="$head_dir/$dir" ;; esac
	shopt -s nullglob globstar
	docs=("$dir"/**/"$s"-shard-*.json)
	if [ "${#docs[@]}" -eq 0 ]; then
		die "no shard documents ($s-shard-*.json) in $dir: download the shard jobs' artifacts there first (actions/download-artifact with pattern and merge-multiple: true), or set shard-dir"
	fi
	rc=0
	m18-run merge --output "$out/head/$s-merged.json" "${docs[@]}" >"$out/logs/merge.txt" 2>"$out/logs/merge.err" || rc=$?
	cat "$out/logs/merge.txt"
	case "$rc" in
	0) ;;
	4) warn "$scenario: $(cat "$out/logs/merge.err") — the merged result is written and compared, but it describes the generators as much as the target" ;;
	*)
		mv "$out/head/$s-merged.json.partial" "$out/logs/" 2>/dev/null || true
		die "$scenario: m18-run merge of ${#docs[@]} shard documents failed (exit $rc): $(cat "$out/logs/merge.err")"
		;;
	esac
	summary "**m18-gate** — \`$s\`: ${#docs[@]} of $shards shards merged (HDR histograms merged, rates summed)."
	;;
'' | *[!0-9]*)
	die "input shard is '$shard'; with shards: $shards want this job's index 0…$((shards - 1)) (a matrix value) or 'merge' in the final job"
	;;
*)
	if [ "$shard" -ge "$shards" ]; then die "input shard is $shard; want 0…$((shards - 1)) for shards: $shards"; fi
	if [ -n "${M18_TARGET_COMMAND:-}" ] || [ -z "$endpoint" ]; then
		die "a sharded run sends every shard to one shared target: set endpoint to its URL and leave target-command empty (one target per shard would measure $shards servers)"
	fi
	if [ -z "${M18_START_AT:-}" ]; then
		die "input start-at is empty: every shard needs the same start time (RFC 3339), e.g. an output of a first job: date -u -d '+3 min' +%Y-%m-%dT%H:%M:%SZ"
	fi
	build "$head_dir"
	mkdir -p "$out/shard"
	rc=0
	(cd "$head_dir" && m18-run --scenario "$scenario" "${run_args[@]}" --repetitions "$reps" \
		--shard "$shard/$shards" --start-at "$M18_START_AT" --output "$out/shard/$s-shard-$shard.json") || rc=$?
	case "$rc" in
	0) ;;
	4) warn "$scenario: shard $shard/$shards: the load generator could not keep its slice of the schedule (exit 4); the merge will say so" ;;
	*) die "$scenario: shard $shard/$shards: m18-run failed with exit $rc" ;;
	esac
	summary "**m18-gate** — \`$s\`: shard $shard/$shards measured from $M18_START_AT; the merge job gates the whole load."
	set_output verdict shard
	;;
esac
