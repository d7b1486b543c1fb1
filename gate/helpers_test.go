package gate

import (
	"flag"
	"math"
	"math/rand/v2"
	"time"

	"github.com/engram/m18-gate/runners/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// spread returns n values around center with relative spread rel: center ×
// (1 + rel·z) for evenly spaced normal quantiles z, in a scrambled but fixed
// order. Deterministic, so decision tests do not depend on a generator.
func spread(center, rel float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		// Scramble the order with a multiplicative step coprime to n.
		j := (i*7 + 3) % n
		if n%7 == 0 {
			j = i
		}
		z := normalQuantile((float64(j) + 0.5) / float64(n))
		out[i] = center * (1 + rel*z)
	}
	return out
}

// normalQuantile is Φ⁻¹(p) by bisection on erfc (tests only).
func normalQuantile(p float64) float64 {
	lo, hi := -10.0, 10.0
	for range 100 {
		mid := (lo + hi) / 2
		if 0.5*math.Erfc(-mid/math.Sqrt2) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

func constant(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// lognormal draws n values with median center and coefficient of variation cv.
func lognormal(r *rand.Rand, center, cv float64, n int) []float64 {
	sigma := math.Sqrt(math.Log(1 + cv*cv))
	out := make([]float64, n)
	for i := range out {
		out[i] = center * math.Exp(sigma*r.NormFloat64())
	}
	return out
}

// fixedNow keeps verdicts reproducible.
func fixedNow() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }

// resultDoc builds an m18.result/v1 document with one repetition per entry of
// p50s: every latency metric scales with the p50 (p95 = 1.5×, p99 = 2×,
// p99.9 = 3×, mean = 1.1×), throughput is fixed at 1000 ops/s and the error
// rate at errRate, for "overall" and Store/Recall in equal parts.
func resultDoc(scenario, fingerprint string, start time.Time, p50s []float64, errRate float64) *result.Document {
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
