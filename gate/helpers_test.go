package gate

import (
	"math"
	"slices"
	"time"
)

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

// constant is n runs of the value v.
func constant(v float64, n int) []float64 { return slices.Repeat([]float64{v}, n) }

func approx(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// fixedNow keeps verdicts reproducible.
func fixedNow() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
