package gate

import (
	"math/rand/v2"
	"slices"
)

// diffOfMediansCI is the seeded percentile-bootstrap interval of
// median(head) − median(base) at the given confidence, for metrics compared
// in absolute points (error rates), where a ratio would divide by zero. It
// mirrors stats.RatioOfMediansCI.
func diffOfMediansCI(base, head []float64, confidence float64, resamples int, seed uint64) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bb := make([]float64, len(base))
	hb := make([]float64, len(head))
	diffs := make([]float64, resamples)
	for r := range diffs {
		for i := range bb {
			bb[i] = base[rng.IntN(len(base))]
		}
		for i := range hb {
			hb[i] = head[rng.IntN(len(head))]
		}
		diffs[r] = medianInPlace(hb) - medianInPlace(bb)
	}
	slices.Sort(diffs)
	tail := (1 - confidence) / 2
	return quantile(diffs, tail), quantile(diffs, 1-tail)
}

func medianInPlace(s []float64) float64 {
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1]/2 + s[n/2]/2
}

// quantile of sorted s with linear interpolation (type 7, as R's default).
func quantile(s []float64, p float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	h := p * float64(len(s)-1)
	i := int(h)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (h-float64(i))*(s[i+1]-s[i])
}
