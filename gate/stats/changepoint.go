package stats

import (
	"math"
	"math/rand/v2"
	"slices"
)

// ChangePoint is a point in a series where its distribution changes.
type ChangePoint struct {
	// Index is the first index of the new segment.
	Index int
	// PValue is the permutation p-value of the split, tested within the
	// stretch between its neighbouring change points (see EDivisive).
	PValue float64
	// Before and After are the means of the segments either side of the
	// change (in the final segmentation).
	Before, After float64
	// Change is After/Before − 1.
	Change float64
}

// EDivisiveOptions configures EDivisive. The zero value uses the defaults.
type EDivisiveOptions struct {
	// Alpha is the significance level at which a split is accepted
	// (default 0.05, as Otava/Hunter and the MongoDB paper use).
	Alpha float64
	// Permutations is the number of random permutations per significance
	// test (default 100, so p-values are resolved to about 0.01).
	Permutations int
	// MinSize is the smallest number of points a segment may have
	// (default 4; values below 2 are raised to 2, since the statistic needs
	// two points per side).
	MinSize int
	// MaxChangePoints bounds the number of change points reported, and so
	// the work (default 32).
	MaxChangePoints int
	// Seed seeds the permutations (math/rand/v2 PCG).
	Seed uint64
}

func (o EDivisiveOptions) withDefaults() EDivisiveOptions {
	if !(o.Alpha > 0 && o.Alpha < 1) {
		o.Alpha = 0.05
	}
	if o.Permutations <= 0 {
		o.Permutations = 100
	}
	if o.MinSize <= 0 {
		o.MinSize = 4
	}
	if o.MinSize < 2 {
		o.MinSize = 2
	}
	if o.MaxChangePoints <= 0 {
		o.MaxChangePoints = 32
	}
	return o
}

// EDivisive finds the change points of series with E-divisive means
// (Matteson & James 2014, with exponent α = 1), the method Apache Otava
// (formerly Hunter) and MongoDB's "Change Point Detection in Software
// Performance Testing" (Daly et al., ICPE 2020) use on nightly benchmark
// histories.
//
// Each round takes every current segment [s, e) of at least 2·MinSize
// points and finds the split τ maximising the energy-distance statistic
//
//	q(τ) = m·n/(m+n) · (2/(m·n)·Σ|xᵢ−yⱼ| − Σ_{i<k}|xᵢ−xₖ|/C(m,2) − Σ_{j<k}|yⱼ−yₖ|/C(n,2)),
//
// with x the m points left of τ and y the n points right of it. The best
// split over all segments is tested by permutation: each segment is shuffled
// independently, the best statistic recomputed, and p = (1 + #{permuted ≥
// observed})/(1 + Permutations). The split is accepted if p < Alpha and the
// search continues; otherwise it stops. Permutations stop early once p cannot
// fall below Alpha.
//
// Binary segmentation alone splits two close steps at a compromise point and
// then adds a spurious point beside the real one, so, as Otava does, a final
// pass revisits each change point between its two neighbours: it moves to the
// best split of that stretch, is retested by permutation within it, and the
// least significant point is dropped until all remaining points have
// p < Alpha. PValue is that final, local p-value.
//
// A round costs O(Permutations·L²) for a series of L points; MaxChangePoints
// bounds the rounds. The result is sorted by Index and is deterministic for a
// seed.
// Series shorter than 2·MinSize have no change points. NaN values are not
// allowed (drop them first).
func EDivisive(series []float64, o EDivisiveOptions) []ChangePoint {
	o = o.withDefaults()
	if len(series) < 2*o.MinSize {
		return nil
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0xda942042e4dd58b5))
	bounds := []int{0, len(series)} // segment boundaries, sorted
	work := make([]float64, len(series))
	for len(bounds)-2 < o.MaxChangePoints {
		tau, q := bestSplit(series, bounds, o.MinSize)
		if tau < 0 {
			break
		}
		p := permutationP(rng, series, bounds, q, o, work)
		if !(p < o.Alpha) {
			break
		}
		i, _ := slices.BinarySearch(bounds, tau)
		bounds = slices.Insert(bounds, i, tau)
	}
	bounds, pvalues := refine(rng, series, bounds, o, work)
	var cps []ChangePoint
	for k := 1; k+1 < len(bounds); k++ {
		before := mean(series[bounds[k-1]:bounds[k]])
		after := mean(series[bounds[k]:bounds[k+1]])
		cps = append(cps, ChangePoint{
			Index:  bounds[k],
			PValue: pvalues[k-1],
			Before: before,
			After:  after,
			Change: after/before - 1,
		})
	}
	return cps
}

// permutationP returns the permutation p-value of the best split statistic q
// over the segments delimited by bounds: each segment is shuffled
// independently and the best split recomputed. It stops as soon as the
// p-value can no longer fall below o.Alpha.
func permutationP(rng *rand.Rand, series []float64, bounds []int, q float64, o EDivisiveOptions, work []float64) float64 {
	exceed := 0
	limit := o.Alpha * float64(o.Permutations+1) // p < Alpha ⇔ 1+exceed < limit
	for range o.Permutations {
		copy(work, series)
		for k := 0; k+1 < len(bounds); k++ {
			seg := work[bounds[k]:bounds[k+1]]
			rng.Shuffle(len(seg), func(i, j int) { seg[i], seg[j] = seg[j], seg[i] })
		}
		if _, qp := bestSplit(work, bounds, o.MinSize); qp >= q {
			exceed++
			if float64(1+exceed) >= limit {
				break
			}
		}
	}
	return float64(1+exceed) / float64(o.Permutations+1)
}

// refine revisits every change point between its two neighbours, as Otava
// does after the divisive pass: binary segmentation can split two close steps
// at a compromise point and then add a spurious third point next to the real
// one. Each point is moved to the best split of the segment between its
// neighbours and retested by permutation within that segment; the least
// significant point with p ≥ Alpha is dropped, and this repeats until every
// point is significant and in place. It returns the boundaries and the
// p-value of each interior boundary.
func refine(rng *rand.Rand, series []float64, bounds []int, o EDivisiveOptions, work []float64) ([]int, []float64) {
	for iter := 0; iter < 4*len(bounds)+8; iter++ {
		k := len(bounds) - 2
		taus := make([]int, k)
		ps := make([]float64, k)
		worst := -1
		for i := range k {
			s, e := bounds[i], bounds[i+2]
			tau, q := segmentSplit(series[s:e], o.MinSize)
			if tau < 0 {
				taus[i], ps[i] = bounds[i+1], 1
			} else {
				taus[i] = s + tau
				ps[i] = permutationP(rng, series[s:e], []int{0, e - s}, q, o, work[:e-s])
			}
			if !(ps[i] < o.Alpha) && (worst < 0 || ps[i] > ps[worst]) {
				worst = i
			}
		}
		if worst >= 0 {
			bounds = slices.Delete(bounds, worst+1, worst+2)
			continue
		}
		moved := false
		for i, tau := range taus {
			// Move only if the neighbours still leave MinSize either side.
			if tau != bounds[i+1] && tau-bounds[i] >= o.MinSize && bounds[i+2]-tau >= o.MinSize {
				bounds[i+1] = tau
				moved = true
			}
		}
		if !moved {
			return bounds, ps
		}
	}
	// Did not settle (points oscillating): report the last p-values.
	ps := make([]float64, len(bounds)-2)
	for i := range ps {
		s, e := bounds[i], bounds[i+2]
		ps[i] = 1
		if _, q := segmentSplit(series[s:e], o.MinSize); !math.IsInf(q, -1) {
			ps[i] = permutationP(rng, series[s:e], []int{0, e - s}, q, o, work[:e-s])
		}
	}
	return bounds, ps
}

// bestSplit returns the split index and statistic maximising q over all
// segments of x delimited by bounds, or −1 if no segment can be split.
func bestSplit(x []float64, bounds []int, minSize int) (tau int, q float64) {
	tau, q = -1, math.Inf(-1)
	for k := 0; k+1 < len(bounds); k++ {
		if t, v := segmentSplit(x[bounds[k]:bounds[k+1]], minSize); t >= 0 && v > q {
			tau, q = bounds[k]+t, v
		}
	}
	return tau, q
}

// segmentSplit returns the best split of seg (index of the first point of the
// right part) and its statistic, in O(len(seg)²) time and O(1) extra space.
func segmentSplit(seg []float64, minSize int) (int, float64) {
	n := len(seg)
	if n < 2*minSize {
		return -1, math.Inf(-1)
	}
	// total = Σ_{i<j}|seg_i − seg_j|; left(τ) = the same within seg[:τ];
	// right(τ) within seg[τ:]; between(τ) = total − left − right.
	var total float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			total += math.Abs(seg[i] - seg[j])
		}
	}
	var left float64
	right := total
	best, bestQ := -1, math.Inf(-1)
	for t := 1; t < n; t++ {
		// Move seg[t−1] from the right part to the left part.
		v := seg[t-1]
		var toLeft, toRight float64
		for i := 0; i < t-1; i++ {
			toLeft += math.Abs(seg[i] - v)
		}
		for j := t; j < n; j++ {
			toRight += math.Abs(seg[j] - v)
		}
		left += toLeft
		right -= toRight
		if t < minSize || n-t < minSize {
			continue
		}
		m, r := float64(t), float64(n-t)
		between := total - left - right
		e := 2*between/(m*r) - left/(m*(m-1)/2) - right/(r*(r-1)/2)
		if q := m * r / (m + r) * e; q > bestQ {
			best, bestQ = t, q
		}
	}
	return best, bestQ
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
