package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// TheilSenResult is a robust linear trend: the median of the pairwise
// slopes and Sen's distribution-free confidence interval.
type TheilSenResult struct {
	// Slope is the median of (y_j − y_i)/(x_j − x_i) over pairs with
	// x_i ≠ x_j; Intercept the median of y − Slope·x.
	Slope, Intercept float64
	// Low and High bound Slope at the requested confidence: the order
	// statistics (N − C)/2 and (N + C)/2 + 1 of the N pairwise slopes,
	// C = z·sqrt(Var S), Var S Kendall's tie-corrected variance (Sen 1968).
	Low, High float64
	// N is the number of points.
	N int
}

// TheilSen fits y against x. It needs at least 3 points with at least 2
// distinct x; otherwise every field but N is NaN. Gonum's stat package
// has no Theil–Sen estimator, hence this one.
func TheilSen(x, y []float64, confidence float64) TheilSenResult {
	n := len(x)
	nan := math.NaN()
	r := TheilSenResult{Slope: nan, Intercept: nan, Low: nan, High: nan, N: n}
	if n != len(y) || n < 3 || !(confidence > 0 && confidence < 1) {
		return r
	}
	var slopes []float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if x[j] != x[i] {
				slopes = append(slopes, (y[j]-y[i])/(x[j]-x[i]))
			}
		}
	}
	if len(slopes) == 0 {
		return r
	}
	slices.Sort(slopes)
	r.Slope = sortedMedian(slopes)
	res := make([]float64, n)
	for i := range x {
		res[i] = y[i] - r.Slope*x[i]
	}
	r.Intercept = Median(res)

	// Var S with ties in x (ties in y do not matter to the slopes' ranks).
	nf := float64(n)
	v := nf * (nf - 1) * (2*nf + 5)
	xs := slices.Clone(x)
	slices.Sort(xs)
	for i := 0; i < len(xs); {
		j := i
		for j < len(xs) && xs[j] == xs[i] {
			j++
		}
		if t := float64(j - i); t > 1 {
			v -= t * (t - 1) * (2*t + 5)
		}
		i = j
	}
	v /= 18
	z := distuv.UnitNormal.Quantile(1 - (1-confidence)/2)
	c := z * math.Sqrt(v)
	m := float64(len(slopes))
	lo := int(math.Round((m - c) / 2)) // 1-based order statistic
	hi := int(math.Round((m+c)/2)) + 1 // 1-based
	if lo < 1 || hi > len(slopes) {
		// Too few points for this confidence: the interval is unbounded.
		r.Low, r.High = math.Inf(-1), math.Inf(1)
		return r
	}
	r.Low, r.High = slopes[lo-1], slopes[hi-1]
	return r
}
