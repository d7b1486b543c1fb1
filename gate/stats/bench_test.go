package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
)

func lognormalSample(rng *rand.Rand, n int, median, cv float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = median * math.Exp(cv*rng.NormFloat64())
	}
	return s
}

// BenchmarkMannWhitney is the U test on 10⁶ vs 10⁶ values (the normal
// path: sort, merge, tie correction; the target is well under a second),
// on the gate's usual 20 runs per side (exact), and on the costliest exact
// cases, with ties. "round" rounds the values to integers, as quantised
// latencies are (heavy ties).
func BenchmarkMannWhitney(b *testing.B) {
	round := func(x, y []float64) {
		for i := range x {
			x[i], y[i] = math.Round(x[i]), math.Round(y[i])
		}
	}
	for i, bb := range []struct {
		name           string
		n              int
		cv, headMedian float64 // the base's median is 100
		ties           func(x, y []float64)
	}{
		{"1e6", 1e6, 0.05, 100.1, nil},
		{"1e6Ties", 1e6, 0.05, 100.1, round},
		{"20", 20, 0.03, 103, nil},
		{"20Ties", 20, 0.03, 103, func(x, y []float64) { x[3], y[5] = x[1], x[1] }}, // a few ties: exact given the ties
		{"25Ties", 25, 0.05, 102, round},                                            // the largest exact case with ties
	} {
		rng := rand.New(rand.NewPCG(1, uint64(i+1)))
		x := lognormalSample(rng, bb.n, 100, bb.cv)
		y := lognormalSample(rng, bb.n, bb.headMedian, bb.cv)
		if bb.ties != nil {
			bb.ties(x, y)
		}
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := MannWhitney(x, y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHodgesLehmann(b *testing.B) {
	for _, n := range []int{20, 1000, 1e6} {
		rng := rand.New(rand.NewPCG(2, uint64(n)))
		x := lognormalSample(rng, n, 100, 0.05)
		y := lognormalSample(rng, n, 103, 0.05)
		b.Run(itoa(n), func(b *testing.B) {
			for b.Loop() {
				HodgesLehmann(x, y)
			}
		})
	}
}

// BenchmarkRatioCIFresh is RatioCI on a new MedianBootstrap, which builds
// its tables first.
func BenchmarkRatioCIFresh(b *testing.B) {
	for _, resamples := range []int{1000, 2000} {
		rng := rand.New(rand.NewPCG(3, 3))
		x := lognormalSample(rng, 20, 100, 0.03)
		y := lognormalSample(rng, 20, 103, 0.03)
		b.Run("n=20/resamples="+itoa(resamples), func(b *testing.B) {
			cpu0 := testenv.CPUTime()
			for b.Loop() {
				new(MedianBootstrap).RatioCI(x, y, 0.99, resamples, 1)
			}
			testenv.ReportCPU(b, cpu0)
		})
	}
}

func BenchmarkMinDetectableEffect(b *testing.B) {
	for b.Loop() {
		MinDetectableEffect(0.03, 20, 0.01, 0.8)
	}
}

func BenchmarkEDivisive(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	s := lognormalSeries(rng, steps(500, []int{150, 300, 420}, 1.05), 0.02)
	for b.Loop() {
		EDivisive(s, EDivisiveOptions{Seed: 1})
	}
}

func itoa(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return string(rune('0'+n/1e6)) + "e6"
	}
	b := []byte{}
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// BenchmarkMedianBootstrapRatioCI is RatioCI with its scratch
// space and tables reused, as the gate calls it.
func BenchmarkMedianBootstrapRatioCI(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	x := lognormalSample(rng, 20, 100, 0.03)
	y := lognormalSample(rng, 20, 103, 0.03)
	var mb MedianBootstrap
	b.ReportAllocs()
	cpu0 := testenv.CPUTime()
	for b.Loop() {
		mb.RatioCI(x, y, 0.99, 1000, 1)
	}
	testenv.ReportCPU(b, cpu0)
}
