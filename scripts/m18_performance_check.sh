#!/usr/bin/env bash
# Standardized load test for regression checks, compatible with Engram's
# scripts/m17_performance_check.sh (same arguments, seeds, file names and exit
# codes) but backed by m18-run: open-loop load, several independent
# repetitions so that compare_m18_performance.sh can use real statistics.
#
# Usage: scripts/m18_performance_check.sh <task_id> <before|after> [--competitive]
#   task_id:       task number (e.g. 001)
#   phase:         "before" or "after"
#   --competitive: run the competitive scenario (competitive/hybrid_production_100k,
#                  seed 0xABCD1234) instead of the M17 baseline (seed 0xDEADBEEF)
#
# Writes tmp/m18_performance/{competitive_}TASK_PHASE_YYYYmmdd_HHMMSS.json (an
# m18.result/v1 document that also carries the Engram loadtest report fields:
# p99_latency_ms, overall_throughput, per_operation_stats, …) plus _run.log
# and _sys.txt beside it.
#
# The competitor side (with --competitive and M18_COMPETITOR set): the same
# scenario, seed and repetitions run against the competitor too, written to
# tmp/m18_performance/competitive_vs_NAME_TASK_PHASE_YYYYmmdd_HHMMSS.json;
# compare_m18_performance.sh TASK --competitive then judges Engram's
# position against it. M18_COMPETITOR is an adapter (postgres, weaviate,
# qdrant, neo4j) with M18_COMPETITOR_URL, or the name of a [target.NAME]
# table of M18_CONFIG (default .github/m18-gate.toml); a password or API key
# comes from M18_COMPETITOR_PASSWORD (M18_COMPETITOR_USER for Neo4j's user).
#
# The target, in order of precedence:
#   ENGRAM_ENDPOINT=http://host:port   measure a server that is already running
#   M18_TARGET_COMMAND='...'           start it (after M18_BUILD_COMMAND, if set),
#                                      wait for ${M18_ENDPOINT:-http://127.0.0.1:7432}/health,
#                                      measure, stop it
#   (neither)                          the built-in reference target, in-process
#   e.g. in Engram's repository:
#     M18_BUILD_COMMAND='cargo build --release' \
#     M18_TARGET_COMMAND='./target/release/engram start --port 7432' \
#       scripts/m18_performance_check.sh 001 before
#
# Other settings: M18_REPETITIONS (default 10), M18_DURATION per repetition
# (Go duration, default 30s), M18_WARMUP, M18_SCENARIO (name or file),
# M18_PERF_DIR (default tmp/m18_performance), M18_BIN (directory holding the
# m18-* binaries; default: on PATH, else built from this repository).
#
# Exit codes (as m17_performance_check.sh): 0 measured (a failed [validation]
# bar or a late load generator is a warning), 1 bad arguments, the target
# failed, or the load could not be measured.
set -euo pipefail

usage() {
	echo "Usage: $0 <task_id> <before|after> [--competitive]" >&2
}

TASK_ID=${1:-}
PHASE=${2:-}
COMPETITIVE=false
if [ "${3:-}" = --competitive ]; then
	COMPETITIVE=true
elif [ "${2:-}" = --competitive ] && [ -z "${3:-}" ]; then
	COMPETITIVE=true # as m17: the flag alone in second place means "before"
	PHASE=before
fi
if [ -z "$TASK_ID" ] || [ "$TASK_ID" = -h ] || [ "$TASK_ID" = --help ]; then
	usage
	exit 1
fi
if [ "$PHASE" != before ] && [ "$PHASE" != after ]; then
	echo "ERROR: Phase must be 'before' or 'after' (got '$PHASE')" >&2
	usage
	exit 1
fi
case "$TASK_ID" in
*[!A-Za-z0-9._-]*)
	echo "ERROR: task_id '$TASK_ID' may hold only letters, digits, '.', '_' and '-'" >&2
	exit 1
	;;
esac

OUTPUT_DIR=${M18_PERF_DIR:-tmp/m18_performance}
TIMESTAMP=$(date +%Y%m%d_%H%M%S)
if [ "$COMPETITIVE" = true ]; then
	FILE_PREFIX="$OUTPUT_DIR/competitive_${TASK_ID}_${PHASE}"
	SCENARIO=${M18_SCENARIO:-competitive/hybrid_production_100k}
	SEED=0xABCD1234 # m17 passed 2882400044 (0xABCDEF2C) under this name; the name is the contract
	if [ -z "${M18_SCENARIO:-}" ] && [ -f scenarios/competitive/hybrid_production_100k.toml ]; then
		SCENARIO=scenarios/competitive/hybrid_production_100k.toml # Engram's own file, when run in its repository
	fi
else
	FILE_PREFIX="$OUTPUT_DIR/${TASK_ID}_${PHASE}"
	SCENARIO=${M18_SCENARIO:-m17_baseline}
	SEED=0xDEADBEEF # 3735928559
	if [ -z "${M18_SCENARIO:-}" ] && [ -f scenarios/m17_baseline.toml ]; then
		SCENARIO=scenarios/m17_baseline.toml
	fi
fi
RESULT_FILE="${FILE_PREFIX}_${TIMESTAMP}.json"
LOG_FILE="${FILE_PREFIX}_${TIMESTAMP}_run.log"
SYS_FILE="${FILE_PREFIX}_${TIMESTAMP}_sys.txt"
REPETITIONS=${M18_REPETITIONS:-10}
DURATION=${M18_DURATION:-30s}
mkdir -p "$OUTPUT_DIR"

# The binaries: M18_BIN, else PATH, else built from this repository.
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${M18_BIN:-}" ]; then
	PATH="$M18_BIN:$PATH"
elif ! command -v m18-run >/dev/null 2>&1; then
	M18_BIN="$OUTPUT_DIR/bin"
	echo "Building the m18-* binaries into $M18_BIN ..."
	mkdir -p "$M18_BIN"
	bindir=$(cd "$M18_BIN" && pwd)
	(cd "$here/.." && CGO_ENABLED=0 go build -trimpath -o "$bindir/" ./cmd/...) || {
		echo "ERROR: could not build the m18-* binaries (needs Go 1.26; or set M18_BIN)" >&2
		exit 1
	}
	PATH="$bindir:$PATH"
fi
export PATH

if [ "$COMPETITIVE" = true ]; then
	echo "=== M18 Competitive Performance Check: Task ${TASK_ID} (${PHASE}) ==="
else
	echo "=== M18 Performance Check: Task ${TASK_ID} (${PHASE}) ==="
fi
echo "Scenario: $SCENARIO"
echo "Seed:     $SEED ($((SEED)))"
echo "Runs:     $REPETITIONS x $DURATION"
echo "Results will be saved to: $RESULT_FILE"
echo

SERVER_PID=
stop_server() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
	fi
}
trap stop_server EXIT

ENDPOINT=
if [ -n "${ENGRAM_ENDPOINT:-}" ]; then
	ENDPOINT=$ENGRAM_ENDPOINT
	echo "Target: the running server at $ENDPOINT"
elif [ -n "${M18_TARGET_COMMAND:-}" ]; then
	ENDPOINT=${M18_ENDPOINT:-http://127.0.0.1:7432}
	if [ -n "${M18_BUILD_COMMAND:-}" ]; then
		echo "Building: $M18_BUILD_COMMAND"
		bash -c "$M18_BUILD_COMMAND"
	fi
	addr=${ENDPOINT#*://}
	addr=${addr%%/*}
	echo "Starting: $M18_TARGET_COMMAND"
	set -m
	M18_ENDPOINT="$ENDPOINT" M18_ADDR="$addr" M18_PORT="${addr##*:}" bash -c "$M18_TARGET_COMMAND" >>"$LOG_FILE" 2>&1 &
	SERVER_PID=$!
	set +m
	health="${ENDPOINT%/}/health"
	for i in $(seq 1 60); do
		if curl -sf -o /dev/null --max-time 2 "$health"; then
			echo "✓ Server healthy after ~${i} s"
			break
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "ERROR: Server process terminated during startup (log: $LOG_FILE)" >&2
			SERVER_PID=
			exit 1
		fi
		if [ "$i" -eq 60 ]; then
			echo "ERROR: $health did not answer within 60 s" >&2
			exit 1
		fi
		sleep 1
	done
else
	echo "Target: the built-in reference target (set ENGRAM_ENDPOINT or M18_TARGET_COMMAND to measure Engram)"
fi

args=(--scenario "$SCENARIO" --seed "$SEED" --repetitions "$REPETITIONS" --duration "$DURATION" --output "$RESULT_FILE")
if [ -n "$ENDPOINT" ]; then args+=(--endpoint "$ENDPOINT"); fi
if [ -n "${M18_WARMUP:-}" ]; then args+=(--warmup "$M18_WARMUP"); fi
echo "Running: m18-run ${args[*]}"
rc=0
m18-run "${args[@]}" > >(tee -a "$LOG_FILE") 2>&1 || rc=$?
case "$rc" in
0) echo "✓ Load test completed successfully" ;;
1) echo "⚠️  Load test completed, but the scenario's [validation] bars failed (see $LOG_FILE)" ;;
4) echo "⚠️  Load test completed, but the load generator could not keep the schedule: the runs measured this machine as much as the target (see $LOG_FILE)" ;;
*)
	echo "ERROR: m18-run failed with exit $rc (see $LOG_FILE)" >&2
	exit 1
	;;
esac

if [ "$COMPETITIVE" = true ] && [ -n "${M18_COMPETITOR:-}" ]; then
	case "$M18_COMPETITOR" in
	*[!A-Za-z0-9._-]*)
		echo "ERROR: M18_COMPETITOR '$M18_COMPETITOR' may hold only letters, digits, '.', '_' and '-'" >&2
		exit 1
		;;
	esac
	COMP_FILE="$OUTPUT_DIR/competitive_vs_${M18_COMPETITOR}_${TASK_ID}_${PHASE}_${TIMESTAMP}.json"
	cargs=(--scenario "$SCENARIO" --seed "$SEED" --repetitions "$REPETITIONS" --duration "$DURATION" --output "$COMP_FILE" --competitor "$M18_COMPETITOR")
	if [ -n "${M18_COMPETITOR_URL:-}" ]; then cargs+=(--competitor-url "$M18_COMPETITOR_URL"); fi
	if [ -n "${M18_COMPETITOR_USER:-}" ]; then cargs+=(--competitor-user "$M18_COMPETITOR_USER"); fi
	if [ -n "${M18_CONFIG:-}" ]; then cargs+=(--config "$M18_CONFIG"); fi
	if [ -n "${M18_WARMUP:-}" ]; then cargs+=(--warmup "$M18_WARMUP"); fi
	echo
	echo "Competitor: $M18_COMPETITOR (results: $COMP_FILE)"
	echo "Running: m18-run ${cargs[*]}"
	rc=0
	m18-run "${cargs[@]}" > >(tee -a "$LOG_FILE") 2>&1 || rc=$?
	case "$rc" in
	0) echo "✓ Competitor load test completed successfully" ;;
	1 | 4) echo "⚠️  Competitor load test completed with warnings (exit $rc, see $LOG_FILE)" ;;
	*)
		echo "ERROR: m18-run against $M18_COMPETITOR failed with exit $rc (see $LOG_FILE)" >&2
		exit 1
		;;
	esac
fi

{
	m18-probe || true
	if [ -n "$SERVER_PID" ]; then
		echo
		ps -p "$SERVER_PID" -o rss,vsz,%cpu,%mem || true
	fi
} >"$SYS_FILE" 2>&1
stop_server

echo
echo "=== Performance Check Complete ==="
echo "Results:      $RESULT_FILE"
echo "Run log:      $LOG_FILE"
echo "System stats: $SYS_FILE"
