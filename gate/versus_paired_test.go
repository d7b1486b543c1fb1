package gate

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/result"
)

// roundsSide builds a versusSide of one p50 per round, each stamped with
// its round's start time, added in the order given by order (so that
// pairing must sort by start time).
func roundsSide(p50 []float64, order []int, comp bool, file string) *versusSide {
	s := input.NewSet()
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for _, i := range order {
		s.AddAt(input.Key{Scenario: "s", Operation: result.OpRecall, Metric: result.MetricP50}, "ms", false, p50[i], t0.Add(time.Duration(i)*time.Minute))
	}
	v := &versusSide{set: s, files: []string{file}}
	if comp {
		v.comp = &result.Competitor{Name: "pg", Version: "15"}
	}
	return v
}

// TestComparePositionsPaired checks the paired move of a position against
// values computed by hand. The six rounds' log ratios of ratios are
// m ± k, three each, with m = t·k/√5: the paired t statistic of six such
// values is m·√6 / (k·√(6/5)) = t, and t = 6.868827 is Student's t
// quantile 0.9995 at 5 degrees of freedom (tables), so the two-sided p is
// 0.001. The Walsh averages are 6 × (m−k), 9 × m and 6 × (m+k): their
// median is m, and the move exp(m) − 1.
func TestComparePositionsPaired(t *testing.T) {
	const tq, k = 6.868827, 0.05
	m := tq * k / math.Sqrt(5)
	d := []float64{m - k, m + k, m - k, m + k, m - k, m + k}
	e0 := []float64{10, 12, 9, 11, 10.5, 9.5}
	c0 := []float64{1, 1.1, 0.9, 1.05, 1, 0.95}
	g := []float64{0.02, -0.03, 0.01, 0.04, -0.02, 0} // the competitor's own drift, when it ran twice
	scrambled := []int{3, 0, 5, 1, 4, 2}
	p := DefaultPolicy()
	p.Paired = true
	tests := []struct {
		name       string
		sameVersus bool
	}{
		{"competitor's baseline runs are its current ones", true},
		{"competitor measured at the baseline and now", false},
	}
	for _, tt := range tests {
		e, c := make([]float64, 6), make([]float64, 6)
		for i := range d {
			c[i] = c0[i]
			if !tt.sameVersus {
				c[i] = c0[i] * math.Exp(g[i])
			}
			// ln(E/C) − ln(E0/C0) = d
			e[i] = e0[i] * math.Exp(d[i]) * c[i] / c0[i]
		}
		cur := roundsSide(c, scrambled, true, "versus")
		base := cur
		if !tt.sameVersus {
			base = roundsSide(c0, []int{0, 1, 2, 3, 4, 5}, true, "baseline-versus")
		}
		out, err := compareVersus(roundsSide(e, scrambled, false, "engram"), cur, roundsSide(e0, []int{5, 4, 3, 2, 1, 0}, false, "baseline-engram"), base, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Positions) != 1 || out.Positions[0].Change == nil {
			t.Fatalf("%s: positions %+v", tt.name, out.Positions)
		}
		pos := out.Positions[0]
		if want := math.Exp(m) - 1; math.Abs(*pos.Change-want) > 1e-9 {
			t.Errorf("%s: move %v, want exp(m) − 1 = %v", tt.name, *pos.Change, want)
		}
		if math.Abs(*pos.PValue-0.001) > 1e-5 || math.Abs(*pos.PAdjusted-0.001) > 1e-5 {
			t.Errorf("%s: p %v (adjusted %v), want 0.001", tt.name, *pos.PValue, *pos.PAdjusted)
		}
		if !(*pos.ChangeLow <= *pos.Change && *pos.Change <= *pos.ChangeHigh) || *pos.ChangeLow < math.Expm1(m-k)-1e-9 || *pos.ChangeHigh > math.Expm1(m+k)+1e-9 {
			t.Errorf("%s: interval [%v, %v] does not hold the move %v within the values' range", tt.name, *pos.ChangeLow, *pos.ChangeHigh, *pos.Change)
		}
		if pos.Decision != verdict.Regressed {
			t.Errorf("%s: %s (%s), want regressed: +16.6 %% at p 0.001", tt.name, pos.Decision, pos.Reason)
		}
	}

	// Runs without start times cannot be paired: the unpaired bootstrap
	// decides, and the reason says why.
	e := versusSet([]float64{1, 2, 3, 4, 5, 6}, []float64{1, 1, 1, 1, 1, 1}, false)
	cmp := versusSet([]float64{1, 2, 3, 4, 5, 6}, []float64{1, 1, 1, 1, 1, 1}, true)
	out, err := compareVersus(e, cmp, e, cmp, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, pos := range out.Positions {
		if pos.Metric == result.MetricP50 && !containsAll(pos.Reason, "unpaired", "start times") {
			t.Errorf("unstamped runs: reason %q, want it to say they were not paired and why", pos.Reason)
		}
	}
}

// TestComparePositionsCPU: the CPU time per request is a position when
// both sides measured it, its ratio Engram's median over the competitor's.
func TestComparePositionsCPU(t *testing.T) {
	side := func(p50, cpu []float64, comp bool) *versusSide {
		v := versusSet(p50, p50, comp)
		for _, x := range cpu {
			v.set.Add(input.Key{Scenario: "s", Operation: result.OpOverall, Metric: result.MetricCPUPerOp}, "ms", false, x)
		}
		return v
	}
	lat := []float64{10, 10.2, 9.9, 10.1, 10.05, 9.95, 10.15, 9.85, 10, 10.1}
	cpu := []float64{3, 3.05, 2.95, 3.02, 2.98, 3.01, 2.99, 3.03, 2.97, 3}
	comp := side(lat, scaled(cpu, 0.1), true)
	base := side(lat, cpu, false)
	for _, tt := range []struct {
		name string
		f    float64
		want string
	}{{"same CPU", 1, verdict.Unchanged}, {"30% more CPU", 1.3, verdict.Regressed}} {
		out, err := compareVersus(side(lat, scaled(cpu, tt.f), false), comp, base, comp, DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		var pos *verdict.Position
		for i := range out.Positions {
			if out.Positions[i].Metric == result.MetricCPUPerOp {
				pos = &out.Positions[i]
			}
		}
		if pos == nil || pos.Operation != result.OpOverall || pos.Decision != tt.want || math.Abs(pos.Ratio-10*tt.f) > 1e-9 {
			t.Errorf("%s: CPU position %+v, want ratio %v and %s", tt.name, pos, 10*tt.f, tt.want)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
