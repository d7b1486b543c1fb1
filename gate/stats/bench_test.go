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

// BenchmarkMannWhitney1e6 is a U test on 10⁶ vs 10⁶ values (the normal
// path: sort, merge, tie correction). The target is well under a second.
func BenchmarkMannWhitney1e6(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := lognormalSample(rng, 1e6, 100, 0.05)
	y := lognormalSample(rng, 1e6, 100.1, 0.05)
	for b.Loop() {
		if _, err := MannWhitney(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMannWhitney1e6Ties is the same with heavy ties (values rounded
// to integers, as quantised latencies are).
func BenchmarkMannWhitney1e6Ties(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := lognormalSample(rng, 1e6, 100, 0.05)
	y := lognormalSample(rng, 1e6, 100.1, 0.05)
	for i := range x {
		x[i], y[i] = math.Round(x[i]), math.Round(y[i])
	}
	for b.Loop() {
		if _, err := MannWhitney(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMannWhitney20 is the gate's usual case: 20 runs per side, exact.
func BenchmarkMannWhitney20(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 3))
	x := lognormalSample(rng, 20, 100, 0.03)
	y := lognormalSample(rng, 20, 103, 0.03)
	for b.Loop() {
		MannWhitney(x, y)
	}
}

// BenchmarkMannWhitney20Ties is 20 runs per side with a few ties (exact
// distribution given the ties, the costliest exact case).
func BenchmarkMannWhitney20Ties(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	x := lognormalSample(rng, 20, 100, 0.03)
	y := lognormalSample(rng, 20, 103, 0.03)
	x[3], y[5] = x[1], x[1]
	for b.Loop() {
		MannWhitney(x, y)
	}
}

// BenchmarkMannWhitney25Ties is the largest exact case with ties: 25 vs 25
// rounded to integers (many ties).
func BenchmarkMannWhitney25Ties(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 5))
	x := lognormalSample(rng, 25, 100, 0.05)
	y := lognormalSample(rng, 25, 102, 0.05)
	for i := range x {
		x[i], y[i] = math.Round(x[i]), math.Round(y[i])
	}
	for b.Loop() {
		MannWhitney(x, y)
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
