package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		x    []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1}, 2},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{-1, -1, 7, 100, 2}, 2},
	} {
		if got := Median(c.x); got != c.want {
			t.Errorf("Median(%v) = %v; want %v", c.x, got, c.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

func TestHodgesLehmannHand(t *testing.T) {
	for _, c := range []struct {
		x, y []float64
		want float64
	}{
		// Differences y−x: {1,2,0,1} → median 1.
		{[]float64{1, 2}, []float64{2, 3}, 1},
		// A pure shift of 10 is recovered exactly.
		{[]float64{1, 5, 2, 8}, []float64{11, 15, 12, 18}, 10},
		// One difference: itself.
		{[]float64{4}, []float64{1}, -3},
		// An outlier barely moves it: differences 1,0,−1, 2,1,0, 100,99,98
		// sort to −1,0,0,1,1,2,98,99,100, median 1.
		{[]float64{0, 1, 2}, []float64{1, 2, 100}, 1},
	} {
		if got := HodgesLehmann(c.x, c.y); got != c.want {
			t.Errorf("HodgesLehmann(%v, %v) = %v; want %v", c.x, c.y, got, c.want)
		}
	}
	if !math.IsNaN(HodgesLehmann(nil, []float64{1})) {
		t.Error("HodgesLehmann with an empty side is not NaN")
	}
}

// TestHodgesLehmannLargePath checks the selection path (no materialised
// differences) against sorting all differences, with ties, negatives and
// odd and even pair counts.
func TestHodgesLehmannLargePath(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		n, m := 200+rng.IntN(200), 300+rng.IntN(200)
		x, y := make([]float64, n), make([]float64, m)
		for i := range x {
			x[i] = math.Round(rng.NormFloat64()*50) / 4
		}
		for j := range y {
			y[j] = rng.NormFloat64()*1e3 + float64(trial)
			if trial%2 == 0 {
				y[j] = math.Round(y[j])
			}
		}
		d := make([]float64, 0, n*m)
		for _, xi := range x {
			for _, yj := range y {
				d = append(d, yj-xi)
			}
		}
		slices.Sort(d)
		want := sortedMedian(d)
		if got := HodgesLehmann(x, y); got != want {
			t.Errorf("trial %d (%d×%d): HodgesLehmann = %v; want %v", trial, n, m, got, want)
		}
	}
}

// TestResampledMedian checks the counting median against sorting the same
// draws (the same seed yields the same sequence of indices).
func TestResampledMedian(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 10, 20, 21} {
		sorted := make([]float64, n)
		for i := range sorted {
			sorted[i] = float64(i*i) / 3
		}
		count := make([]int32, n)
		for seed := range uint64(200) {
			got := resampledMedian(&splitMix{state: seed}, sorted, count)
			rng := &splitMix{state: seed}
			draw := make([]float64, n)
			for i := range draw {
				draw[i] = sorted[rng.intN(n)]
			}
			if want := Median(draw); got != want {
				t.Fatalf("n=%d seed=%d: resampledMedian = %v; want %v (draw %v)", n, seed, got, want, draw)
			}
		}
	}
}

func TestRatioCIDeterministic(t *testing.T) {
	base := []float64{100, 102, 99, 101, 98, 103, 100, 97, 101, 100}
	head := []float64{110, 108, 112, 109, 111, 107, 110, 113, 109, 110}
	lo1, hi1 := new(MedianBootstrap).RatioCI(base, head, 0.99, 2000, 42)
	lo2, hi2 := new(MedianBootstrap).RatioCI(base, head, 0.99, 2000, 42)
	if lo1 != lo2 || hi1 != hi2 {
		t.Errorf("same seed gave [%v, %v] and [%v, %v]", lo1, hi1, lo2, hi2)
	}
	lo3, hi3 := new(MedianBootstrap).RatioCI(base, head, 0.99, 2000, 43)
	if lo1 == lo3 && hi1 == hi3 {
		t.Errorf("different seeds gave the same interval [%v, %v]", lo1, hi1)
	}
	point := Median(head)/Median(base) - 1
	if !(lo1 <= point && point <= hi1) || !(lo1 > 0.05 && hi1 < 0.16) {
		t.Errorf("interval [%v, %v] around %v is implausible", lo1, hi1, point)
	}
	if lo, hi := new(MedianBootstrap).RatioCI(nil, head, 0.99, 10, 1); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Error("empty base: want NaN, NaN")
	}
	if lo, hi := new(MedianBootstrap).RatioCI(base, head, 1, 10, 1); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Error("confidence 1: want NaN, NaN")
	}
}

// TestRatioCICoverage checks, by seeded simulation, that the 90 %
// interval covers the true ratio of medians at about the nominal rate.
// Lognormal samples have median exactly m, so the true ratio is known.
func TestRatioCICoverage(t *testing.T) {
	const conf = 0.90
	trials := 500
	if testing.Short() {
		trials = 200
	}
	for _, n := range []int{15, 30} {
		rng := rand.New(rand.NewPCG(7, uint64(n)))
		covered := 0
		trueChange := 0.05
		for trial := range trials {
			base, head := make([]float64, n), make([]float64, n)
			for i := range base {
				base[i] = 100 * math.Exp(0.05*rng.NormFloat64())
				head[i] = 100 * (1 + trueChange) * math.Exp(0.05*rng.NormFloat64())
			}
			lo, hi := new(MedianBootstrap).RatioCI(base, head, conf, 1000, uint64(trial))
			if lo <= trueChange && trueChange <= hi {
				covered++
			}
		}
		rate := float64(covered) / float64(trials)
		// The percentile bootstrap of a median is only approximately
		// nominal at small n (its distribution is discrete); accept
		// nominal ± (4 binomial standard errors + 2 points).
		tol := 4*math.Sqrt(conf*(1-conf)/float64(trials)) + 0.02
		t.Logf("n=%d: coverage of the %.0f%% interval %.3f over %d trials", n, 100*conf, rate, trials)
		if math.Abs(rate-conf) > tol {
			t.Errorf("n=%d: coverage %.3f; want %.2f ± %.3f", n, rate, conf, tol)
		}
	}
}

func TestSortFloats(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, n := range []int{0, 1, 100, radixMin, 50000} {
		s := make([]float64, n)
		for i := range s {
			switch rng.IntN(5) {
			case 0:
				s[i] = math.Round(rng.NormFloat64() * 3) // ties, ±0
			case 1:
				s[i] = math.Inf(2*rng.IntN(2) - 1)
			case 2:
				s[i] = rng.NormFloat64() * 1e-310 // subnormal
			default:
				s[i] = rng.NormFloat64() * 1e6
			}
		}
		want := slices.Clone(s)
		slices.Sort(want)
		sortFloats(s)
		for i := range s {
			if s[i] != want[i] {
				t.Fatalf("n=%d: sorted[%d] = %v; want %v", n, i, s[i], want[i])
			}
		}
	}
}

// tiedSample is n standard normal values, or with ties n whole numbers
// drawn from [0, levels).
func tiedSample(rng *rand.Rand, n int, ties bool, levels int) []float64 {
	s := make([]float64, n)
	for i := range s {
		if ties {
			s[i] = float64(rng.IntN(levels))
		} else {
			s[i] = rng.NormFloat64()
		}
	}
	return s
}

// TestQuantileSelect checks the partial-order quantile against sorting, on
// data with and without ties, at the tails the bootstrap uses.
func TestQuantileSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 2, 3, 10, 999, 1000, 2001} {
		for _, ties := range []bool{false, true} {
			for _, p := range []float64{0, 0.005, 0.025, 0.5, 0.975, 0.995, 1} {
				s := tiedSample(rng, n, ties, 5)
				sorted := slices.Clone(s)
				slices.Sort(sorted)
				want := quantileSorted(sorted, p)
				if got := quantileSelect(s, p); got != want {
					t.Errorf("n=%d ties=%v p=%v: quantileSelect = %v, sorting gives %v", n, ties, p, got, want)
				}
			}
		}
	}
}
