package dataset

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestZipf checks the law against values computed by hand: with s = 1 and
// 4 keys the weights are 1, 1/2, 1/3, 1/4 over H(4) = 25/12; s = 0 is
// uniform; s = 2 over 3 keys is 1, 1/4, 1/9 over 49/36.
func TestZipf(t *testing.T) {
	for _, tc := range []struct {
		n    int
		s    float64
		want []float64
	}{
		{4, 1, []float64{12.0 / 25, 6.0 / 25, 4.0 / 25, 3.0 / 25}},
		{4, 0, []float64{0.25, 0.25, 0.25, 0.25}},
		{3, 2, []float64{36.0 / 49, 9.0 / 49, 4.0 / 49}},
		{1, 1, []float64{1}},
	} {
		z, err := NewZipf(tc.n, tc.s)
		if err != nil {
			t.Fatal(err)
		}
		for k, w := range tc.want {
			if got := z.P(k); math.Abs(got-w) > 1e-12 {
				t.Errorf("n=%d s=%g: P(%d) = %v, want %v", tc.n, tc.s, k, got, w)
			}
		}
		// Draws follow P: each frequency within 5 standard errors.
		rng := rand.New(rand.NewPCG(1, 2))
		const draws = 200_000
		count := make([]int, tc.n)
		for range draws {
			count[z.Rank(rng.Float64())]++
		}
		for k, w := range tc.want {
			se := math.Sqrt(w * (1 - w) / draws)
			if f := float64(count[k]) / draws; math.Abs(f-w) > 5*se+1e-12 {
				t.Errorf("n=%d s=%g: rank %d drawn %.4f of the time, want %.4f ± %.4f", tc.n, tc.s, k, f, w, 5*se)
			}
		}
	}
	if z, _ := NewZipf(3, 1); z.Rank(0) != 0 || z.Rank(math.Nextafter(1, 0)) != 2 {
		t.Error("Rank of the ends of [0, 1)")
	}
	for _, bad := range []struct {
		n int
		s float64
	}{{0, 1}, {3, -1}, {3, math.NaN()}, {3, math.Inf(1)}} {
		if _, err := NewZipf(bad.n, bad.s); err == nil {
			t.Errorf("NewZipf(%d, %v) accepted", bad.n, bad.s)
		}
	}
}
