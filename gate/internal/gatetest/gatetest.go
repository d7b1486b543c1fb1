// Package gatetest builds the inputs the gate packages' tests share: m18
// result documents with chosen latencies and lognormal run-to-run noise.
package gatetest

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/engram/m18-gate/runners/result"
)

// Lognormal draws n values with median center and coefficient of variation
// cv.
func Lognormal(r *rand.Rand, center, cv float64, n int) []float64 {
	sigma := math.Sqrt(math.Log(1 + cv*cv))
	out := make([]float64, n)
	for i := range out {
		out[i] = center * math.Exp(sigma*r.NormFloat64())
	}
	return out
}

// ResultDoc builds an m18.result/v1 document with one repetition per entry
// of p50s: every latency metric scales with the p50 (p95 = 1.5×, p99 = 2×,
// p99.9 = 3×, mean = 1.1×), throughput is fixed at 1000 ops/s and the error
// rate at errRate, for "overall" and Store/Recall in equal parts.
func ResultDoc(scenario, fingerprint string, start time.Time, p50s []float64, errRate float64) *result.Document {
	d := &result.Document{
		Schema: result.SchemaVersion,
		Run: result.Run{
			Scenario: scenario, ScenarioSHA256: "00", Seed: 1, RunID: "run-" + start.Format("150405"),
			Start: start, End: start.Add(time.Minute), ToolVersion: "test",
			Commit: "0123456789abcdef0123456789abcdef01234567", Endpoint: "http://127.0.0.1:1", Target: "builtin",
			Hardware: result.Fingerprint{Hash: fingerprint, CPUModel: "Test CPU", Arch: "amd64", LogicalCores: 2, MemoryBytes: 24 << 30, Kernel: "6.0"},
		},
		ConfigName: scenario,
	}
	for i, p50 := range p50s {
		st := func(scale float64) result.OpStats {
			return result.OpStats{
				Count: 1000, Success: 1000 - uint64(errRate*1000), Errors: uint64(errRate * 1000), ErrorRate: errRate,
				Throughput: 1000 * scale,
				Latency:    result.Latency{P50: p50, P90: 1.4 * p50, P95: 1.5 * p50, P99: 2 * p50, P999: 3 * p50, P9999: 4 * p50, Max: 5 * p50, Mean: 1.1 * p50},
			}
		}
		d.Repetitions = append(d.Repetitions, result.Repetition{
			Index: i, Start: start.Add(time.Duration(i) * time.Second), End: start.Add(time.Duration(i+1) * time.Second), DurationSeconds: 1,
			Operations: map[string]result.OpStats{result.OpStore: st(0.5), result.OpRecall: st(0.5)},
			Overall:    st(1),
		})
	}
	return d
}
