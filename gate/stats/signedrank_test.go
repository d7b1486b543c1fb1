package stats

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// signedRankReference is the signed-rank part of testdata/reference.json,
// written by testdata/reference.py (exact p by enumerating all 2ⁿ sign
// assignments; two published outputs: R's depression example, V = 40,
// p = 0.03906, and scipy's Darwin example, p = 0.041259765625).
type signedRankReference struct {
	SignedRank []struct {
		Name        string    `json:"name"`
		Source      string    `json:"source"`
		D           []float64 `json:"d"`
		N           int       `json:"n"`
		Zeros       int       `json:"zeros"`
		WPlus       float64   `json:"w_plus"`
		P           float64   `json:"p"`
		PNormal     *float64  `json:"p_normal"`
		Exact       bool      `json:"exact"`
		WalshMedian *float64  `json:"walsh_median"`
	} `json:"signed_rank"`
	MinP []struct {
		N int
		P float64
	} `json:"min_p_value_signed_rank"`
	MinPairs []struct {
		Alpha float64
		N     int
	} `json:"min_pairs_for_alpha"`
}

func loadSignedRankReference(t *testing.T) signedRankReference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r signedRankReference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("testdata/reference.json: %v", err)
	}
	if len(r.SignedRank) < 10 || len(r.MinP) == 0 || len(r.MinPairs) == 0 {
		t.Fatalf("testdata/reference.json: signed-rank sections missing (%d cases); rerun testdata/reference.py", len(r.SignedRank))
	}
	return r
}

func TestSignedRankReference(t *testing.T) {
	for _, c := range loadSignedRankReference(t).SignedRank {
		t.Run(c.Name, func(t *testing.T) {
			in := slices.Clone(c.D)
			got, err := SignedRank(c.D)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(in, c.D) {
				t.Error("SignedRank modified its input")
			}
			if got.N != c.N || got.Zeros != c.Zeros || got.Exact != c.Exact {
				t.Errorf("N, Zeros, Exact = %d, %d, %v; want %d, %d, %v", got.N, got.Zeros, got.Exact, c.N, c.Zeros, c.Exact)
			}
			if !close(got.WPlus, c.WPlus) {
				t.Errorf("W+ = %v, want %v", got.WPlus, c.WPlus)
			}
			if !close(got.P, c.P) {
				t.Errorf("P = %.10g, want %.10g (%s)", got.P, c.P, c.Source)
			}
			if c.WalshMedian != nil {
				if w := WalshMedian(c.D); !close(w, *c.WalshMedian) {
					t.Errorf("WalshMedian = %v, want %v", w, *c.WalshMedian)
				}
			}
		})
	}
}

// TestSignedRankPublished pins the two published outputs by hand, so a
// regenerated reference file cannot silently move them.
func TestSignedRankPublished(t *testing.T) {
	x := []float64{1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30}
	y := []float64{0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29}
	d := make([]float64, len(x))
	for i := range x {
		d[i] = x[i] - y[i]
	}
	r, err := SignedRank(d)
	if err != nil {
		t.Fatal(err)
	}
	// R: wilcox.test(x, y, paired = TRUE): V = 40, p-value = 0.03906.
	if r.WPlus != 40 || math.Abs(r.P-0.03906) > 5e-6 || !r.Exact {
		t.Errorf("depression: V = %v, p = %v, exact %v; R gives V = 40, p = 0.03906 (exact)", r.WPlus, r.P, r.Exact)
	}
	// scipy: wilcoxon(d): statistic min(W+, W−) = 24, p = 0.041259765625.
	darwin := []float64{6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75}
	r, err = SignedRank(darwin)
	if err != nil {
		t.Fatal(err)
	}
	if r.WPlus != 96 || !close(r.P, 0.041259765625) {
		t.Errorf("Darwin: W+ = %v, p = %v; scipy gives min(W+, W−) = 24 (W+ = 96), p = 0.041259765625", r.WPlus, r.P)
	}
}

func TestSignedRankEdges(t *testing.T) {
	if _, err := SignedRank(nil); err == nil {
		t.Error("empty d: no error")
	}
	if _, err := SignedRank([]float64{1, math.NaN()}); err == nil {
		t.Error("NaN: no error")
	}
	// Symmetric under sign flip.
	d := []float64{0.3, -0.1, 0.25, 0.7, 0.05, -0.2, 0.4, 0.9}
	neg := make([]float64, len(d))
	for i, v := range d {
		neg[i] = -v
	}
	a, _ := SignedRank(d)
	b, _ := SignedRank(neg)
	if a.P != b.P || a.WPlus+b.WPlus != 36 {
		t.Errorf("sign flip: P %v vs %v, W+ %v + %v ≠ 36", a.P, b.P, a.WPlus, b.WPlus)
	}
}

func TestSignedRankMinima(t *testing.T) {
	r := loadSignedRankReference(t)
	for _, c := range r.MinP {
		if got := MinPValueSignedRank(c.N); !close(got, c.P) {
			t.Errorf("MinPValueSignedRank(%d) = %v, want %v", c.N, got, c.P)
		}
	}
	for _, c := range r.MinPairs {
		if got := MinPairsForAlpha(c.Alpha); got != c.N {
			t.Errorf("MinPairsForAlpha(%v) = %d, want %d", c.Alpha, got, c.N)
		}
	}
	// The exact test reaches the minimum when every pair moves one way.
	for n := 1; n <= 12; n++ {
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(i + 1)
		}
		res, _ := SignedRank(d)
		if !close(res.P, MinPValueSignedRank(n)) {
			t.Errorf("n = %d all positive: P = %v, want MinPValueSignedRank = %v", n, res.P, MinPValueSignedRank(n))
		}
	}
}

func TestWalshMedian(t *testing.T) {
	tests := []struct {
		d    []float64
		want float64
	}{
		{[]float64{1}, 1},
		{[]float64{1, 3}, 2},             // walsh 1, 2, 3
		{[]float64{0, 0, 10}, 2.5},       // Walsh averages 0 0 0 5 5 10
		{[]float64{-1, 1}, 0},            // -1, 0, 1
		{[]float64{1, 2, 3, 100}, 2.75},  // 1 1.5 2 2 2.5 | 3 50.5 51 51.5 100: the outlier barely moves it
		{[]float64{5, 5, 5, 5, 5, 5}, 5}, // constant
	}
	for _, tt := range tests {
		if got := WalshMedian(tt.d); !close(got, tt.want) {
			t.Errorf("WalshMedian(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
	if !math.IsNaN(WalshMedian(nil)) {
		t.Error("WalshMedian(nil) is not NaN")
	}
}

func TestMedianCI(t *testing.T) {
	d := []float64{0.06, 0.07, 0.14, 0.15, 0.015, 0.17, 0.09, 0.11, 0.12, 0.08}
	lo, hi := MedianCI(d, 0.99, 2000, 7)
	lo2, hi2 := MedianCI(d, 0.99, 2000, 7)
	if lo != lo2 || hi != hi2 {
		t.Errorf("not reproducible: %v…%v then %v…%v", lo, hi, lo2, hi2)
	}
	med := Median(d)
	if !(lo <= med && med <= hi) || lo < slices.Min(d) || hi > slices.Max(d) {
		t.Errorf("CI %v…%v must hold the median %v and stay within the data", lo, hi, med)
	}
	if !(lo > 0) {
		t.Errorf("every pair is positive but the 99%% CI reaches %v", lo)
	}
	if l, h := MedianCI(nil, 0.9, 100, 1); !math.IsNaN(l) || !math.IsNaN(h) {
		t.Error("empty d: want NaN, NaN")
	}
}
