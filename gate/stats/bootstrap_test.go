package stats

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	moremath "github.com/aclements/go-moremath/stats"
)

// TestMedianTableBruteForce checks the law of the resampled median's
// indices against enumerating all nⁿ resamples of n indices.
func TestMedianTableBruteForce(t *testing.T) {
	for n := 1; n <= 7; n++ {
		want := map[[2]int32]float64{}
		idx := make([]int, n)
		draw := make([]int, n)
		total := int(math.Pow(float64(n), float64(n)))
		for range total {
			copy(draw, idx)
			slices.Sort(draw)
			want[[2]int32{int32(draw[(n-1)/2]), int32(draw[n/2])}] += 1 / float64(total)
			for i := range idx { // next tuple, odometer order
				idx[i]++
				if idx[i] < n {
					break
				}
				idx[i] = 0
			}
		}
		tb := newMedianTable(n)
		got := map[[2]int32]float64{}
		for o := range tb.p {
			got[[2]int32{tb.lo[o], tb.hi[o]}] += tb.p[o]
		}
		for k, w := range want {
			if math.Abs(got[k]-w) > 1e-12 {
				t.Errorf("n=%d: P(indices %v) = %.15g; enumeration gives %.15g", n, k, got[k], w)
			}
		}
		for k, g := range got {
			if _, ok := want[k]; !ok && g > 1e-15 {
				t.Errorf("n=%d: outcome %v has probability %g but never occurs", n, k, g)
			}
		}
	}
}

// aliasLaw returns the exact law the alias table draws from: outcome o is
// drawn when its own column keeps it or another column falls through to it.
func aliasLaw(tb *medianTable) []float64 {
	k := float64(len(tb.cut))
	law := make([]float64, len(tb.cut))
	for c := range tb.cut {
		keep := float64(tb.cut[c]) / 0x1p64
		if tb.alias[c] == int32(c) {
			keep = 1
		}
		law[c] += keep / k
		law[tb.alias[c]] += (1 - keep) / k
	}
	return law
}

// TestMedianTableLaw checks, for every size with a table, that the
// probabilities form a law, that the median index's distribution function
// is the binomial tail (summed here term by term with math.Lgamma), and
// that the alias table draws exactly that law.
func TestMedianTableLaw(t *testing.T) {
	binomTail := func(n int, p float64, k int) float64 { // P(Bin(n, p) ≥ k)
		if p >= 1 {
			return 1
		}
		s := 0.0
		for j := k; j <= n; j++ {
			s += math.Exp(lchoose(n, j) + float64(j)*math.Log(p) + float64(n-j)*math.Log1p(-p))
		}
		return s
	}
	for n := 1; n <= medianTableMax; n++ {
		tb := newMedianTable(n)
		if want := map[bool]int{true: n, false: n * (n + 1) / 2}[n%2 == 1]; len(tb.p) != want {
			t.Fatalf("n=%d: %d outcomes; want %d", n, len(tb.p), want)
		}
		sum := 0.0
		cdf := make([]float64, n) // P(I ≤ i)
		for o, p := range tb.p {
			if p < 0 || tb.lo[o] > tb.hi[o] {
				t.Fatalf("n=%d: outcome %d (%d, %d) has probability %v", n, o, tb.lo[o], tb.hi[o], p)
			}
			sum += p
			cdf[tb.lo[o]] += p
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("n=%d: probabilities sum to %v", n, sum)
		}
		acc := 0.0
		for i := range n {
			acc += cdf[i]
			if want := binomTail(n, float64(i+1)/float64(n), (n-1)/2+1); math.Abs(acc-want) > 1e-12 {
				t.Errorf("n=%d: P(I ≤ %d) = %.15g; binomial tail %.15g", n, i, acc, want)
			}
		}
		for o, q := range aliasLaw(tb) {
			if math.Abs(q-tb.p[o]) > 1e-12 {
				t.Errorf("n=%d: the alias table draws outcome %d with probability %.15g; want %.15g", n, o, q, tb.p[o])
			}
		}
	}
}

// TestMedianTableVersusResampling compares, for 20 and 21 values, the
// table's law with the medians of literal resamples (n indices drawn and
// counted, resampledMedian) by a chi-square test: the two ways of drawing a
// bootstrap median must agree in distribution.
func TestMedianTableVersusResampling(t *testing.T) {
	const draws = 200000
	for _, n := range []int{20, 21} {
		tb := newMedianTable(n)
		outcome := map[[2]int32]int{}
		for o := range tb.p {
			outcome[[2]int32{tb.lo[o], tb.hi[o]}] = o
		}
		// Distinct values 2^i: the median identifies its indices.
		sorted := make([]float64, n)
		for i := range sorted {
			sorted[i] = math.Ldexp(1, i)
		}
		byValue := map[float64]int{}
		for o := range tb.p {
			v := sorted[tb.lo[o]]
			if tb.lo[o] != tb.hi[o] {
				v = sorted[tb.lo[o]]/2 + sorted[tb.hi[o]]/2
			}
			byValue[v] = o
		}
		counts := make([]float64, len(tb.p))
		rng := &splitMix{state: uint64(n)}
		count := make([]int32, n)
		for range draws {
			o, ok := byValue[resampledMedian(rng, sorted, count)]
			if !ok {
				t.Fatalf("n=%d: a resampled median is no outcome of the table", n)
			}
			counts[o]++
		}
		// Pool the least likely outcomes into one cell until it expects at
		// least 5 draws (and so does every other cell).
		order := make([]int, len(tb.p))
		for o := range order {
			order[o] = o
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(tb.p[a], tb.p[b]) })
		var chi2, pooledObs, pooledExp float64
		df := -1
		for _, o := range order {
			e := tb.p[o] * draws
			if pooledExp < 5 || e < 5 {
				pooledObs += counts[o]
				pooledExp += e
				continue
			}
			chi2 += (counts[o] - e) * (counts[o] - e) / e
			df++
		}
		chi2 += (pooledObs - pooledExp) * (pooledObs - pooledExp) / pooledExp
		df++
		// The 99.99th percentile of chi-square(df) is below
		// df + 6·sqrt(2·df) for df ≥ 10.
		limit := float64(df) + 6*math.Sqrt(2*float64(df))
		t.Logf("n=%d: chi-square %.1f on %d df (limit %.1f)", n, chi2, df, limit)
		if chi2 > limit {
			t.Errorf("n=%d: chi-square %.1f on %d df exceeds %.1f: table and resampling disagree", n, chi2, df, limit)
		}
	}
}

// exactMedianLaw returns, for an odd n, P(median of a resample = x_(j)) for
// j = 0 … n−1: P(median ≤ x_(j)) = P(Binomial(n, (j+1)/n) ≥ (n+1)/2),
// computed with exact binomial coefficients.
func exactMedianLaw(n int) []float64 {
	choose := func(n, k int) float64 {
		r := 1.0
		for i := 1; i <= k; i++ {
			r = r * float64(n-k+i) / float64(i)
		}
		return math.Round(r)
	}
	tail := func(p float64) float64 {
		s := 0.0
		for k := (n + 1) / 2; k <= n; k++ {
			s += choose(n, k) * math.Pow(p, float64(k)) * math.Pow(1-p, float64(n-k))
		}
		return s
	}
	law := make([]float64, n)
	for j := range n {
		law[j] = tail(float64(j+1)/float64(n)) - tail(float64(j)/float64(n))
	}
	return law
}

// TestRatioCIExact checks the bootstrap interval of the ratio of medians
// against the exact bootstrap distribution, for odd n where it is known in
// closed form: the medians of the two resamples are independent, each at
// x_(j) with the probability of exactMedianLaw, so the ratio's law is
// supported by the n×n pairs and the exact percentile interval is its
// (1±confidence)/2 quantiles.
//
// With R resamples the estimated p-quantile q̂ is an order statistic of R
// draws, so the true probability F(q̂) below it is p to within the binomial
// standard error √(p(1−p)/R) (plus the width of the atom at q̂: the law is
// discrete, so the check is F(q̂⁻) ≤ p + tol and F(q̂) ≥ p − tol). tol is
// 4.5 standard errors: a correct bootstrap fails one of the checks below
// with probability about 10⁻⁴, while drawing the medians from a wrong law
// (for example the median index uniform, or an even-n law) shifts F(q̂) by
// far more at R = 20000 (σ = 0.0005 for p = 0.005).
func TestRatioCIExact(t *testing.T) {
	for _, n := range []int{5, 9, 15} {
		rng := rand.New(rand.NewPCG(11, uint64(n)))
		base := lognormalSample(rng, n, 100, 0.05)
		head := lognormalSample(rng, n, 104, 0.05)
		law := exactMedianLaw(n)
		sb, sh := slices.Sorted(slices.Values(base)), slices.Sorted(slices.Values(head))
		type atom struct{ v, p float64 }
		var atoms []atom
		for i := range n {
			for j := range n {
				atoms = append(atoms, atom{sh[j]/sb[i] - 1, law[i] * law[j]})
			}
		}
		// F(x) = P(ratio ≤ x), F⁻(x) = P(ratio < x).
		cdf := func(x float64, strict bool) float64 {
			s := 0.0
			for _, a := range atoms {
				if a.v < x || !strict && a.v == x {
					s += a.p
				}
			}
			return s
		}
		var b MedianBootstrap
		for _, conf := range []float64{0.99, 0.90} {
			for _, resamples := range []int{1000, 20000} {
				for seed := range uint64(10) {
					lo, hi := b.RatioCI(base, head, conf, resamples, seed)
					for _, q := range []struct {
						p, v float64
					}{{(1 - conf) / 2, lo}, {(1 + conf) / 2, hi}} {
						tol := 4.5 * math.Sqrt(q.p*(1-q.p)/float64(resamples))
						below, atOrBelow := cdf(q.v, true), cdf(q.v, false)
						if below > q.p+tol || atOrBelow < q.p-tol {
							t.Errorf("n=%d conf=%v R=%d seed=%d: the %.3f quantile %v has exact P(<) = %.4f, P(≤) = %.4f; want %.3f ± %.4f",
								n, conf, resamples, seed, q.p, q.v, below, atOrBelow, q.p, tol)
						}
					}
				}
			}
		}
	}
}

// TestMedianBootstrapReuse checks that a reused MedianBootstrap gives the
// package functions' results whatever it computed before, and that it does
// not allocate once warm.
func TestMedianBootstrapReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	var b MedianBootstrap
	for trial := range 60 {
		nb, nh := 1+rng.IntN(40), 1+rng.IntN(40)
		if trial%10 == 0 {
			nb, nh = medianTableMax+1+rng.IntN(50), 3 // the index-drawing path
		}
		base := lognormalSample(rng, nb, 100, 0.05)
		head := lognormalSample(rng, nh, 100, 0.05)
		seed := rng.Uint64()
		for _, c := range []struct {
			name      string
			got, want func() (float64, float64)
		}{
			{"RatioCI", func() (float64, float64) { return b.RatioCI(base, head, 0.95, 500, seed) },
				func() (float64, float64) { return new(MedianBootstrap).RatioCI(base, head, 0.95, 500, seed) }},
			{"DiffCI", func() (float64, float64) { return b.DiffCI(base, head, 0.99, 300, seed) },
				func() (float64, float64) { return new(MedianBootstrap).DiffCI(base, head, 0.99, 300, seed) }},
			{"MedianCI", func() (float64, float64) { return b.MedianCI(base, 0.8, 200, seed) },
				func() (float64, float64) { return new(MedianBootstrap).MedianCI(base, 0.8, 200, seed) }},
		} {
			l1, h1 := c.got()
			l2, h2 := c.want()
			if l1 != l2 || h1 != h2 || !(l1 <= h1) {
				t.Errorf("trial %d (%d, %d): reused %s = [%v, %v]; fresh [%v, %v]", trial, nb, nh, c.name, l1, h1, l2, h2)
			}
		}
	}
	x := lognormalSample(rng, 20, 100, 0.05)
	y := lognormalSample(rng, 20, 103, 0.05)
	if a := testing.AllocsPerRun(20, func() { b.RatioCI(x, y, 0.99, 1000, 1) }); a != 0 {
		t.Errorf("a warm MedianBootstrap.RatioCI allocates %v times per call; want 0", a)
	}
}

// TestDiffCI checks the difference interval on error-rate-like data full
// of ties and zeros, where a ratio would be undefined.
func TestDiffCI(t *testing.T) {
	base := []float64{0, 0, 0, 0.01, 0, 0, 0.02, 0, 0, 0}
	head := []float64{0.1, 0.12, 0.09, 0.11, 0.1, 0.1, 0.13, 0.08, 0.1, 0.11}
	lo, hi := new(MedianBootstrap).DiffCI(base, head, 0.99, 2000, 3)
	if !(0.08 <= lo && lo <= 0.1 && 0.1 <= hi && hi <= 0.12) {
		t.Errorf("DiffCI = [%v, %v]; want within [0.08, 0.12] around 0.1", lo, hi)
	}
	if lo, hi := new(MedianBootstrap).DiffCI(base, nil, 0.99, 10, 1); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Error("empty head: want NaN, NaN")
	}
}

// TestPercentileInterval checks the one-pass tail quantiles against
// sorting, with and without ties, on both sides of the tailMax switch.
func TestPercentileInterval(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	for _, n := range []int{1, 2, 5, 64, 65, 100, 999, 1000, 2000, 6400, 20000} {
		for _, conf := range []float64{0.5, 0.9, 0.95, 0.99, 0.999} {
			for _, ties := range []bool{false, true} {
				s := tiedSample(rng, n, ties, 7)
				sorted := slices.Sorted(slices.Values(s))
				tail := (1 - conf) / 2
				wl, wh := quantileSorted(sorted, tail), quantileSorted(sorted, 1-tail)
				if gl, gh := percentileInterval(s, conf); gl != wl || gh != wh {
					t.Errorf("n=%d conf=%v ties=%v: [%v, %v]; sorting gives [%v, %v]", n, conf, ties, gl, gh, wl, wh)
				}
			}
		}
	}
}

// TestULowerTail checks the Gaussian-binomial tail of U without ties
// against go-moremath's UDist (an independent recursion) at every u, and
// that it declines sizes whose counts would overflow.
func TestULowerTail(t *testing.T) {
	sizes := [][2]int{{1, 1}, {1, 7}, {2, 3}, {3, 2}, {5, 5}, {4, 9}, {10, 10}, {7, 15}, {12, 11}, {20, 20}}
	if !testing.Short() {
		sizes = append(sizes, [2]int{25, 24}, [2]int{33, 33})
	}
	for _, sz := range sizes {
		nx, ny := sz[0], sz[1]
		d := moremath.UDist{N1: nx, N2: ny}
		for u := -1; u <= nx*ny+1; u++ {
			if u > 60 && u < nx*ny/2-10 && u%7 != 0 {
				continue // keep the reference's cost down
			}
			got, ok := uLowerTail(u, nx, ny)
			if !ok {
				t.Fatalf("%d×%d: declined", nx, ny)
			}
			want := d.CDF(float64(u))
			if math.Abs(got-want) > 1e-12*max(want, 1e-300) && math.Abs(got-want) > 1e-15 {
				t.Errorf("%d×%d: P(U ≤ %d) = %.17g; UDist gives %.17g", nx, ny, u, got, want)
			}
		}
	}
	if _, ok := uLowerTail(10, 34, 33); ok {
		t.Error("34×33 (C(67, 33) > 2⁶³): want declined")
	}
}

func ExampleMedianBootstrap() {
	base := []float64{100, 102, 99, 101, 98, 103, 100, 97, 101, 100}
	head := []float64{110, 108, 112, 109, 111, 107, 110, 113, 109, 110}
	var b MedianBootstrap // reuse across comparisons: no allocations
	lo, hi := b.RatioCI(base, head, 0.99, 1000, 42)
	fmt.Printf("median change +%.1f%%, 99%% CI %+.1f%% … %+.1f%%\n", (110.0/100-1)*100, lo*100, hi*100)
	// Output: median change +10.0%, 99% CI +7.4% … +12.2%
}

func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
