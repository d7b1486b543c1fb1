package stats

import (
	"math"
	"testing"
)

// TestPairedT checks PairedT against published values, computed elsewhere.
func TestPairedT(t *testing.T) {
	tests := []struct {
		name  string
		d     []float64
		wantT float64
		wantP float64
	}{
		// R: t.test(extra ~ group, data = sleep, paired = TRUE) prints
		// t = -4.0621, df = 9, p-value = 0.002833 (the differences of
		// Student's 1908 sleep data, group 1 − group 2).
		{"R sleep", []float64{-1.2, -2.4, -1.3, -1.3, 0, -1.0, -1.8, -0.8, -4.6, -1.4}, -4.0621, 0.002833},
		// By hand: d = 1, 2, 3: mean 2, sd 1, t = 2·√3 = 3.4641, df 2,
		// p = 2·(1 − F(3.4641)) with F the t(2) CDF, 1/2 + t/(2√(t²+2)):
		// p = 1 − 3.4641/√14 = 0.074180.
		{"hand df 2", []float64{1, 2, 3}, 3.464102, 0.074180},
		{"symmetric", []float64{-1, 1, -2, 2}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := PairedT(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.T-tt.wantT) > 1e-4*math.Max(1, math.Abs(tt.wantT)) {
				t.Errorf("t = %.6f, want %.6f", r.T, tt.wantT)
			}
			if math.Abs(r.P-tt.wantP) > 1e-4*math.Max(tt.wantP, 1e-3) {
				t.Errorf("p = %.6f, want %.6f", r.P, tt.wantP)
			}
		})
	}
	if r, _ := PairedT([]float64{0.1, 0.1, 0.1}); r.P != 0 {
		t.Errorf("constant shift: p = %v, want 0", r.P)
	}
	if r, _ := PairedT([]float64{0, 0, 0}); r.P != 1 {
		t.Errorf("no difference: p = %v, want 1", r.P)
	}
	if _, err := PairedT([]float64{1}); err == nil {
		t.Error("one pair: want an error")
	}
}
