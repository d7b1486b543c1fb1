package stats

import (
	"math"
	"slices"
)

// BenjaminiHochberg returns the Benjamini–Hochberg adjusted p-values of p, in
// the same order: for the i-th smallest of m p-values, min over j ≥ i of
// m·p_(j)/j, capped at 1. Rejecting every hypothesis whose adjusted p-value is
// below alpha controls the false discovery rate at alpha (for independent or
// positively dependent tests). This is how one verdict over many scenarios and
// metrics keeps its false alarms rare.
//
// NaN entries (comparisons that produced no test) stay NaN and do not count
// towards m. p is not modified.
func BenjaminiHochberg(p []float64) []float64 {
	adj := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		if math.IsNaN(v) {
			adj[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	m := float64(len(idx))
	running := 1.0
	for r := len(idx) - 1; r >= 0; r-- {
		i := idx[r]
		v := math.Min(running, m*p[i]/float64(r+1))
		running = v
		adj[i] = math.Max(v, 0)
	}
	return adj
}
