package dataset

import (
	"fmt"
	"math"
	"sort"
)

// Zipf is the popularity of n keys by Zipf's law: key k (0-based rank) is
// drawn with probability proportional to 1/(k+1)^s. s = 0 is uniform;
// s = 1 is the classic law, where the first key (the "celebrity") gets
// 1/H(n) of all accesses. Unlike math/rand/v2's Zipf it takes any s ≥ 0
// (that one needs s > 1). It is immutable and safe for concurrent use.
type Zipf struct {
	s   float64
	cdf []float64 // cdf[k] = P(rank ≤ k); cdf[n-1] = 1
}

// NewZipf returns the Zipf popularity of n ≥ 1 keys with exponent s ≥ 0.
func NewZipf(n int, s float64) (*Zipf, error) {
	if n < 1 || !(s >= 0) || math.IsInf(s, 0) {
		return nil, fmt.Errorf("dataset: Zipf needs n ≥ 1 keys and a finite exponent s ≥ 0 (got n = %d, s = %v)", n, s)
	}
	z := &Zipf{s: s, cdf: make([]float64, n)}
	var sum float64
	for k := range n {
		sum += math.Pow(float64(k+1), -s)
		z.cdf[k] = sum
	}
	for k := range z.cdf {
		z.cdf[k] /= sum
	}
	z.cdf[n-1] = 1
	return z, nil
}

// N is the number of keys; S the exponent.
func (z *Zipf) N() int { return len(z.cdf) }

// S is the exponent.
func (z *Zipf) S() float64 { return z.s }

// P is the probability of rank k.
func (z *Zipf) P(k int) float64 {
	if k < 0 || k >= len(z.cdf) {
		return 0
	}
	if k == 0 {
		return z.cdf[0]
	}
	return z.cdf[k] - z.cdf[k-1]
}

// Rank maps u, uniform in [0, 1), to a rank: the smallest k with
// P(rank ≤ k) > u.
func (z *Zipf) Rank(u float64) int {
	k := sort.Search(len(z.cdf), func(i int) bool { return z.cdf[i] > u })
	return min(k, len(z.cdf)-1)
}
