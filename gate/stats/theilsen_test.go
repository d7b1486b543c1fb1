package stats

import (
	"math"
	"testing"
)

// TestTheilSenReference checks against values computed by definition in
// Python's standard library (independent of this package):
//
//	sl = sorted((y[j]-y[i])/(x[j]-x[i]) for i<j if x[j]!=x[i]); slope = median(sl)
//	intercept = median(y - slope*x)
//	v = (n(n-1)(2n+5) - Σ_ties t(t-1)(2t+5)) / 18; c = NormalDist().inv_cdf(1-(1-conf)/2)·sqrt(v)
//	low = sl[round((m-c)/2) - 1]; high = sl[round((m+c)/2)]
func TestTheilSenReference(t *testing.T) {
	tests := []struct {
		name                    string
		x, y                    []float64
		conf                    float64
		slope, inter, low, high float64
	}{
		{"near line", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []float64{2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8, 16.1, 18.0, 20.3}, 0.95,
			2.0142857142857142, 0.007142857142858006, 1.950000000000001, 2.0749999999999997},
		{"outlier, tied x", []float64{0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89}, []float64{5, 4, 6, 5, 7, 3, 9, 6, 8, 30, 7, 10}, 0.9,
			0.08, 4.98, 0.029411764705882353, 0.4},
	}
	for _, tt := range tests {
		r := TheilSen(tt.x, tt.y, tt.conf)
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"slope", r.Slope, tt.slope}, {"intercept", r.Intercept, tt.inter}, {"low", r.Low, tt.low}, {"high", r.High, tt.high}} {
			if math.Abs(c.got-c.want) > 1e-9 {
				t.Errorf("%s: %s = %v, want %v", tt.name, c.name, c.got, c.want)
			}
		}
	}
}

func TestTheilSenDegenerate(t *testing.T) {
	if r := TheilSen([]float64{1, 1, 1}, []float64{1, 2, 3}, 0.95); !math.IsNaN(r.Slope) {
		t.Errorf("no distinct x: %+v", r)
	}
	if r := TheilSen([]float64{1, 2}, []float64{1, 2}, 0.95); !math.IsNaN(r.Slope) {
		t.Errorf("two points: %+v", r)
	}
	if r := TheilSen([]float64{1, 2, 3}, []float64{1, 2, 3}, 0.95); r.Slope != 1 || !math.IsInf(r.Low, -1) {
		t.Errorf("three points at 95%%: %+v (too few for a bounded interval)", r)
	}
}

func TestBootstrapRatioOfRatios(t *testing.T) {
	base := []float64{10, 10.5, 9.8, 10.2, 10.1, 9.9, 10.3, 10}
	comp := []float64{20, 20.4, 19.7, 20.1, 20.2, 19.9, 20.3, 20}
	slow := make([]float64, len(base))
	for i, v := range base {
		slow[i] = v * 1.3
	}
	r := BootstrapRatioOfRatios(slow, comp, base, comp, true, 0.99, 10000, 1)
	if math.Abs(r.Estimate-1.3) > 0.02 || r.Low < 1.2 || r.High > 1.4 || r.P > 0.001 {
		t.Errorf("30%% worse position: %+v", r)
	}
	r = BootstrapRatioOfRatios(base, comp, base, comp, false, 0.99, 10000, 1)
	if r.Estimate != 1 || r.Low > 1 || r.High < 1 || r.P < 0.5 {
		t.Errorf("same position: %+v", r)
	}
	if r := BootstrapRatioOfRatios(nil, comp, base, comp, false, 0.99, 100, 1); !math.IsNaN(r.Estimate) {
		t.Errorf("empty sample: %+v", r)
	}
}
