package fit

import (
	"math"
	"testing"
)

func TestLinear(t *testing.T) {
	// References computed by hand from the textbook formulas
	// b = Sxy/Sxx, a = ȳ - b·x̄, R² = Sxy²/(Sxx·Syy).
	tests := []struct {
		name       string
		x, y       []float64
		slope, icp float64
		r2         float64
		n          int
	}{
		{
			// Exact line y = 1 + 2x.
			name: "exact", x: []float64{0, 1, 2, 3}, y: []float64{1, 3, 5, 7},
			slope: 2, icp: 1, r2: 1, n: 4,
		},
		{
			// x̄=3, ȳ=4, Sxx=10, Sxy=6, Syy=6.
			// b=0.6, a=4-1.8=2.2, R²=36/60=0.6.
			name: "textbook", x: []float64{1, 2, 3, 4, 5}, y: []float64{2, 4, 5, 4, 5},
			slope: 0.6, icp: 2.2, r2: 0.6, n: 5,
		},
		{
			// x̄=2, ȳ=2.5, Sxx=2, Sxy=(-1)(2.5)+(1)(-2.5)=-5, Syy=12.5.
			// b=-2.5, a=2.5+5=7.5, R²=25/(2·12.5)=1.
			name: "negative", x: []float64{1, 2, 3}, y: []float64{5, 2.5, 0},
			slope: -2.5, icp: 7.5, r2: 1, n: 3,
		},
		{
			// x̄=2.5, ȳ=1.5: Sxx=5,
			// Sxy=(-1.5)(-.5)+(-.5)(.5)+(.5)(-.5)+(1.5)(.5)=1, Syy=1.
			// b=0.2, a=1.5-0.5=1.0, R²=1²/(5·1)=0.2.
			name: "noisy", x: []float64{1, 2, 3, 4}, y: []float64{1, 2, 1, 2},
			slope: 0.2, icp: 1.0, r2: 0.2, n: 4,
		},
		{name: "flat", x: []float64{1, 2, 3}, y: []float64{4, 4, 4}, slope: 0, icp: 4, r2: 0, n: 3},
		{name: "one point", x: []float64{1}, y: []float64{2}, n: 1},
		{name: "same x", x: []float64{2, 2, 2}, y: []float64{1, 2, 3}, n: 3},
		{
			name: "nan dropped", x: []float64{0, 1, math.NaN(), 2}, y: []float64{1, 3, 100, 5},
			slope: 2, icp: 1, r2: 1, n: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Linear(tt.x, tt.y)
			if l.N != tt.n {
				t.Errorf("N = %d, want %d", l.N, tt.n)
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"slope", l.Slope, tt.slope}, {"intercept", l.Intercept, tt.icp}, {"R2", l.R2, tt.r2}} {
				if math.Abs(c.got-c.want) > 1e-9 {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestLineAt(t *testing.T) {
	if got := (Line{Slope: 2, Intercept: 1}).At(3); got != 7 {
		t.Fatalf("At(3) = %v, want 7", got)
	}
}
