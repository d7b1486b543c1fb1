#!/usr/bin/env bash
# bench_loadgen.sh — the maximum sustained open-loop rate of m18-run against a
# trivial loopback endpoint, beside wrk and vegeta against the same endpoint,
# in one run, with the ratios.
#
#   scripts/bench_loadgen.sh [STEP_SECONDS]      (default 5)
#   BASE=REV scripts/bench_loadgen.sh             (also m18-run built at git REV)
#   TOOLS="m18 sharded" scripts/bench_loadgen.sh  (only these searches)
#
# "Sustained" means: m18-run exits 0 (fewer than 1 % of sends late by more
# than 10 ms and fewer than 1 % dropped); vegeta sends at ≥ 99 % of the asked
# rate with ≥ 99 % successes. Both are searched by doubling then bisecting,
# and a rate counts as kept when most of TRIALS runs (default 3) keep it:
# on a shared machine one scheduling hiccup of 50 ms fails a 5 s run, and a
# single run would measure the hiccups more than the tool.
# wrk is closed-loop: its figure is the median requests/s of TRIALS runs with
# 2 threads and 64 connections, an upper bound rather than a schedule kept.
# Because the endpoint shares the machine's cores with the generator, the
# script also prints each tool's CPU time per request (user + system, from
# /usr/bin/time or bash's times): m18-run and vegeta at one common rate
# (CPU_RATE, default 4000/s), wrk over its own run. That figure is steadier
# than a maximum rate on a noisy machine.
# The sharded line is the same search for two m18-run processes on this
# machine, each one shard (--shard 0/2, 1/2) of one schedule at the total
# rate, started together (--start-at) and merged (m18-run merge): a rate is
# kept when both shards keep their slice and the merge exits 0.
# The equivalence line asks the gate whether sharding changes the latency
# distribution: EQUIV_PAIRS (default 8) interleaved pairs (U S, S U, …) of
# one unsharded m18-run and 2 merged shards of the same schedule, 500/s for
# 2 s, against the reference target answering after a fixed 20 ms
# (m18-target --work 20ms), then m18-gate compare --paired on overall p50
# (±5 %) and p99 (±75 %); pairs in which a generator slipped (exit 4) are
# counted, and kept.
# TOOLS (default "m18 sharded equiv vegeta wrk") picks which searches run.
# With BASE set, m18-run as of that git revision is searched too, right after
# this checkout's, and the ratio of the two printed: a change's effect on the
# generator measured side by side on the same machine minute.
# Needs: go, wrk (apt-get install -y wrk), vegeta
# (go install github.com/tsenart/vegeta/v12@v12.13.0). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

step="${1:-5}"
trials="${TRIALS:-3}"
tools=" ${TOOLS:-m18 sharded equiv vegeta wrk} "
has() { [[ "$tools" == *" $1 "* ]]; }
work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "bench_loadgen: $1 not found: $2" >&2; exit 3; }; }
has wrk && need wrk "apt-get install -y wrk"
VEGETA="${VEGETA:-$(command -v vegeta || echo "$(go env GOPATH)/bin/vegeta")}"
has vegeta && { [ -x "$VEGETA" ] || { echo "bench_loadgen: vegeta not found: go install github.com/tsenart/vegeta/v12@v12.13.0" >&2; exit 3; }; }

echo "== building m18-run and the trivial endpoint"
go build -o "$work/m18-run" ./cmd/m18-run
if [ -n "${BASE:-}" ]; then
  git worktree add --detach "$work/base" "$BASE" >/dev/null
  (cd "$work/base" && go build -o "$work/m18-run-base" ./cmd/m18-run)
  git worktree remove --force "$work/base"
fi
go build -o "$work/trivialserver" ./scripts/internal/trivialserver
has equiv && go build -o "$work/" ./cmd/m18-target ./cmd/m18-gate
# Every measurement gets a freshly started endpoint: a step that overloads it
# leaves thousands of connections and a grown heap behind, which would
# otherwise weigh on whichever step or tool comes next.
fresh_endpoint() {
  [ -n "$server_pid" ] && { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; }
  : >"$work/url"
  "$work/trivialserver" >"$work/url" &
  server_pid=$!
  for _ in $(seq 50); do [ -s "$work/url" ] && break; sleep 0.1; done
  base="$(head -1 "$work/url")"
  url="$base/api/v1/memories/search?query=amber+coral&limit=10"
}
fresh_endpoint
echo "endpoint $base (GOMAXPROCS of every tool: $(nproc) cores, shared with the endpoint)"

cat >"$work/bench.toml" <<'TOML'
name = "loadgen benchmark"
description = "search only, constant rate, no preload: measures the generator"
[duration]
total_seconds = 5
warmup_seconds = 1
[arrival]
pattern = "constant"
rate = 1000.0
[operations]
store_weight = 0.0
recall_weight = 0.0
embedding_search_weight = 1.0
pattern_completion_weight = 0.0
[data]
num_nodes = 1
embedding_dim = 768
memory_spaces = 1
TOML

m18_bin="$work/m18-run"
m18_ok() { # rate → 0 when m18-run kept the schedule
  fresh_endpoint
  "$m18_bin" --scenario "$work/bench.toml" --endpoint "$base" --rate "$1" \
    --duration "${step}s" --warmup 1s --nodes 0 --quiet --output "$work/m18.json" >/dev/null 2>"$work/m18.err" && return 0
  sed 's/^/    /' "$work/m18.err" | tail -2 >&2
  return 1
}
two_shards() { # rate → runs shards 0/2 and 1/2 of one schedule at that total rate together; 0 when both kept theirs
  local at i pids=() failed=0
  at="$(date -u -d '+2 sec' +%Y-%m-%dT%H:%M:%S.%NZ)"
  for i in 0 1; do
    "$m18_bin" --scenario "$work/bench.toml" --endpoint "$base" --rate "$1" --shard "$i/2" --start-at "$at" \
      --duration "${step}s" --warmup 1s --nodes 0 --quiet --output "$work/shard-$i.json" >/dev/null 2>"$work/shard-$i.err" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=1; done
  return "$failed"
}
m18_sharded_ok() { # rate → 0 when 2 shards, each half the schedule, kept it and merged cleanly
  fresh_endpoint
  two_shards "$1" && "$m18_bin" merge --output "$work/merged.json" "$work/shard-0.json" "$work/shard-1.json" >/dev/null 2>"$work/merge.err" && return 0
  cat "$work/shard-0.err" "$work/shard-1.err" "$work/merge.err" 2>/dev/null | sed 's/^/    /' | tail -2 >&2
  return 1
}
vegeta_ok() { # rate → 0 when vegeta sent ≥ 99 % of the rate with ≥ 99 % success
  fresh_endpoint
  echo "GET $url" | "$VEGETA" attack -rate="$1/s" -duration="${step}s" -timeout=10s >"$work/v.bin"
  "$VEGETA" report -type=json <"$work/v.bin" >"$work/v.json"
  python3 - "$1" "$work/v.json" <<'PY'
import json, sys
want = float(sys.argv[1]); r = json.load(open(sys.argv[2]))
sys.exit(0 if r["rate"] >= 0.99 * want and r["success"] >= 0.99 else 1)
PY
}
kept() { # fn rate → 0 when most of $trials runs of fn keep the rate
  local pass=0 fail=0
  while [ $((2 * pass)) -le "$trials" ] && [ $((2 * fail)) -lt "$trials" ]; do
    if "$1" "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
  done
  [ $((2 * pass)) -gt "$trials" ]
}
search() { # name fn → found: the highest sustained rate (no subshell: the endpoint it starts stays this shell's)
  local fn="$2" lo=0 hi=2000
  while kept "$fn" "$hi"; do echo "  $1 $hi/s: kept" >&2; lo=$hi; hi=$((hi * 2)); [ "$hi" -gt 400000 ] && break; done
  echo "  $1 $hi/s: not kept" >&2
  for _ in 1 2 3 4; do
    local mid=$(((lo + hi) / 2))
    if kept "$fn" "$mid"; then echo "  $1 $mid/s: kept" >&2; lo=$mid; else echo "  $1 $mid/s: not kept" >&2; hi=$mid; fi
  done
  found=$lo
}

wrk_all=()
wrk_once() { # one wrk run on a fresh endpoint, its requests/s appended to wrk_all
  fresh_endpoint
  wrk_all+=("$(wrk -t2 -c64 -d"${step}s" "$url" | awk '/Requests\/sec/ {print int($2)}')")
  echo "  wrk ${wrk_all[-1]}/s" >&2
}
# wrk's runs are spread before, between and after the searches, so that its
# median sees the machine the searches saw.
if has wrk; then
  echo "== wrk (closed loop, 2 threads, 64 connections, ${step}s; $trials runs spread over the whole benchmark)"
  if [ "$trials" -ge 3 ]; then wrk_once; fi
fi
m18=0 sharded=0 veg=0 wrk_rps=0 m18_cpu=0 sharded_cpu=0 veg_cpu=0 wrk_cpu=0
if has m18; then
  echo "== m18-run (open loop, < 1 % late by 10 ms, < 1 % dropped)"
  search m18-run m18_ok; m18=$found
fi
if has sharded; then
  echo "== m18-run, 2 shards on this machine (each shard < 1 % late, < 1 % dropped; the merge exits 0)"
  search "m18-run ×2" m18_sharded_ok; sharded=$found
fi
equiv_line=""
if has equiv; then
  pairs="${EQUIV_PAIRS:-8}"
  echo "== sharded against unsharded: $pairs interleaved pairs, 500/s for 2 s, target answering after 20 ms"
  "$work/m18-target" --addr 127.0.0.1:0 --work 20ms >"$work/equiv-url" 2>/dev/null &
  equiv_pid=$!
  for _ in $(seq 50); do [ -s "$work/equiv-url" ] && break; sleep 0.1; done
  sed 's/embedding_search_weight = 1.0/embedding_search_weight = 0.5/; s/recall_weight = 0.0/recall_weight = 0.5/; s/num_nodes = 1$/num_nodes = 300/' \
    "$work/bench.toml" >"$work/equiv.toml"
  equiv=(--scenario "$work/equiv.toml" --endpoint "$(head -1 "$work/equiv-url")" --rate 500 --duration 2s --warmup 300ms --seed 42 --quiet)
  slips=0
  for p in $(seq -w 1 "$pairs"); do
    for side in $( ((10#$p % 2)) && echo "u s" || echo "s u"); do
      if [ "$side" = u ]; then
        "$m18_bin" "${equiv[@]}" --output "$work/equiv-u-$p.json" >/dev/null 2>&1 || slips=$((slips + 1))
        continue
      fi
      at="$(date -u -d '+1.5 sec' +%Y-%m-%dT%H:%M:%S.%NZ)" spids=()
      for i in 0 1; do
        "$m18_bin" "${equiv[@]}" --shard "$i/2" --start-at "$at" --output "$work/equiv-s-$p-$i.json" >/dev/null 2>&1 &
        spids+=($!)
      done
      for i in "${spids[@]}"; do wait "$i" || true; done
      "$m18_bin" merge --output "$work/equiv-m-$p.json" "$work/equiv-s-$p-"[01].json >/dev/null 2>&1 || slips=$((slips + 1))
    done
  done
  kill "$equiv_pid" 2>/dev/null || true
  for t in 5 75; do
    "$work/m18-gate" compare --paired --threshold "$t" --base "$work"/equiv-u-*.json --head "$work"/equiv-m-*.json 2>&1 |
      awk -v t="$t" '$2 == "overall" && (($3 == "p50" && t == 5) || ($3 == "p99" && t == 75)) {print "  " $3 " (±" t " %): " $4 " " $5 " → " $6 " " $7 ", change " $8 " " $9 " " $10 ", " $12}'
  done | tee "$work/equiv.txt"
  equiv_line="sharded vs unsharded ($pairs pairs, $slips runs slipped): $(tr -s ' ' <"$work/equiv.txt" | paste -sd ';')"
fi
base_m18=""
if [ -n "${BASE:-}" ]; then
  echo "== m18-run at $BASE (the same search)"
  m18_bin="$work/m18-run-base"; search "m18-run@$BASE" m18_ok; base_m18=$found; m18_bin="$work/m18-run"
fi
if has wrk && [ "$trials" -ge 2 ]; then wrk_once; fi
if has vegeta; then
  echo "== vegeta (open loop, ≥ 99 % of the rate sent)"
  search vegeta vegeta_ok; veg=$found
fi
if has wrk; then
  while [ "${#wrk_all[@]}" -lt "$trials" ]; do wrk_once; done
  wrk_rps=$(printf '%s\n' "${wrk_all[@]}" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  echo "== wrk: median $wrk_rps/s of ${wrk_all[*]}"
fi

cpu_rate="${CPU_RATE:-4000}"
cpu_us() { # requests command... → CPU µs per request of the command
  local n="$1"; shift
  local st t0 t1 # this (sub)shell's own and its waited-for children's CPU ticks
  read -r -a st </proc/"$BASHPID"/stat
  t0=$((st[13] + st[14] + st[15] + st[16]))
  "$@" >/dev/null 2>&1 || true
  read -r -a st </proc/"$BASHPID"/stat
  t1=$((st[13] + st[14] + st[15] + st[16]))
  python3 -c "import os,sys; hz=os.sysconf('SC_CLK_TCK'); print(f'{($t1-$t0)/hz*1e6/max($n,1):.1f}')"
}
echo "== CPU per request (m18-run, its 2 shards together, and vegeta at ${cpu_rate}/s for ${step}s)"
if has m18; then
  fresh_endpoint
  m18_cpu=$(cpu_us $((cpu_rate * (step + 1))) "$work/m18-run" --scenario "$work/bench.toml" --endpoint "$base" --rate "$cpu_rate" \
    --duration "${step}s" --warmup 1s --nodes 0 --quiet --output "$work/m18cpu.json")
fi
if has sharded; then
  fresh_endpoint
  sharded_cpu=$(cpu_us $((cpu_rate * (step + 1))) two_shards "$cpu_rate")
fi
if has vegeta; then
  fresh_endpoint
  veg_cpu=$(cpu_us $((cpu_rate * step)) sh -c "echo 'GET $url' | '$VEGETA' attack -rate=${cpu_rate}/s -duration=${step}s -timeout=10s >'$work/vcpu.bin'")
fi
if has wrk; then
  fresh_endpoint
  wrk_cpu=$(cpu_us $((wrk_rps * step)) wrk -t2 -c64 -d"${step}s" "$url")
fi

echo
printf "%-10s %12s %16s\n" tool "max rate/s" "CPU µs/request"
printf "%-10s %12s %16s\n" m18-run "$m18" "$m18_cpu" "2 shards" "$sharded" "$sharded_cpu" vegeta "$veg" "$veg_cpu" wrk "$wrk_rps" "$wrk_cpu"
[ -n "$equiv_line" ] && echo "$equiv_line"
[ -n "$base_m18" ] && printf "%-10s %12s   (m18-run / base = %s)\n" "base" "$base_m18" "$(python3 -c "print(f'{$m18 / max($base_m18, 1):.2f}')")"
python3 - "$m18" "$veg" "$wrk_rps" "$m18_cpu" "$veg_cpu" "$wrk_cpu" "$sharded" "$sharded_cpu" <<'PY'
import sys
m, v, w, mc, vc, wc, s, sc = map(float, sys.argv[1:])
if s and m:
    print(f"2 shards / 1 = {s / m:.2f}  (total sustained rate of two shards on this machine beside one process)")
if sc and mc:
    print(f"CPU per request: 2 shards / 1 = {sc / mc:.2f}  (each shard paces the whole schedule and sends its half)")
print(f"m18-run / wrk    = {m / w:.2f}  (goal ≥ 0.8)" if w else "wrk: no figure")
print(f"m18-run / vegeta = {m / v:.2f}  (goal ≥ 1.5)" if v else "vegeta: no figure")
if mc and vc and wc:
    print(f"CPU per request: vegeta / m18-run = {vc / mc:.2f}, wrk / m18-run = {wc / mc:.2f}  (above 1: m18-run is cheaper)")
PY
