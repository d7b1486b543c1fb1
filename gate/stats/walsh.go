package stats

import (
	"math"
	"slices"
)

// WalshMedian returns the one-sample Hodges–Lehmann estimate of the centre
// of d: the median of the n(n+1)/2 Walsh averages (d_i + d_j)/2, i ≤ j. It
// is the estimate that goes with a one-sample rank test (R's wilcox.test
// conf.int "(pseudo)median"), robust to a minority of outlying pairs. It
// materialises all averages: O(n² log n) time and O(n²) memory, fine for the
// tens to hundreds of pairs a gate sees. NaN for an empty d; d is not
// modified.
func WalshMedian(d []float64) float64 {
	n := len(d)
	if n == 0 {
		return math.NaN()
	}
	w := make([]float64, 0, n*(n+1)/2)
	for i := range n {
		for j := i; j < n; j++ {
			w = append(w, d[i]/2+d[j]/2)
		}
	}
	slices.Sort(w)
	return sortedMedian(w)
}
