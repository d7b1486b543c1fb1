package stats

import (
	"math"
	"math/bits"
	"slices"
)

// MedianBootstrap computes seeded percentile-bootstrap confidence intervals
// of medians: RatioCI for a relative change, DiffCI for an absolute one and
// MedianCI for one sample.
//
// A bootstrap resample of n values drawn with replacement from a sample
// sorted as s₀ ≤ … ≤ s₍ₙ₋₁₎ takes its median from the drawn indices alone:
// with k = ⌊(n−1)/2⌋ it is s_I for odd n, and (s_I + s_J)/2 for even n,
// where I ≤ J are the k-th and (k+1)-th smallest of n uniform indices. The
// law of I (and of the pair I, J) depends on n only and is known exactly —
// P(I ≤ i) = P(Binomial(n, (i+1)/n) ≥ k+1) — so MedianBootstrap draws the
// resampled median's index straight from that law, one 64-bit random number
// per resample (Walker's alias method), instead of drawing n values and
// selecting their middle. Each resampled median has exactly the distribution
// it would have had by drawing the n values, so the interval is the same
// percentile bootstrap with the same Monte Carlo error, at a cost
// independent of n once the tables are built (gate/README.md has the
// measured cost). Samples of more than medianTableMax values, where the tables grow large,
// draw the n indices instead (O(n) per resample, no sort).
//
// The zero value is ready to use. A MedianBootstrap keeps its scratch space
// and the tables of the sample sizes it last saw between calls, so a caller
// making many intervals should reuse one (one per goroutine: it is not safe
// for concurrent use); the results do not depend on what it computed before.
type MedianBootstrap struct {
	sorted [2][]float64 // sorted copies of the samples
	side   [2]medianDraw
	stats  []float64 // the resampled statistics
	tables []*medianTable
}

// medianDraw draws resampled medians of one sorted sample.
type medianDraw struct {
	t      *medianTable // nil: draw the n indices (large n)
	values []float64    // values[o] is the median of outcome o of t
	sorted []float64
	count  []int32 // scratch for the index-drawing path
}

func (d *medianDraw) init(b *MedianBootstrap, sorted []float64) {
	n := len(sorted)
	d.sorted = sorted
	if n > medianTableMax {
		d.t = nil
		d.count = grow(d.count, n)
		return
	}
	d.t = b.table(n)
	d.values = grow(d.values, len(d.t.lo))
	for o := range d.values {
		i, j := d.t.lo[o], d.t.hi[o]
		if i == j {
			d.values[o] = sorted[i]
		} else {
			d.values[o] = sorted[i]/2 + sorted[j]/2
		}
	}
}

// draw returns one resampled median.
func (d *medianDraw) draw(rng *splitMix) float64 {
	if d.t == nil {
		return resampledMedian(rng, d.sorted, d.count)
	}
	return d.values[d.t.draw(rng.next())]
}

// RatioCI returns a percentile-bootstrap confidence interval for the
// relative change of the median, median(head)/median(base) − 1, at the
// given confidence (for example 0.99).
//
// Each of resamples rounds draws base and head independently with
// replacement (the runs of the two sides are independent), and lo and hi are
// the (1−confidence)/2 and (1+confidence)/2 quantiles of the resampled
// ratios (linear interpolation between order statistics). resamples ≤ 0
// means 2000. The generator is SplitMix64 seeded with seed, so the same
// inputs and seed always give the same interval. It does not allocate once
// b's scratch space has grown.
//
// With few runs per side its coverage is only approximately nominal (the
// bootstrap median takes few distinct values; gate/README.md has the
// coverage measured by simulation), which is why the gate pairs it with the
// Mann–Whitney test instead of trusting it alone.
//
// It returns NaN, NaN if a side is empty or confidence is not in (0, 1). A
// resampled base median of 0 yields ±Inf ratios, which sort to the ends.
func (b *MedianBootstrap) RatioCI(base, head []float64, confidence float64, resamples int, seed uint64) (lo, hi float64) {
	return b.twoSample(base, head, confidence, resamples, seed, true)
}

// DiffCI returns the percentile-bootstrap interval of
// median(head) − median(base) at the given confidence, drawn like RatioCI:
// the interval for metrics compared in absolute terms (an error rate, where
// a ratio would divide by zero). The same inputs and seed give the same
// interval; NaN, NaN if a side is empty or confidence is not in (0, 1).
func (b *MedianBootstrap) DiffCI(base, head []float64, confidence float64, resamples int, seed uint64) (lo, hi float64) {
	return b.twoSample(base, head, confidence, resamples, seed, false)
}

func (b *MedianBootstrap) twoSample(base, head []float64, confidence float64, resamples int, seed uint64, ratio bool) (lo, hi float64) {
	if len(base) == 0 || len(head) == 0 || !(confidence > 0 && confidence < 1) {
		return math.NaN(), math.NaN()
	}
	if resamples <= 0 {
		resamples = 2000
	}
	sb, sh := b.sortInto(0, base), b.sortInto(1, head)
	db, dh := &b.side[0], &b.side[1]
	db.init(b, sb)
	dh.init(b, sh)
	b.stats = grow(b.stats, resamples)
	st := b.stats
	rng := &splitMix{state: seed}
	if db.t != nil && dh.t != nil {
		// The common case, inlined: two table lookups per resample.
		tb, th, vb, vh := db.t, dh.t, db.values, dh.values
		if ratio {
			for r := range st {
				mb := vb[tb.draw(rng.next())]
				st[r] = vh[th.draw(rng.next())]/mb - 1
			}
		} else {
			for r := range st {
				mb := vb[tb.draw(rng.next())]
				st[r] = vh[th.draw(rng.next())] - mb
			}
		}
	} else {
		for r := range st {
			mb := db.draw(rng)
			mh := dh.draw(rng)
			if ratio {
				st[r] = mh/mb - 1
			} else {
				st[r] = mh - mb
			}
		}
	}
	return percentileInterval(st, confidence)
}

// MedianCI returns a percentile-bootstrap confidence interval for the median
// of d (one value per pair) at the given confidence: each of resamples
// rounds draws len(d) values of d with replacement — whole pairs, so the
// pairing is kept — and lo and hi are the (1−confidence)/2 and
// (1+confidence)/2 quantiles of the resampled medians, drawn as RatioCI
// draws them. resamples ≤ 0 means 2000. NaN, NaN for an empty d or
// confidence outside (0, 1).
func (b *MedianBootstrap) MedianCI(d []float64, confidence float64, resamples int, seed uint64) (lo, hi float64) {
	if len(d) == 0 || !(confidence > 0 && confidence < 1) {
		return math.NaN(), math.NaN()
	}
	if resamples <= 0 {
		resamples = 2000
	}
	s := b.sortInto(0, d)
	dd := &b.side[0]
	dd.init(b, s)
	b.stats = grow(b.stats, resamples)
	rng := &splitMix{state: seed}
	for r := range b.stats {
		b.stats[r] = dd.draw(rng)
	}
	return percentileInterval(b.stats, confidence)
}

// percentileInterval returns the (1−confidence)/2 and (1+confidence)/2
// quantiles of s (type 7, as quantileSorted), reordering s.
func percentileInterval(s []float64, confidence float64) (lo, hi float64) {
	tail := (1 - confidence) / 2
	n := len(s)
	// The order statistics each quantile interpolates between.
	il := int(math.Floor(tail * float64(n-1)))
	ih := int(math.Floor((1 - tail) * float64(n-1)))
	if il+2 <= tailMax && n-ih <= tailMax && n > 2*tailMax {
		var low, high [tailMax]float64
		nl, nh := min(il+2, n), n-ih
		smallest(s, low[:nl])
		largest(s, high[:nh])
		return quantileTails(low[:nl], high[:nh], n, tail), quantileTails(low[:nl], high[:nh], n, 1-tail)
	}
	lo = quantileSelect(s, tail)
	hi = quantileSelect(s, 1-tail)
	return lo, hi
}

// tailMax bounds the order statistics percentileInterval finds by keeping
// the extremes in a small sorted buffer, one pass over s; beyond it (wide
// tails: a low confidence or very many resamples) it selects.
const tailMax = 32

// smallest fills buf with the len(buf) smallest values of s in increasing
// order (len(s) ≥ len(buf)). Once buf is full almost every value fails the
// first comparison, so this is one well-predicted pass.
func smallest(s, buf []float64) {
	m := len(buf)
	copy(buf, s[:m])
	insertionSort(buf)
	last := buf[m-1]
	for _, v := range s[m:] {
		if v < last {
			i := m - 1
			for i > 0 && buf[i-1] > v {
				buf[i] = buf[i-1]
				i--
			}
			buf[i] = v
			last = buf[m-1]
		}
	}
}

// largest fills buf with the len(buf) largest values of s in decreasing
// order.
func largest(s, buf []float64) {
	m := len(buf)
	copy(buf, s[:m])
	insertionSort(buf)
	for i, j := 0, m-1; i < j; i, j = i+1, j-1 {
		buf[i], buf[j] = buf[j], buf[i]
	}
	last := buf[m-1]
	for _, v := range s[m:] {
		if v > last {
			i := m - 1
			for i > 0 && buf[i-1] < v {
				buf[i] = buf[i-1]
				i--
			}
			buf[i] = v
			last = buf[m-1]
		}
	}
}

func insertionSort(s []float64) {
	for i := 1; i < len(s); i++ {
		v := s[i]
		j := i
		for j > 0 && s[j-1] > v {
			s[j] = s[j-1]
			j--
		}
		s[j] = v
	}
}

// quantileTails is quantileSorted for a sample of n values of which only
// the smallest (increasing) and largest (decreasing) few are known; p must
// interpolate between known order statistics.
func quantileTails(low, high []float64, n int, p float64) float64 {
	at := func(i int) float64 {
		if i < len(low) {
			return low[i]
		}
		return high[n-1-i]
	}
	h := p * float64(n-1)
	i := int(math.Floor(h))
	if i >= n-1 {
		return at(n - 1)
	}
	f := h - float64(i)
	if f == 0 {
		return at(i)
	}
	return at(i) + f*(at(i+1)-at(i))
}

func (b *MedianBootstrap) sortInto(i int, x []float64) []float64 {
	b.sorted[i] = append(b.sorted[i][:0], x...)
	slices.Sort(b.sorted[i])
	return b.sorted[i]
}

// table returns the median-index table for samples of n values, building it
// the first time (a bootstrap keeps the tables of the last few sizes).
func (b *MedianBootstrap) table(n int) *medianTable {
	for _, t := range b.tables {
		if t.n == n {
			return t
		}
	}
	t := newMedianTable(n)
	if len(b.tables) == 4 {
		copy(b.tables, b.tables[1:])
		b.tables = b.tables[:3]
	}
	b.tables = append(b.tables, t)
	return t
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// medianTableMax is the largest sample size whose resampled median is
// drawn from a table of its exact law; an even n has n(n+1)/2 outcomes.
const medianTableMax = 128

// medianTable is the law of the median of a bootstrap resample of n values,
// as the order statistics (lo[o], hi[o]) of the drawn indices that make it,
// with an alias table to draw an outcome o from one random number.
type medianTable struct {
	n      int
	lo, hi []int32
	p      []float64 // the outcome probabilities (kept for tests)
	cut    []uint64
	alias  []int32
}

// draw returns an outcome for the uniform random number x: the top bits of
// x·K pick a column, the rest (uniform in [0, 2⁶⁴) to within K/2⁶⁴) decide
// between the column and its alias.
func (t *medianTable) draw(x uint64) int {
	col, frac := bits.Mul64(x, uint64(len(t.cut)))
	if frac < t.cut[col] {
		return int(col)
	}
	return int(t.alias[col])
}

// newMedianTable builds the law of the resampled median's indices for n
// values. With k = ⌊(n−1)/2⌋ and I the k-th smallest (0-based) of n
// independent uniform indices in [0, n),
//
//	P(I ≤ i) = P(Binomial(n, (i+1)/n) ≥ k+1).
//
// For odd n the outcomes are I = 0 … n−1. For even n they are the pairs
// (I, J), J the (k+1)-th smallest: for i < j, exactly k+1 draws are ≤ i with
// at least one equal to i, and the other n/2 are ≥ j with at least one equal
// to j, so
//
//	P(I=i, J=j) = C(n, k+1)·[((i+1)/n)^(k+1) − (i/n)^(k+1)]·[((n−j)/n)^(n/2) − ((n−j−1)/n)^(n/2)],
//
// and P(I=J=i) = P(I=i) − Σ_{j>i} P(I=i, J=j).
func newMedianTable(n int) *medianTable {
	k := (n - 1) / 2
	size := n
	if n%2 == 0 {
		size = n * (n + 1) / 2
	}
	t := &medianTable{n: n, lo: make([]int32, 0, size), hi: make([]int32, 0, size), p: make([]float64, 0, size)}
	// marg[i] = P(I = i), from differences of the binomial tails.
	marg := make([]float64, n)
	prev := 0.0
	for i := range n {
		cdf := binomialUpperTail(n, float64(i+1)/float64(n), k+1)
		if i == n-1 {
			cdf = 1
		}
		marg[i] = max(cdf-prev, 0)
		prev = cdf
	}
	if n%2 == 1 {
		for i := range n {
			t.lo = append(t.lo, int32(i))
			t.hi = append(t.hi, int32(i))
			t.p = append(t.p, marg[i])
		}
	} else {
		m := n / 2
		fn := float64(n)
		coef := binomial(n, k+1)
		a := make([]float64, n) // P(k+1 draws ≤ i, one = i) / C(n, k+1)
		c := make([]float64, n) // P(n/2 draws ≥ j, one = j)
		for i := range n {
			a[i] = math.Pow(float64(i+1)/fn, float64(k+1)) - math.Pow(float64(i)/fn, float64(k+1))
			c[i] = math.Pow(float64(n-i)/fn, float64(m)) - math.Pow(float64(n-i-1)/fn, float64(m))
		}
		for i := range n {
			rest := marg[i]
			start := len(t.p)
			t.lo = append(t.lo, int32(i))
			t.hi = append(t.hi, int32(i))
			t.p = append(t.p, 0)
			for j := i + 1; j < n; j++ {
				pij := coef * a[i] * c[j]
				t.lo = append(t.lo, int32(i))
				t.hi = append(t.hi, int32(j))
				t.p = append(t.p, pij)
				rest -= pij
			}
			t.p[start] = max(rest, 0)
		}
	}
	t.cut, t.alias = aliasTable(t.p)
	return t
}

// binomialUpperTail returns P(Binomial(n, p) ≥ k), summing the
// probabilities from the mode outwards by their ratio recurrence (no
// logarithms: the tables are built per sample size on the hot path).
func binomialUpperTail(n int, p float64, k int) float64 {
	if p >= 1 {
		return 1
	}
	if p <= 0 {
		return 0
	}
	q := 1 - p
	// pmf(0) = qⁿ can underflow only for n far above medianTableMax.
	f := math.Pow(q, float64(n))
	r := p / q
	var s float64
	for j := 0; j <= n; j++ {
		if j >= k {
			s += f
		}
		f *= float64(n-j) / float64(j+1) * r
	}
	return min(s, 1)
}

// aliasTable builds Walker's alias table for the probabilities p (Vose's
// stable construction): column i keeps outcome i with probability
// cut[i]/2⁶⁴ and otherwise yields alias[i].
func aliasTable(p []float64) (cut []uint64, alias []int32) {
	k := len(p)
	var sum float64
	for _, v := range p {
		sum += v
	}
	scaled := make([]float64, k)
	// One work array holds both stacks: small grows up from 0, large down
	// from k; together they never hold more than k columns.
	work := make([]int32, k)
	ns, nl := 0, k // small is work[:ns], large is work[nl:]
	for i, v := range p {
		scaled[i] = v / sum * float64(k)
		if scaled[i] < 1 {
			work[ns] = int32(i)
			ns++
		} else {
			nl--
			work[nl] = int32(i)
		}
	}
	cut = make([]uint64, k)
	alias = make([]int32, k)
	for ns > 0 && nl < k {
		ns--
		s := work[ns]
		l := work[nl]
		cut[s] = toFrac64(scaled[s])
		alias[s] = l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			nl++
			work[ns] = l
			ns++
		}
	}
	// What is left is (up to rounding) exactly 1: keep it always.
	for _, i := range append(work[:ns:ns], work[nl:]...) {
		cut[i] = math.MaxUint64
		alias[i] = i
	}
	return cut, alias
}

// toFrac64 returns f·2⁶⁴ for f in [0, 1), saturating.
func toFrac64(f float64) uint64 {
	if !(f > 0) {
		return 0
	}
	if f >= 1 {
		return math.MaxUint64
	}
	return uint64(f * 0x1p64)
}
