package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// SignedRankExactLimit is the largest number of non-zero differences for
// which SignedRank computes the exact p-value (when there are no ties and no
// zeros). It is R's wilcox.test cut-off (exact for n < 50).
const SignedRankExactLimit = 49

// ErrNoPairs is returned by SignedRank when d is empty.
var ErrNoPairs = errors.New("stats: Wilcoxon signed-rank needs at least one paired difference")

// SignedRankResult is the outcome of a two-sided Wilcoxon signed-rank test.
type SignedRankResult struct {
	// WPlus is the sum of the ranks of |d_i| over the positive d_i (zeros
	// dropped, ties given mid-ranks). It lies in [0, N(N+1)/2]; N(N+1)/4
	// means no shift. This is R's wilcox.test V and scipy's wilcoxon
	// statistic for alternative="greater".
	WPlus float64
	// P is the two-sided p-value of H0: the differences are symmetric
	// about 0. P is 1 when every difference is 0.
	P float64
	// Exact reports whether P comes from the exact null distribution of
	// WPlus rather than the normal approximation.
	Exact bool
	// N is the number of non-zero differences the test used; Zeros the
	// number dropped.
	N, Zeros int
}

// SignedRank runs the two-sided Wilcoxon signed-rank test of the paired
// differences d (head − base, one per pair), H0: d is symmetric about 0.
//
// Zeros are dropped (Wilcoxon's zero-drop, as R's wilcox.test; Pratt's
// variant would rank them and drop them afterwards): a pair that did not
// change tells nothing about the direction. The absolute values of the rest
// are ranked, ties getting mid-ranks.
//
// With no zeros, no ties and N ≤ SignedRankExactLimit, P is exact:
// 2·min(P(W⁺ ≤ w), P(W⁺ ≥ w)), capped at 1, from the null distribution of W⁺
// (each of the 2ᴺ sign assignments equally likely), counted by the usual
// dynamic programme over the ranks 1…N in O(N³). Otherwise P is the normal
// approximation with the tie correction
// σ² = N(N+1)(2N+1)/24 − Σ(t³−t)/48 and a continuity correction of 0.5
// towards the mean: z = (|W⁺ − N(N+1)/4| − 0.5)/σ, P = erfc(z/√2) — the same
// as R's wilcox.test(paired = TRUE, correct = TRUE) and scipy's
// wilcoxon(zero_method="wilcox", correction=True, method="approx").
//
// It returns ErrNoPairs for an empty d and an error if a difference is NaN.
// d is not modified.
func SignedRank(d []float64) (SignedRankResult, error) {
	res := SignedRankResult{P: math.NaN(), WPlus: math.NaN()}
	if len(d) == 0 {
		return res, ErrNoPairs
	}
	type obs struct {
		abs float64
		pos bool
	}
	nz := make([]obs, 0, len(d))
	for i, v := range d {
		switch {
		case math.IsNaN(v):
			return res, fmt.Errorf("stats: signed-rank: d[%d] is NaN", i)
		case v == 0:
			res.Zeros++
		default:
			nz = append(nz, obs{math.Abs(v), v > 0})
		}
	}
	n := len(nz)
	res.N = n
	if n == 0 {
		res.WPlus, res.P = 0, 1
		return res, nil
	}
	slices.SortFunc(nz, func(a, b obs) int {
		switch {
		case a.abs < b.abs:
			return -1
		case a.abs > b.abs:
			return 1
		}
		return 0
	})
	var wplus, tieTerm float64
	ties := false
	for i := 0; i < n; {
		j := i + 1
		for j < n && nz[j].abs == nz[i].abs {
			j++
		}
		r := float64(i+j+1) / 2 // mid-rank of positions i…j−1 (1-based)
		for k := i; k < j; k++ {
			if nz[k].pos {
				wplus += r
			}
		}
		if t := float64(j - i); t > 1 {
			ties = true
			tieTerm += t*t*t - t
		}
		i = j
	}
	res.WPlus = wplus
	mean := float64(n) * float64(n+1) / 4
	if !ties && res.Zeros == 0 && n <= SignedRankExactLimit {
		res.Exact = true
		res.P = signedRankExactP(n, int(math.Round(wplus)))
		return res, nil
	}
	sigma := math.Sqrt(float64(n)*float64(n+1)*float64(2*n+1)/24 - tieTerm/48)
	if sigma == 0 {
		res.P = 1
		return res, nil
	}
	z := math.Max(0, math.Abs(wplus-mean)-0.5) / sigma
	res.P = math.Min(1, math.Erfc(z/math.Sqrt2))
	return res, nil
}

// signedRankExactP is the exact two-sided p-value of W⁺ = w for n ranks
// without ties.
func signedRankExactP(n, w int) float64 {
	total := n * (n + 1) / 2
	// count[s] = number of subsets of {1…k} whose ranks sum to s; at most
	// 2⁴⁹ for n = 49, exact in a float64.
	count := make([]float64, total+1)
	count[0] = 1
	for k := 1; k <= n; k++ {
		for s := k * (k + 1) / 2; s >= k; s-- {
			count[s] += count[s-k]
		}
	}
	var lower, upper float64 // P(W⁺ ≤ w), P(W⁺ ≥ w) in counts
	for s, c := range count {
		if s <= w {
			lower += c
		}
		if s >= w {
			upper += c
		}
	}
	return math.Min(1, 2*math.Min(lower, upper)/math.Ldexp(1, n))
}

// MinPValueSignedRank returns the smallest two-sided p-value the exact
// signed-rank test can give with n pairs: 2/2ⁿ (every difference of one
// sign), capped at 1. With fewer pairs than MinPairsForAlpha no change,
// however large and consistent, is significant.
func MinPValueSignedRank(n int) float64 {
	if n < 1 {
		return 1
	}
	return math.Min(1, math.Ldexp(2, -n))
}

// MinPairsForAlpha returns the smallest number of pairs n for which the
// exact two-sided signed-rank p-value can be below alpha
// (MinPValueSignedRank(n) < alpha): 8 for 0.01, 6 for 0.05. It returns 0
// for alpha outside (0, 1].
func MinPairsForAlpha(alpha float64) int {
	if !(alpha > 0 && alpha <= 1) {
		return 0
	}
	for n := 1; ; n++ {
		if MinPValueSignedRank(n) < alpha {
			return n
		}
	}
}

// WalshMedian returns the one-sample Hodges–Lehmann estimate of the centre
// of d: the median of the n(n+1)/2 Walsh averages (d_i + d_j)/2, i ≤ j. It
// is the estimate that goes with the signed-rank test (R's wilcox.test
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

// MedianCI returns a percentile-bootstrap confidence interval for the median
// of d (one value per pair) at the given confidence: each of resamples
// rounds draws len(d) values of d with replacement — whole pairs, so the
// pairing is kept — and lo and hi are the (1−confidence)/2 and
// (1+confidence)/2 quantiles of the resampled medians. It uses the same
// seeded generator and exact draw of the resampled median as
// RatioOfMediansCI (see MedianBootstrap), so the same inputs and seed give
// the same interval. resamples ≤ 0 means 2000. NaN, NaN for an empty d or
// confidence outside (0, 1).
func MedianCI(d []float64, confidence float64, resamples int, seed uint64) (lo, hi float64) {
	var b MedianBootstrap
	return b.MedianCI(d, confidence, resamples, seed)
}
