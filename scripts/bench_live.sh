#!/usr/bin/env bash
# bench_live.sh — what m18-run --metrics-addr adds to each request: the cost
# of runners/live's Observe (every sample: two counters or one, three
# histogram observations, a gauge) beside the engine's own cost of sending
# one request on loopback (runners/load BenchmarkSend/conn), as a ratio.
#
#   scripts/bench_live.sh [COUNT]        (default 5 runs of each benchmark)
#
# The medians of COUNT runs are compared. Observe runs on every sender at
# once (RunParallel), its worst case: the updates are atomic adds on series
# resolved before the load starts, shared by all senders.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-5}"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
nsop() { awk '/ns\/op/ {for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") print $i}'; }
observe=$(go test -run '^$' -bench '^BenchmarkObserve$' -count "$count" ./runners/live | nsop | median)
send=$(go test -run '^$' -bench '^BenchmarkSend$/^conn$' -count "$count" ./runners/load | nsop | median)
echo "live Observe:      ${observe} ns/request (median of $count)"
echo "engine send:       ${send} ns/request (median of $count, loopback search)"
awk -v o="$observe" -v s="$send" 'BEGIN { printf "Observe / send:    %.3f (%.1f %% added per request)\n", o / s, 100 * o / s }'
