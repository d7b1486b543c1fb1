#!/usr/bin/env bash
# Gates Go's own bytes benchmarks with AVX2 switched off (GODEBUG=cpu.avx2=off)
# against the same test binary with it on, interleaved on this machine with
# m18-gate bench. On an AVX2 machine the four 4K benchmarks that use AVX2
# (IndexByte, IndexRuneASCII, Equal, CountSingle) must regress, each counted
# once (its B/s follows its sec/op), and the short ones must not.
#
# Usage: scripts/bench_bytes_avx2.sh [COUNT] [OUT_DIR]
set -euo pipefail
count=${1:-10}
out=${2:-$(mktemp -d)}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
if ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
	echo "bench_bytes_avx2: this CPU has no AVX2; nothing to switch off" >&2
	exit 0
fi
(cd "$root" && go build -o "$out/m18-gate" ./cmd/m18-gate)
go test -c -o "$out/bytes.test" bytes
pattern='^Benchmark(IndexByte|IndexRuneASCII|Equal|CountSingle)$/(9|10|32|4K)$'
run="./bytes.test -test.run NONE -test.bench '$pattern' -test.benchtime 100ms"
cd "$out"
start=$(date +%s)
set +e
./m18-gate bench --count "$count" --out runs --output verdict.json \
	--base-cmd "GODEBUG=cpu.avx2=on $run" --head-cmd "GODEBUG=cpu.avx2=off $run" 2>bench.log
code=$?
set -e
echo "exit code $code (1 = regression found), $(( $(date +%s) - start )) s for $count pairs; runs in $out/runs"
exit 0
