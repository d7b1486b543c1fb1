package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"

	moremath "github.com/aclements/go-moremath/stats"
)

// Size limits for the exact Mann–Whitney distribution. Above them MannWhitney
// uses the normal approximation, which is accurate there and costs
// O(n log n).
const (
	// ExactLimit is the largest per-side sample size for which the exact
	// distribution of U is used when there are no ties.
	ExactLimit = 50
	// ExactTiesLimit is the largest per-side sample size for which the
	// exact distribution of U given the tie structure is used when the
	// pooled sample has ties (that distribution is costlier to compute).
	ExactTiesLimit = 25
)

// ErrEmptySample is returned by MannWhitney when a side has no values.
var ErrEmptySample = errors.New("stats: Mann-Whitney U needs at least one value on each side")

// MannWhitneyResult is the outcome of a two-sided Mann–Whitney U test.
type MannWhitneyResult struct {
	// U is the U statistic of x (the base sample): the number of pairs
	// (x_i, y_j) with x_i > y_j plus half the number of tied pairs. It lies
	// in [0, NX·NY]; NX·NY/2 means no shift. This is R's wilcox.test W and
	// scipy's U1 for x.
	U float64
	// P is the two-sided p-value: the probability, under the null
	// hypothesis that both samples come from one distribution, of a U at
	// least as far from NX·NY/2 as the observed one. P is 1 when all
	// values are equal.
	P float64
	// Exact reports whether P comes from the exact permutation
	// distribution of U (given the tie structure) rather than the normal
	// approximation.
	Exact bool
	// NX and NY are the sample sizes.
	NX, NY int
}

// MannWhitney runs a two-sided Mann–Whitney U (Wilcoxon rank-sum) test of x
// (base) against y (head).
//
// For NX, NY ≤ ExactLimit without ties, or ≤ ExactTiesLimit with ties, P is
// exact: it comes from the distribution of U over all assignments of the
// pooled values to the two sides, conditional on the observed tie structure
// (without ties github.com/aclements/go-moremath/stats.UDist, the
// Mann–Whitney recursion; with ties a counting recursion over the groups of
// equal values, see tiesLowerTail). Two-sided means P(|U−μ| ≥ |u−μ|) with
// μ = NX·NY/2; without ties this equals twice the smaller tail, capped at 1
// (as R's wilcox.test), and with ties, where the conditional distribution is
// not always symmetric, it never exceeds 1 (unlike doubling a tail).
//
// Beyond the limits, P uses the normal approximation with the tie correction
// σ² = NX·NY/12·((N+1) − Σ(t³−t)/(N(N−1))) and a continuity correction of
// 0.5 towards the mean: z = (|U−μ| − 0.5)/σ, P = erfc(z/√2) — the same as R's
// wilcox.test(correct = TRUE) and scipy's mannwhitneyu(method="asymptotic").
// That path sorts the two samples and is O(n log n), so 10⁶ values per side
// take well under a second.
//
// It returns ErrEmptySample if a side is empty and an error if a value is
// NaN. The inputs are not modified.
func MannWhitney(x, y []float64) (MannWhitneyResult, error) {
	nx, ny := len(x), len(y)
	res := MannWhitneyResult{NX: nx, NY: ny, P: math.NaN(), U: math.NaN()}
	if nx == 0 || ny == 0 {
		return res, ErrEmptySample
	}
	xs, err := sortedCopy(x, "x")
	if err != nil {
		return res, err
	}
	ys, err := sortedCopy(y, "y")
	if err != nil {
		return res, err
	}
	// The tie vector is only needed (and only built) for the exact path.
	small := nx <= ExactLimit && ny <= ExactLimit
	u, st := uStatistic(xs, ys, small)
	res.U = u
	if st.groups == 1 {
		// Every value is equal: no evidence of any difference.
		res.P = 1
		res.Exact = true
		return res, nil
	}
	hasTies := st.groups < nx+ny
	if small && (!hasTies || nx <= ExactTiesLimit && ny <= ExactTiesLimit) {
		res.Exact = true
		res.P = exactTwoSided(u, nx, ny, st.ties, hasTies)
		return res, nil
	}
	res.P = normalTwoSided(u, nx, ny, st.tieSum)
	return res, nil
}

func sortedCopy(v []float64, name string) ([]float64, error) {
	s := slices.Clone(v)
	for i, f := range s {
		if math.IsNaN(f) {
			return nil, fmt.Errorf("stats: %s[%d] is NaN; drop runs without a value before testing", name, i)
		}
	}
	sortFloats(s)
	return s, nil
}

// tieStats describes the groups of equal values in the pooled sample.
type tieStats struct {
	groups int     // number of distinct values
	tieSum float64 // Σ (t³ − t) over the groups, for the variance correction
	ties   []int   // group sizes in increasing order of value, if requested
}

// uStatistic returns U of xs (sorted) against ys (sorted) and the tie
// structure of the pooled sample; the group sizes are kept only if withTies.
func uStatistic(xs, ys []float64, withTies bool) (u float64, st tieStats) {
	// Rank sum of x with mid-ranks for ties, by merging the sorted sides.
	var r1 float64
	i, j, rank := 0, 0, 0 // rank = number of pooled values already consumed
	for i < len(xs) || j < len(ys) {
		var v float64
		switch {
		case i == len(xs):
			v = ys[j]
		case j == len(ys):
			v = xs[i]
		default:
			v = min(xs[i], ys[j])
		}
		cx, cy := 0, 0
		for i < len(xs) && xs[i] == v {
			i++
			cx++
		}
		for j < len(ys) && ys[j] == v {
			j++
			cy++
		}
		t := cx + cy
		// Mid-rank of ranks rank+1 … rank+t.
		r1 += float64(cx) * (float64(rank) + float64(t+1)/2)
		rank += t
		st.groups++
		if t > 1 {
			ft := float64(t)
			st.tieSum += ft*ft*ft - ft
		}
		if withTies {
			st.ties = append(st.ties, t)
		}
	}
	nx := float64(len(xs))
	return r1 - nx*(nx+1)/2, st
}

// exactTwoSided returns P(|U−μ| ≥ |u−μ|) under the permutation distribution
// of U given the tie vector.
func exactTwoSided(u float64, nx, ny int, ties []int, hasTies bool) float64 {
	mn := float64(nx) * float64(ny)
	d := math.Abs(u - mn/2)
	if d == 0 {
		return 1
	}
	if !hasTies {
		// The distribution is symmetric: twice the lower tail.
		if p, ok := uLowerTail(int(math.Floor(mn/2-d)), nx, ny); ok {
			return min(1, 2*p)
		}
		return min(1, 2*moremath.UDist{N1: nx, N2: ny}.CDF(mn/2-d))
	}
	// P(U ≤ μ−d), and P(U ≥ μ+d) = P(U' ≤ μ−d) where U' = NX·NY − U is the
	// U of x when the order of all values is reversed (and so is the tie
	// vector). Evaluating both as lower tails keeps small p-values precise.
	cut := int(math.Round(2 * (mn/2 - d))) // 2U is an integer
	rev := slices.Clone(ties)
	slices.Reverse(rev)
	return min(1, tiesLowerTail(cut, nx, ny, ties)+tiesLowerTail(cut, nx, ny, rev))
}

// uLowerTail returns P(U ≤ u) for the U statistic of samples of sizes nx
// and ny without ties, exactly, or false when C(nx+ny, nx) ≥ 2⁶³ (beyond
// 33 runs per side), where its counts would not fit in a uint64.
//
// The number of assignments with U = v is the coefficient of q^v in the
// Gaussian binomial [nx+ny choose m]_q = Π_{i=1..m} (1 − q^(M+i))/(1 − q^i),
// m = min(nx, ny), M = max(nx, ny). uLowerTail builds it up to degree u one
// factor at a time — multiplying by 1 − q^(M+i) and dividing by 1 − q^i are
// each one pass over the coefficients — in uint64 arithmetic: the
// intermediate coefficients may be negative or wrap around, but the ring
// operations are exact modulo 2⁶⁴ and every coefficient of the final
// polynomial (and their sum) lies in [0, C(nx+ny, nx)) ⊂ [0, 2⁶³), so the
// result is exact. Cost O(m·u) and one allocation, against the
// memoised recursion of go-moremath's UDist, which allocates megabytes for 20
// runs per side.
func uLowerTail(u, nx, ny int) (float64, bool) {
	total := binomial(nx+ny, nx)
	if !(total < 1<<63) {
		return 0, false
	}
	if u < 0 {
		return 0, true
	}
	m, big := min(nx, ny), max(nx, ny)
	u = min(u, nx*ny)
	c := make([]uint64, u+1)
	c[0] = 1
	for i := 1; i <= m; i++ {
		// × (1 − q^(big+i)): descending, so c[v−a] is still the old value.
		for v, a := u, big+i; v >= a; v-- {
			c[v] -= c[v-a]
		}
		// ÷ (1 − q^i) = × (1 + q^i + q^2i + …): ascending, so c[v−i]
		// already holds the new value.
		for v := i; v <= u; v++ {
			c[v] += c[v-i]
		}
	}
	var hits uint64
	for _, v := range c {
		hits += v
	}
	return float64(hits) / total, true
}

// tiesLowerTail returns P(2U ≤ cut) for the U of a sample of nx among nx+ny
// values with tie vector t, over all C(nx+ny, nx) equally likely assignments.
//
// go-moremath's UDist handles ties too (Cheung & Klotz's linked-list
// algorithm), but takes 30–80 ms for 20–25 runs per side, too slow for a
// verdict with hundreds of comparisons, and returns a positive probability
// below the smallest attainable U when there are only two distinct values.
// This is the plain counting recursion instead: walk the groups of equal
// values in increasing order; taking j of a group of size t into x, with k
// x-values and c values in all already placed, adds 2·j·(c−k) + j·(t−j) to
// 2U (each new x beats the c−k y-values below and ties the t−j in its
// group) in C(t, j) ways. Counts are exact in float64 up to C(50, 25) ≈
// 1.3e14 < 2⁵³. Cost: O(N · nx · cut).
func tiesLowerTail(cut, nx, ny int, t []int) float64 {
	if cut < 0 {
		return 0
	}
	w := cut + 1
	cnt := make([]float64, (nx+1)*w) // cnt[k*w + u2]
	cnt[0] = 1
	c := 0 // values placed so far
	for _, size := range t {
		kmax := min(nx, c+size)
		kmin := max(0, c+size-ny)
		// Descending k: the rows k−j read below still hold the old counts.
		for k := kmax; k >= kmin; k-- {
			row := cnt[k*w : (k+1)*w]
			if k > c { // j = 0 impossible: row k was unreachable before
				clear(row)
			}
			for j := 1; j <= min(size, k); j++ {
				from := k - j
				if from > c || c-from > ny {
					continue
				}
				add := 2*j*(c-from) + j*(size-j)
				if add > cut {
					continue
				}
				ways := binomial(size, j)
				src := cnt[from*w : from*w+w-add]
				dst := row[add:]
				for i, v := range src {
					if v != 0 {
						dst[i] += ways * v
					}
				}
			}
		}
		// Rows below kmin are now unreachable (too many y-values).
		for k := 0; k < kmin; k++ {
			clear(cnt[k*w : (k+1)*w])
		}
		c += size
	}
	var hits float64
	for _, v := range cnt[nx*w:] {
		hits += v
	}
	return hits / binomial(nx+ny, nx)
}

// binomial returns C(n, k) as a float64 (exact while it is below 2⁵³).
func binomial(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	k = min(k, n-k)
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return math.Round(r)
}

// normalTwoSided is the normal approximation with tie and continuity
// corrections; tieSum is Σ(t³ − t) over the groups of equal values.
func normalTwoSided(u float64, nx, ny int, tieSum float64) float64 {
	n := float64(nx + ny)
	mu := float64(nx) * float64(ny) / 2
	sigma := math.Sqrt(float64(nx) * float64(ny) / 12 * ((n + 1) - tieSum/(n*(n-1))))
	if !(sigma > 0) {
		return 1
	}
	d := math.Max(math.Abs(u-mu)-0.5, 0)
	return math.Min(1, math.Erfc(d/sigma/math.Sqrt2))
}

// MinPValue returns the smallest two-sided p-value the exact Mann–Whitney test
// can produce for samples of sizes nx and ny without ties: 2/C(nx+ny, nx),
// reached when the samples do not overlap at all (capped at 1). Ties only
// make the smallest attainable p larger. It returns 1 if a size is < 1.
func MinPValue(nx, ny int) float64 {
	if nx < 1 || ny < 1 {
		return 1
	}
	// 2/C(n, k) via log-gamma to stay finite for large sizes.
	lg := func(v int) float64 { r, _ := math.Lgamma(float64(v) + 1); return r }
	logC := lg(nx+ny) - lg(nx) - lg(ny)
	return math.Min(1, 2*math.Exp(-logC))
}

// MinSamplesForAlpha returns the smallest n such that, with n runs on each
// side, the exact two-sided Mann–Whitney p-value can be below alpha at all
// (MinPValue(n, n) < alpha). With fewer runs no difference, however large,
// can be significant. For alpha 0.05 it is 4 and for alpha 0.01 it is 5
// (2/C(10,5) ≈ 0.0079), which is the table benchstat prints. It returns 0
// if alpha is not in (0, 1].
func MinSamplesForAlpha(alpha float64) int {
	if !(alpha > 0 && alpha <= 1) {
		return 0
	}
	for n := 1; ; n++ {
		if MinPValue(n, n) < alpha {
			return n
		}
	}
}
