#!/usr/bin/env bash
# bench_gate.sh — how often the action's PR gate catches a 10 % slowdown of
# the reference target, how often it cries wolf on an identical head, and
# how long one gate takes, from repeated real gates on this machine.
#
#   scripts/bench_gate.sh [TRIALS]          (default 5 trials of each kind)
#
# Every trial is one gate of the action's ab mode, run by the action's own
# scripts: scripts/action/measure.sh measures the pairs and
# scripts/action/gate.sh decides, with the inputs set from the knobs below
# (nothing of the gate's loop is written again here). The base and the head
# are two directories whose target.sh starts m18-target on $M18_ADDR (the
# action's target-command is ./target.sh, so duet is on by default): the
# base's plain, the head's with --slowdown SLOWDOWN (default 10: m18-target's
# process mode, every request costs the target 10 % more CPU) or, in an A/A
# trial, plain too. Every run records its target's CPU time per request
# (m18-run --target-pid). A trial counts as a detection / false alarm when
# the gate's exit-code output is 1, and the script prints which metrics
# regressed (the signal that decided) and how many pairs the gate used,
# the confirming re-run's included.
#
# Knobs (environment), each the action input it sets:
#   PAIRS     repetitions (10)
#   LOOKS     looks (auto: PAIRS, 1.5× and 2× PAIRS pairs; off: PAIRS pairs
#             decided once; or a plan such as 10,15,20)
#   DUET      duet (auto; 1 or true, 0 or false)
#   CONFIRM   confirm (auto; off; a number of pairs)
#   SCENARIO  scenarios (ci/pr_gate, the action's default)
#   DURATION, WARMUP  duration, warmup (the scenario's own: 3s and 1s;
#             WARMUP=auto or auto:MAX is the adaptive warm-up)
# and those the action has no input for, which reach m18-run through a
# wrapper in front of it on the scripts' PATH:
#   RATE, NODES  m18-run --rate, --nodes (the scenario's own: 300, 2000)
#   SIGNAL=instructions  every target runs under valgrind --tool=callgrind
#             (instrumented only during measured phases) and m18-run
#             --instructions callgrind records instructions per request
#             beside the CPU time; a short low-rate slice is enough (RATE
#             defaults to 20, NODES to 200).
#   SLOWDOWN  the head's --slowdown (10)
#   KEEP      a directory to keep every trial's out/ directory in (results,
#             confirm/, verdict.json, first-verdict.json, logs/)
# Needs jq, bc and curl. Loopback only; every run is bounded by its
# duration, warm-up and preload, every target's start by the action's
# health timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/action/lib.sh
. scripts/action/lib.sh # answers

trials=${1:-5}
signal=${SIGNAL:-cpu}
rate=${RATE:-} nodes=${NODES:-}
if [ "$signal" = instructions ]; then
	rate=${RATE:-20} nodes=${NODES:-200}
elif [ "$signal" != cpu ]; then
	echo "bench_gate: SIGNAL is '$signal'; want cpu or instructions" >&2
	exit 2
fi
slowdown=${SLOWDOWN:-10}
keep_dir=${KEEP:-}
for tool in jq bc curl; do
	command -v "$tool" >/dev/null || { echo "bench_gate: needs $tool on PATH" >&2 && exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/real/" ./cmd/m18-run ./cmd/m18-target ./cmd/m18-gate
# M18_BIN: the binaries the action's scripts call; m18-run gets the knobs
# the action has no input for.
mkdir -p "$work/bin" "$work/callgrind"
ln -s "$work/real/m18-gate" "$work/bin/m18-gate"
extra=()
if [ -n "$rate" ]; then extra+=(--rate "$rate"); fi
if [ -n "$nodes" ]; then extra+=(--nodes "$nodes"); fi
if [ "$signal" = instructions ]; then extra+=(--instructions callgrind); fi
{
	echo '#!/usr/bin/env bash'
	printf 'exec %q "$@"' "$work/real/m18-run"
	if [ "${#extra[@]}" -gt 0 ]; then printf ' %q' "${extra[@]}"; fi
	echo
} >"$work/bin/m18-run"
chmod +x "$work/bin/m18-run"

# The target's command line; under callgrind with SIGNAL=instructions
# (m18-run finds valgrind below the pid measure.sh gives it).
under=()
if [ "$signal" = instructions ]; then
	# The environment a Go target needs under valgrind: instrument.GoUnderValgrind.
	under=(env "GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind/callgrind.%p")
fi

# checkout DIR SLOWDOWN: a stand-in for a checkout whose target.sh starts
# m18-target on the address the action gives it ($M18_ADDR).
checkout() {
	mkdir -p "$1"
	{
		echo '#!/usr/bin/env bash'
		printf 'exec'
		printf ' %q' "${under[@]}" "$work/real/m18-target"
		# shellcheck disable=SC2016 # $M18_ADDR is target.sh's, expanded when the action starts it
		printf ' --addr "$M18_ADDR" --slowdown %q\n' "$2"
	} >"$1/target.sh"
	chmod +x "$1/target.sh"
}

# free_port prints a loopback port nothing answers on, for the head's
# target (measure.sh finds the base's in a duet, the ports above it), below
# the kernel's range for outgoing connections so that no client's
# connection takes it between the probe and the target's start.
free_port() {
	local p low=32768
	if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then read -r low _ </proc/sys/net/ipv4/ip_local_port_range; fi
	if [ "$low" -le 10100 ]; then low=60000; fi # an unusual range: any high port
	for _ in $(seq 50); do
		p=$((10000 + RANDOM % (low - 10100)))
		if ! answers "127.0.0.1:$p"; then
			echo "$p"
			return 0
		fi
	done
	echo "bench_gate: no free loopback port found" >&2
	return 1
}

checkout "$work/base" 0

# gate NAME HEAD_SLOWDOWN: one gate of the action; prints "exit seconds
# pairs[_(N_to_confirm:_…)] regressed-metrics".
gate() {
	local name=$1 m18=$work/$1 port
	rm -rf "$m18" "$work/head"
	mkdir -p "$m18"
	checkout "$work/head" "$2"
	port=$(free_port)
	local start
	start=$(date +%s.%N)
	local -a env=(
		M18_BIN="$work/bin" M18_WORK="$m18" M18_MODE=ab
		GITHUB_WORKSPACE="$work/head" GITHUB_SHA=head GITHUB_OUTPUT="$m18/outputs"
		M18_BASE_SHA=base M18_BASE_DIR="$work/base"
		M18_TARGET_COMMAND=./target.sh M18_ENDPOINT="http://127.0.0.1:$port"
		M18_SCENARIOS="${SCENARIO:-}" M18_REPETITIONS="${PAIRS:-10}" M18_LOOKS="${LOOKS:-auto}"
		M18_DUET="$duet" M18_CONFIRM="${CONFIRM:-auto}"
		M18_DURATION="${DURATION:-}" M18_WARMUP="${WARMUP:-}"
	)
	if ! env "${env[@]}" bash scripts/action/measure.sh >"$m18/measure.log" 2>&1; then
		echo "bench_gate: trial $name: measure.sh failed:" >&2
		tail -n 20 "$m18/measure.log" >&2
		return 1
	fi
	if ! env "${env[@]}" bash scripts/action/gate.sh >"$m18/gate.log" 2>&1; then
		echo "bench_gate: trial $name: gate.sh failed:" >&2
		tail -n 20 "$m18/gate.log" >&2
		return 1
	fi
	local secs code out=$m18/out
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	code=$(sed -n 's/^exit-code=//p' "$m18/outputs" | tail -n 1)
	# Pairs: the head's result files, one a scenario a pair.
	local pairs confirmed='' extra scenarios
	scenarios=$(grep -c . "$m18/scenarios")
	pairs=$(($(find "$out/head" -name '*.json' | wc -l) / scenarios))
	extra=$(($(find "$out/confirm/head" -name '*.json' 2>/dev/null | wc -l) / scenarios))
	if [ "$extra" -gt 0 ]; then
		confirmed=" ($extra to confirm: not confirmed)"
		if [ "$code" -eq 1 ]; then confirmed=" ($extra to confirm: confirmed)"; fi
	fi
	local which
	which=$(jq -r '
		([.comparisons[] | select(.decision == "regressed" and (.follows // "") == "")
			| "\(.operation)/\(.metric) \(.change * 1000 | round / 10)%"] | join("; ") | if . == "" then "none" else . end)
		+ " | " +
		([.comparisons[] | select(.metric == "cpu_per_op" or .metric == "instructions_per_op")
			| "\(.metric) \(.change * 1000 | round / 10)% [\(.ci_low * 1000 | round / 10), \(.ci_high * 1000 | round / 10)] \(.decision)"] | join("; "))
	' "$out/verdict.json" 2>/dev/null || echo "no verdict")
	if [ -n "$keep_dir" ]; then
		mkdir -p "$keep_dir"
		rm -rf "${keep_dir:?}/$name"
		cp -r "$out" "$keep_dir/$name"
		cp "$m18/measure.log" "$m18/gate.log" "$keep_dir/$name/"
	fi
	echo "$code $secs $((pairs + extra))${confirmed// /_} $which"
}

duet=${DUET:-auto}
case "$duet" in 1) duet=true ;; 0) duet=false ;; esac
looks=${LOOKS:-auto}
design="looks $looks"
if [ "$looks" = auto ]; then design="looks at ${PAIRS:-10}, 1.5× and 2× as many pairs"; fi
if [ "$looks" = off ]; then design="${PAIRS:-10} pairs"; fi
design="$design, duet $duet, confirm ${CONFIRM:-auto}"
own="the scenario's"
echo "bench_gate: signal $signal; $trials trials each; the action's ab gate ($design) of ${SCENARIO:-ci/pr_gate} (duration ${DURATION:-$own}, warm-up ${WARMUP:-$own}, rate ${rate:-$own}, nodes ${nodes:-$own}); slowdown $slowdown %"
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
			echo "bench_gate: trial $kind-$t: the gate exited $code: $(tail -n 3 "$work/$kind-$t/gate.log")" >&2
		fi
		printf 'trial %-7s exit %d  %5.1f min  %2d pairs%s  regressed: %s\n' "$kind-$t" "$code" "$(echo "$secs / 60" | bc -l)" "${used%% *}" "${used#"${used%% *}"}" "$rest"
	done
done
trials=$(((runs + 1) / 2))
if [ "$runs" -eq 0 ]; then exit 1; fi
printf 'detection of --slowdown %s: %d/%d (%.0f %%)\n' "$slowdown" "$det" "$trials" "$(echo "100 * $det / $trials" | bc -l)"
printf 'false alarms on A/A:      %d/%d (%.0f %%)\n' "$aa_alarm" "$trials" "$(echo "100 * $aa_alarm / $trials" | bc -l)"
printf 'minutes per gate:         %.1f\n' "$(echo "$total_secs / $runs / 60" | bc -l)"
