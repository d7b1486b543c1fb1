package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteForceP enumerates every assignment of the pooled values to the two
// sides and returns P(|U−μ| ≥ |u−μ|), with U counted pair by pair.
func bruteForceP(x, y []float64) float64 {
	pooled := append(append([]float64(nil), x...), y...)
	n, nx := len(pooled), len(x)
	twiceU := func(in []bool) int {
		c := 0
		for i := range pooled {
			if !in[i] {
				continue
			}
			for j := range pooled {
				if in[j] {
					continue
				}
				switch {
				case pooled[i] > pooled[j]:
					c += 2
				case pooled[i] == pooled[j]:
					c++
				}
			}
		}
		return c
	}
	in := make([]bool, n)
	for i := range nx {
		in[i] = true
	}
	mu2 := nx * len(y)
	d := abs(twiceU(in) - mu2)
	hits, total := 0, 0
	for mask := 0; mask < 1<<n; mask++ {
		k := 0
		for i := range n {
			in[i] = mask&(1<<i) != 0
			if in[i] {
				k++
			}
		}
		if k != nx {
			continue
		}
		total++
		if abs(twiceU(in)-mu2) >= d {
			hits++
		}
	}
	return float64(hits) / float64(total)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestMannWhitneyExactBruteForce compares the exact path with full
// enumeration on random small samples with many ties, including the
// two-distinct-values case where moremath's UDist needs a guard.
func TestMannWhitneyExactBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	trials := 400
	if testing.Short() {
		trials = 100
	}
	for trial := range trials {
		nx, ny := 1+rng.IntN(6), 1+rng.IntN(6)
		levels := 1 + rng.IntN(5)
		x, y := make([]float64, nx), make([]float64, ny)
		for i := range x {
			x[i] = float64(rng.IntN(levels))
		}
		for j := range y {
			y[j] = float64(rng.IntN(levels) + rng.IntN(2))
		}
		r, err := MannWhitney(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Exact {
			t.Fatalf("trial %d: small sample took the normal path", trial)
		}
		if want := bruteForceP(x, y); math.Abs(r.P-want) > 1e-12 {
			t.Errorf("trial %d: x=%v y=%v: P = %.15g; want %.15g", trial, x, y, r.P, want)
		}
	}
}
