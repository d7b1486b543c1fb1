#!/usr/bin/env bash
# bench_gate.sh — how often the default PR gate catches a 10 % slowdown of the
# reference target, how often it cries wolf on an identical head, and how long
# one gate takes, from repeated real runs on this machine.
#
#   scripts/bench_gate.sh [TRIALS]          (default 5 trials of each kind)
#
# One gate is what the action's ab mode does by default: base/head pairs in
# looks (LOOKS, default 10,15,20 — the action's `looks: auto` for its
# default 10 repetitions: after each look `m18-gate compare --paired
# --looks` decides with that look's share of alpha or asks for the next
# look's pairs), each pair's two runs in a duet (DUET=1: base and head run
# at the same time, each against its own fresh reference target on its own
# loopback port, the side started first alternating), so that whatever else
# the machine does hits both runs of a pair alike, and a regression
# confirmed by a re-run before it counts (CONFIRM, below). DUET=0 runs the
# sides one after the other, interleaved A B B A …. Every run is measured by
# m18-run with --target-pid, so every repetition records its target's CPU
# time per request. An A/A trial's head is the same target; a slowdown
# trial's head runs with --slowdown SLOWDOWN (default 10: m18-target's
# process mode, every request costs the target 10 % more CPU). A trial
# counts as a detection / false alarm when the gate exits 1, and the script
# prints which metrics regressed (the signal that decided) and how many
# pairs the gate used.
#
# Knobs (environment): LOOKS (10,15,20; off: PAIRS pairs, default 10,
# decided once), DUET (1), DURATION (3s), WARMUP (1s; auto or auto:MAX: the adaptive
# warm-up, runners/README.md), RATE (300 per side), NODES (2000), SCENARIO
# (ci/pr_gate, the action's default; the four above are its own), SLOWDOWN
# (10), KEEP (a directory to keep every trial's results and verdict in),
# CONFIRM (auto, as the action: a gate that regressed measures the pairs
# `m18-gate compare --confirm --confirm-pairs` asks for, in duets or not as
# DUET says, into confirm/{base,head}, and `m18-gate compare --confirm`
# decides on them; a number of pairs; off). A trial's line then counts the
# confirming pairs in its pairs and says "(N to confirm: confirmed)" or "not
# confirmed".
#
# SIGNAL=instructions is the instruction-count mode: every target runs under
# valgrind --tool=callgrind (instrumented only during measured phases) and
# m18-run --instructions callgrind records instructions per request beside
# the CPU time; a short low-rate slice is enough (defaults then: DURATION 3s,
# WARMUP 1s, RATE 20, NODES 200).
# Needs jq and bc. Loopback only; every run is bounded by DURATION + WARMUP + the preload.
set -euo pipefail
cd "$(dirname "$0")/.."

trials=${1:-5}
work=$(mktemp -d)
pairs=${PAIRS:-10}
signal=${SIGNAL:-cpu}
duration=${DURATION:-3s}
warmup=${WARMUP:-1s}
rate=${RATE:-300}
nodes=${NODES:-2000}
under=()
count=()
if [ "$signal" = instructions ]; then
	duration=${DURATION:-3s} warmup=${WARMUP:-1s} rate=${RATE:-20} nodes=${NODES:-200}
	under=(env GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.%p")
	count=(--instructions callgrind)
fi
scenario=${SCENARIO:-ci/pr_gate}
# LOOKS: the sequential plan in pairs (compare --looks); LOOKS=off measures
# PAIRS pairs and decides once.
looks_in=${LOOKS:-10,15,20}
if [ "$looks_in" = off ]; then
	plan=$pairs looks=()
else
	plan=$(echo "$looks_in" | tr ',' ' ') looks=(--looks "$looks_in")
fi
slowdown=${SLOWDOWN:-10}
keep=${KEEP:-}
duet=${DUET:-1}
confirm=${CONFIRM:-auto}
case "$confirm" in
auto | off) ;;
'' | *[!0-9]*) echo "bench_gate: CONFIRM is '$confirm'; want auto, off or a number of pairs" >&2 && exit 2 ;;
esac
trap 'rm -rf "$work"' EXIT

go build -o "$work/bin/" ./cmd/m18-run ./cmd/m18-target ./cmd/m18-gate
bin=$work/bin

# run_once SIDE SLOWDOWN OUT: one run against a fresh target.
run_once() {
	local out=$3 url='' pid tf="$work/target-$1"
	rm -f "$tf.url" # never read the previous target's address
	"${under[@]}" "$bin/m18-target" --addr 127.0.0.1:0 --slowdown "$2" >"$tf.url" 2>"$tf.err" &
	pid=$!
	for _ in $(seq 600); do
		url=$(head -n 1 "$tf.url" 2>/dev/null || true)
		[ -n "$url" ] && break
		sleep 0.1
	done
	if [ -z "$url" ]; then
		kill "$pid" 2>/dev/null || true
		echo "bench_gate: m18-target did not start: $(cat "$tf.err")" >&2
		return 1
	fi
	# Exit 4 (the generator slipped) still writes the result; the gate
	# decides on it as the action does.
	"$bin/m18-run" --scenario "$scenario" --endpoint "$url" --target-pid "$pid" "${count[@]}" \
		--duration "$duration" --warmup "$warmup" --rate "$rate" --nodes "$nodes" \
		--repetitions 1 --quiet --label "m18-side:$1" --output "$out" >/dev/null 2>>"$work/run-$1.err" || true
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	if [ ! -s "$out" ]; then
		echo "bench_gate: m18-run wrote no result: $(tail -n 3 "$work/run-$1.err")" >&2
		return 1
	fi
}

# measure_pairs DIR FROM TO HEAD_SLOWDOWN: pairs FROM+1 … TO into DIR/base
# and DIR/head, in a duet (DUET=1) or one side after the other, the side
# that starts first alternating.
measure_pairs() {
	local dir=$1 i=$2 side order knob
	for (( ; i < $3; )); do
		i=$((i + 1))
		if ((i % 2)); then order="base head"; else order="head base"; fi
		local pids=()
		for side in $order; do
			knob=0
			if [ "$side" = head ]; then knob=$4; fi
			if [ "$duet" = 1 ]; then
				run_once "$side" "$knob" "$dir/$side/$(printf %03d "$i").json" &
				pids+=($!)
			else
				run_once "$side" "$knob" "$dir/$side/$(printf %03d "$i").json" || return 1
			fi
		done
		for pid in "${pids[@]}"; do wait "$pid" || return 1; done
	done
}

# gate KIND HEAD_SLOWDOWN: one gate; prints "exit seconds pairs[_(N_to_confirm:_…)]
# regressed-metrics", pairs counting the confirming re-run's.
# With LOOKS (the default) it is sequential, as the action's ab mode: the
# pairs of each look are measured, then `compare --looks` decides; exit 4
# asks for the next look's pairs.
gate() {
	local dir="$work/$1" i=0 side start n
	rm -rf "$dir"
	mkdir -p "$dir/base" "$dir/head"
	start=$(date +%s.%N)
	local code=0
	for n in $plan; do
		measure_pairs "$dir" "$i" "$n" "$2" || return 1
		i=$n
		code=0
		"$bin/m18-gate" compare --paired "${looks[@]}" --quiet --base "$dir"/base/*.json --head "$dir"/head/*.json \
			--output "$dir/verdict.json" >/dev/null 2>"$dir/compare.err" || code=$?
		if [ "$code" -ne 4 ]; then break; fi
	done
	# The confirming re-run (CONFIRM): a gate that regressed measures more
	# pairs and fails only when they regress too.
	local confirmed="" extra=0
	if [ "$code" -eq 1 ] && [ "$confirm" != off ]; then
		cp "$dir/verdict.json" "$dir/first.json"
		extra=$confirm
		if [ "$confirm" = auto ]; then
			extra=$("$bin/m18-gate" compare --confirm "$dir/first.json" --confirm-pairs)
		fi
		mkdir -p "$dir/confirm/base" "$dir/confirm/head"
		measure_pairs "$dir/confirm" 0 "$extra" "$2" || return 1
		code=0
		"$bin/m18-gate" compare --confirm "$dir/first.json" --paired --quiet --base "$dir"/confirm/base/*.json --head "$dir"/confirm/head/*.json \
			--output "$dir/verdict.json" >/dev/null 2>"$dir/compare.err" || code=$?
		confirmed=" ($extra to confirm: not confirmed)"
		if [ "$code" -eq 1 ]; then confirmed=" ($extra to confirm: confirmed)"; fi
		i=$((i + extra))
	fi
	local secs
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	local which
	which=$(jq -r '
		([.comparisons[] | select(.decision == "regressed" and (.follows // "") == "")
			| "\(.operation)/\(.metric) \(.change * 1000 | round / 10)%"] | join("; ") | if . == "" then "none" else . end)
		+ " | " +
		([.comparisons[] | select(.metric == "cpu_per_op" or .metric == "instructions_per_op")
			| "\(.metric) \(.change * 1000 | round / 10)% [\(.ci_low * 1000 | round / 10), \(.ci_high * 1000 | round / 10)] \(.decision)"] | join("; "))
	' "$dir/verdict.json" 2>/dev/null || echo "no verdict")
	if [ -n "$keep" ]; then
		mkdir -p "$keep"
		cp -r "$dir" "$keep/$1"
	fi
	echo "$code $secs $i${confirmed// /_} $which"
}

if [ "$looks_in" = off ]; then design="$pairs pairs"; else design="looks at $looks_in pairs"; fi
if [ "$duet" = 1 ]; then design="$design, base and head at once (duet)"; else design="$design, interleaved A B B A"; fi
if [ "$confirm" != off ]; then design="$design, a regression confirmed by a re-run ($confirm pairs)"; fi
echo "bench_gate: signal $signal; $trials trials each; $design of $duration (+$warmup warm-up, $nodes nodes preloaded, $rate ops/s) of $scenario; slowdown $slowdown %"
aa_alarm=0 det=0 total_secs=0 runs=0
for ((t = 1; t <= trials; t++)); do
	for kind in aa slow; do
		knob=0
		if [ "$kind" = slow ]; then knob=$slowdown; fi
		if ! line=$(gate "$kind-$t" "$knob"); then
			echo "bench_gate: trial $kind-$t could not run (above); stopping" >&2
			break 2
		fi
		read -r code secs used rest <<<"$line"
		used=${used//_/ } # "19 (9 to confirm: confirmed)"
		total_secs=$(echo "$total_secs + $secs" | bc)
		runs=$((runs + 1))
		if [ "$code" -eq 1 ]; then
			if [ "$kind" = aa ]; then aa_alarm=$((aa_alarm + 1)); else det=$((det + 1)); fi
		elif [ "$code" -gt 1 ]; then
			echo "bench_gate: trial $kind-$t: compare exited $code: $(cat "$work/$kind-$t/compare.err")" >&2
		fi
		printf 'trial %-7s exit %d  %5.1f min  %2d pairs%s  regressed: %s\n' "$kind-$t" "$code" "$(echo "$secs / 60" | bc -l)" "${used%% *}" "${used#"${used%% *}"}" "$rest"
	done
done
trials=$(((runs + 1) / 2))
if [ "$runs" -eq 0 ]; then exit 1; fi
printf 'detection of --slowdown %s: %d/%d (%.0f %%)\n' "$slowdown" "$det" "$trials" "$(echo "100 * $det / $trials" | bc -l)"
printf 'false alarms on A/A:      %d/%d (%.0f %%)\n' "$aa_alarm" "$trials" "$(echo "100 * $aa_alarm / $trials" | bc -l)"
printf 'minutes per gate:         %.1f\n' "$(echo "$total_secs / $runs / 60" | bc -l)"
