package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// lognormalSeries returns len(levels) points, point i being levels[i] times
// lognormal noise with log-scale standard deviation cv.
func lognormalSeries(rng *rand.Rand, levels []float64, cv float64) []float64 {
	s := make([]float64, len(levels))
	for i, l := range levels {
		s[i] = l * math.Exp(cv*rng.NormFloat64())
	}
	return s
}

func steps(n int, at []int, factor float64) []float64 {
	levels := make([]float64, n)
	level := 100.0
	k := 0
	for i := range levels {
		if k < len(at) && i == at[k] {
			level *= factor
			k++
		}
		levels[i] = level
	}
	return levels
}

func TestEDivisiveSteps(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		at   []int
	}{
		{"one step early", 60, []int{12}},
		{"one step middle", 80, []int{40}},
		{"one step late", 60, []int{50}},
		{"two steps", 90, []int{30, 60}},
		{"two steps close", 100, []int{45, 60}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for seed := range uint64(10) {
				rng := rand.New(rand.NewPCG(seed, 100))
				series := lognormalSeries(rng, steps(c.n, c.at, 1.10), 0.02)
				cps := EDivisive(series, EDivisiveOptions{Seed: seed})
				if len(cps) != len(c.at) {
					t.Errorf("seed %d: found %d change points %+v; want %d at %v", seed, len(cps), cps, len(c.at), c.at)
					continue
				}
				for k, cp := range cps {
					if d := cp.Index - c.at[k]; d < -2 || d > 2 {
						t.Errorf("seed %d: change point %d at %d; want %d ± 2", seed, k, cp.Index, c.at[k])
					}
					if !(cp.PValue < 0.05) {
						t.Errorf("seed %d: p-value %v not < 0.05", seed, cp.PValue)
					}
					if math.Abs(cp.Change-0.10) > 0.03 {
						t.Errorf("seed %d: change %.3f; want about 0.10", seed, cp.Change)
					}
				}
			}
		})
	}
}

func TestEDivisiveNoiseOnly(t *testing.T) {
	const series = 50
	falsePositives := 0
	for seed := range uint64(series) {
		rng := rand.New(rand.NewPCG(seed, 200))
		s := lognormalSeries(rng, steps(60, nil, 1), 0.02)
		falsePositives += len(EDivisive(s, EDivisiveOptions{Seed: seed}))
	}
	t.Logf("%d change points found in %d pure-noise series (alpha 0.05)", falsePositives, series)
	// About alpha·series are expected; 7 or more has probability ~1 %.
	if falsePositives > 6 {
		t.Errorf("%d false change points in %d noise series; want ≤ 6", falsePositives, series)
	}
}

func TestEDivisiveDeterministicAndEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	s := lognormalSeries(rng, steps(40, []int{20}, 1.05), 0.03)
	a := EDivisive(s, EDivisiveOptions{Seed: 7})
	b := EDivisive(s, EDivisiveOptions{Seed: 7})
	if len(a) != len(b) {
		t.Fatalf("same seed gave %v and %v", a, b)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed gave %v and %v", a, b)
		}
	}
	if got := EDivisive([]float64{1, 2, 3}, EDivisiveOptions{}); got != nil {
		t.Errorf("3 points: %v; want none", got)
	}
	if got := EDivisive(make([]float64, 50), EDivisiveOptions{}); got != nil {
		t.Errorf("constant series: %v; want none", got)
	}
	// MinSize is honoured: a step 2 points from the end is not reported
	// with MinSize 5.
	s = lognormalSeries(rng, steps(40, []int{38}, 2), 0.01)
	for _, cp := range EDivisive(s, EDivisiveOptions{MinSize: 5}) {
		if cp.Index < 5 || cp.Index > 35 {
			t.Errorf("change point at %d violates MinSize 5", cp.Index)
		}
	}
	// MaxChangePoints bounds the result.
	s = lognormalSeries(rng, steps(200, []int{20, 40, 60, 80, 100, 120, 140, 160, 180}, 1.3), 0.01)
	if got := EDivisive(s, EDivisiveOptions{MaxChangePoints: 3}); len(got) > 3 {
		t.Errorf("MaxChangePoints 3: got %d", len(got))
	}
}

// TestSegmentSplitBruteForce checks the O(n²) incremental statistic against
// the definition.
func TestSegmentSplitBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := make([]float64, 23)
	for i := range x {
		x[i] = rng.NormFloat64() + float64(i/12)
	}
	bestT, bestQ := -1, math.Inf(-1)
	for tau := 3; tau <= len(x)-3; tau++ {
		l, r := x[:tau], x[tau:]
		var between, within1, within2 float64
		for _, a := range l {
			for _, b := range r {
				between += math.Abs(a - b)
			}
		}
		for i := range l {
			for j := i + 1; j < len(l); j++ {
				within1 += math.Abs(l[i] - l[j])
			}
		}
		for i := range r {
			for j := i + 1; j < len(r); j++ {
				within2 += math.Abs(r[i] - r[j])
			}
		}
		m, n := float64(len(l)), float64(len(r))
		e := 2*between/(m*n) - within1/(m*(m-1)/2) - within2/(n*(n-1)/2)
		if q := m * n / (m + n) * e; q > bestQ {
			bestT, bestQ = tau, q
		}
	}
	gotT, gotQ := segmentSplit(x, 3)
	if gotT != bestT || !close(gotQ, bestQ) {
		t.Errorf("segmentSplit = %d, %v; want %d, %v", gotT, gotQ, bestT, bestQ)
	}
}
