#!/usr/bin/env bash
# bench_confirm.sh — how often the gate's confirming re-run finds a real
# regression again, and how many pairs it measures for it, in its two
# designs side by side: a fixed re-run of the pairs
# `m18-gate compare --confirm-pairs` asks for, decided once at alpha, and
# the sequential re-run of `--confirm-looks` (the action's and m18-run ab's
# default: its first look, then twice as many pairs while undecided, each
# look at half of alpha).
#
#   scripts/bench_confirm.sh [DRAWS]      (default 2000 re-runs a row)
#
# A simulation, not a measurement: the first verdict is a real
# gate.Compare of a CPU-per-request regression on simulated pairs, and both
# designs are judged by gate.Confirm itself on the same simulated re-runs,
# whose pairs spread like the first stage's or 1.5, 2 and 3 times as much —
# a machine busier during the re-run than before it, as seen under load
# (gate/README.md). The identical rows are false alarms of the first stage
# that the re-run must not confirm: at most alpha (0.01) each design.
# The columns are each design's rate of confirming, their ratio (looks /
# fixed) and the pairs each measured on average.
#
# Knobs (environment): CHANGE (0.12: the true slowdown), SIGMA (0.07: the
# spread of one pair's log ratio in the first stage), PAIRS (10: the first
# stage's pairs), SEED (1).
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./scripts/internal/confirmsim -draws "${1:-2000}" -change "${CHANGE:-0.12}" \
	-sigma "${SIGMA:-0.07}" -pairs "${PAIRS:-10}" -seed "${SEED:-1}"
