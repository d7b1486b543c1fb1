package stats

import (
	"math"
	"testing"
)

// Reference values: counted by hand from the 2¹⁰ equally likely sign
// patterns (and R's wilcox.test(x, exact = TRUE) agrees).
func TestSignedRank(t *testing.T) {
	tests := []struct {
		name string
		d    []float64
		want float64
	}{
		// All 10 positive: only the all-plus and all-minus patterns are as extreme.
		{"all positive", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 2.0 / 1024},
		// One negative, rank 4: W− ≤ 4 for {}, {1}, {2}, {3}, {4}, {1,2}, {1,3}: 7 patterns, each tail.
		{"one negative", []float64{1, 2, 3, -4, 5, 6, 7, 8, 9, 10}, 14.0 / 1024},
		// Zeros are dropped: the same as three positives, p = 2/8.
		{"zeros dropped", []float64{0, 0.5, 0, 0.7, 0.9}, 2.0 / 8},
		// Symmetric: the centre, p = 1.
		{"balanced", []float64{-1, 1, -2, 2}, 1},
		// Ties: |d| = 1, 1, 2 → mid-ranks 1.5, 1.5, 3; W+ = 1.5 + 3 = 4.5, centre 3.
		// The 8 patterns give W+ = 0, 1.5, 1.5, 3, 3, 4.5, 4.5, 6: six are ≥ 1.5 from 3.
		{"ties", []float64{1, -1, 2}, 6.0 / 8},
	}
	for _, tt := range tests {
		got, err := SignedRank(tt.d)
		if err != nil || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: SignedRank = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	// One wild pair (a run that collapsed) does not hide nine clear ones,
	// where the t test is swayed by its variance.
	d := []float64{0.10, 0.12, 0.09, 0.11, 0.10, 0.13, 0.08, 0.11, 0.10, 1.5}
	sr, _ := SignedRank(d)
	tt, _ := PairedT(d)
	if sr != 2.0/1024 || tt.P < 0.05 {
		t.Errorf("one wild pair: signed-rank p %v (want 2/1024), t p %v (want ≥ 0.05)", sr, tt.P)
	}
	if _, err := SignedRank([]float64{0, 0}); err == nil {
		t.Error("all zero: want an error")
	}
}

// TestMinPairsForAlpha: 2/2ⁿ < alpha first at n = 8 for 0.01 (2/256),
// n = 6 for 0.05 (2/64), n = 9 for 0.005 (2/512); 2/2ⁿ = alpha exactly is
// not below it (0.0625 = 2/32: n = 6).
func TestMinPairsForAlpha(t *testing.T) {
	for _, tt := range []struct {
		alpha float64
		want  int
	}{{0.01, 8}, {0.05, 6}, {0.005, 9}, {0.0625, 6}, {1, 2}, {0, 0}, {1.5, 0}} {
		if got := MinPairsForAlpha(tt.alpha); got != tt.want {
			t.Errorf("MinPairsForAlpha(%v) = %d, want %d", tt.alpha, got, tt.want)
		}
	}
	// Consistent with the test itself: n pairs of one sign reach alpha.
	for _, alpha := range []float64{0.01, 0.05} {
		n := MinPairsForAlpha(alpha)
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(i + 1)
		}
		if p, _ := SignedRank(d); p >= alpha {
			t.Errorf("%d pairs of one sign: p = %v, not below %v", n, p, alpha)
		}
		if p, _ := SignedRank(d[:n-1]); p < alpha {
			t.Errorf("%d pairs of one sign: p = %v, already below %v", n-1, p, alpha)
		}
	}
}
