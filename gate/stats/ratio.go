package stats

import (
	"math"
	"math/rand/v2"
	"slices"
)

// RatioOfRatios is the bootstrap of a competitive position's change: how
// the ratio of medians median(a)/median(b) (Engram against a competitor)
// moved from a baseline pair (a0, b0) to the current pair (a1, b1).
type RatioOfRatios struct {
	// Estimate is (median(a1)/median(b1)) / (median(a0)/median(b0)).
	Estimate float64
	// Low and High bound Estimate at the requested confidence
	// (percentile bootstrap, every sample resampled independently).
	Low, High float64
	// P is the two-sided bootstrap p-value of "the position did not move"
	// (the ratio of ratios is 1): twice the smaller share of resampled
	// log ratios of ratios on either side of 0, at least 2/(resamples+1).
	P float64
}

// BootstrapRatioOfRatios resamples each sample with replacement, resamples
// times (≤ 0: 10000), and returns the ratio of ratios of the medians with
// its interval and p-value. When sameB is true, b0 and b1 are the same
// runs (the competitor measured once for both): each resample draws them
// once, so that they cancel, as they do in the estimate. Values must be
// positive; NaNs come back for an empty sample.
func BootstrapRatioOfRatios(a1, b1, a0, b0 []float64, sameB bool, confidence float64, resamples int, seed uint64) RatioOfRatios {
	nan := math.NaN()
	if len(a1) == 0 || len(b1) == 0 || len(a0) == 0 || len(b0) == 0 || !(confidence > 0 && confidence < 1) {
		return RatioOfRatios{nan, nan, nan, nan}
	}
	if resamples <= 0 {
		resamples = 10000
	}
	r := RatioOfRatios{Estimate: Median(a1) / Median(b1) / (Median(a0) / Median(b0))}
	rng := rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))
	buf := make([]float64, max(len(a1), len(b1), len(a0), len(b0)))
	draw := func(x []float64) float64 {
		d := buf[:len(x)]
		for i := range d {
			d[i] = x[rng.IntN(len(x))]
		}
		slices.Sort(d)
		return sortedMedian(d)
	}
	logs := make([]float64, resamples)
	below, above := 0, 0
	for i := range logs {
		m1, n1, m0 := draw(a1), draw(b1), draw(a0)
		n0 := n1
		if !sameB {
			n0 = draw(b0)
		}
		l := math.Log(m1) - math.Log(n1) - math.Log(m0) + math.Log(n0)
		logs[i] = l
		if l <= 0 {
			below++
		}
		if l >= 0 {
			above++
		}
	}
	slices.Sort(logs)
	lo, hi := percentileInterval(logs, confidence)
	r.Low, r.High = math.Exp(lo), math.Exp(hi)
	r.P = min(1, max(2*float64(min(below, above))/float64(resamples), 2/float64(resamples+1)))
	return r
}
