// Package fit fits models to measurements: straight lines by ordinary least
// squares, and Gunther's Universal Scalability Law to throughput against
// concurrency (usl.go).
//
// It exists so that the soak and scaling tasks state trends the same way: a
// slope with an intercept and an R² that says how much of the variation the
// line explains; and the thread-scaling task its contention and coherency
// with their standard errors. Its opinion: a slope is only evidence of a trend when R² is
// high and there are enough points; callers decide the thresholds, this
// package never hides a poor fit. The arithmetic is gonum's stat package.
package fit

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// Line is the least-squares line y = Intercept + Slope·x.
type Line struct {
	// Slope is the change of y per unit of x.
	Slope float64 `json:"slope"`
	// Intercept is y at x = 0.
	Intercept float64 `json:"intercept"`
	// R2 is the coefficient of determination in [0, 1]: the share of the
	// variance of y the line explains. It is 0 when y is constant or the fit
	// is undefined, so a flat series never counts as a trend.
	R2 float64 `json:"r2"`
	// N is the number of (x, y) points used.
	N int `json:"n"`
}

// At returns the value of the line at x.
func (l Line) At(x float64) float64 { return l.Intercept + l.Slope*x }

// Linear fits y = a + b·x by ordinary least squares over the pairs (x[i],
// y[i]); pairs with a NaN or infinite member are dropped. With fewer than two
// usable points, or when all x are equal, it returns a zero Line with N set
// to the number of usable points.
func Linear(x, y []float64) Line {
	n := len(x)
	if len(y) < n {
		n = len(y)
	}
	xs := make([]float64, 0, n)
	ys := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		if bad(x[i]) || bad(y[i]) {
			continue
		}
		xs = append(xs, x[i])
		ys = append(ys, y[i])
	}
	l := Line{N: len(xs)}
	if l.N < 2 || stat.Variance(xs, nil) == 0 {
		return l
	}
	l.Intercept, l.Slope = stat.LinearRegression(xs, ys, nil, false)
	if stat.Variance(ys, nil) > 0 {
		r2 := stat.RSquared(xs, ys, nil, l.Intercept, l.Slope)
		if !bad(r2) {
			l.R2 = math.Max(0, math.Min(1, r2))
		}
	} else {
		// A constant y is fitted exactly by a flat line, but explains no
		// variance: report no trend.
		l.Slope = 0
		l.Intercept = ys[0]
	}
	return l
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
