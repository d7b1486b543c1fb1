package stats

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// PairedTResult is the outcome of a one-sample (paired) Student's t test.
type PairedTResult struct {
	// T is mean(d) / (sd(d)/√n); DF is n − 1.
	T  float64
	DF int
	// P is the two-sided p-value.
	P float64
	N int
}

// PairedT tests whether the paired differences d have mean zero, by
// Student's t with n − 1 degrees of freedom, two-sided.
//
// The gate applies it to the log ratios of interleaved A/B pairs: the
// drift the pair shares cancels in the ratio, and the logs of run-level
// figures (a p50, a mean, a throughput) are close to normal. It is used there
// instead of the signed-rank test because its p-values are not bounded below
// by the number of pairs: with 10 pairs the signed-rank p can never be under
// 2/2¹⁰ ≈ 0.002, which false-discovery control across a verdict of many
// comparisons cannot use. Heavy tails make it conservative, not liberal.
//
// Identical differences give p = 0 when they are not zero (a constant shift)
// and p = 1 when they are.
func PairedT(d []float64) (PairedTResult, error) {
	n := len(d)
	if n < 2 {
		return PairedTResult{N: n, P: 1}, errors.New("stats: the t test needs at least 2 pairs")
	}
	for _, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return PairedTResult{N: n, P: 1}, errors.New("stats: paired differences must be finite")
		}
	}
	mean, sd := stat.MeanStdDev(d, nil)
	r := PairedTResult{DF: n - 1, N: n}
	se := sd / math.Sqrt(float64(n))
	switch {
	case se == 0 && mean == 0:
		r.P = 1
		return r, nil
	case se == 0:
		r.T = math.Copysign(math.Inf(1), mean)
		r.P = 0
		return r, nil
	}
	r.T = mean / se
	tdist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	r.P = math.Min(1, 2*tdist.Survival(math.Abs(r.T)))
	return r, nil
}
