package gate

import (
	"math"
	"testing"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/result"
)

// versusSet builds a versusSide of one scenario and operation: p50 values and
// throughput values per run.
func versusSet(p50, tput []float64, comp bool) *versusSide {
	s := input.NewSet()
	for i := range p50 {
		s.Add(input.Key{Scenario: "s", Operation: result.OpRecall, Metric: result.MetricP50}, "ms", false, p50[i])
		s.Add(input.Key{Scenario: "s", Operation: result.OpRecall, Metric: result.MetricThroughput}, "ops/s", true, tput[i])
	}
	v := &versusSide{set: s, files: []string{"f"}}
	if comp {
		v.comp = &result.Competitor{Name: "pg", Version: "15"}
	}
	return v
}

func scaled(x []float64, f float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * f
	}
	return out
}

func TestComparePositions(t *testing.T) {
	lat := []float64{10, 10.2, 9.9, 10.1, 10.05, 9.95, 10.15, 9.85, 10, 10.1}
	tp := []float64{100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1, 99.9, 100}
	comp := versusSet(scaled(lat, 2), scaled(tp, 1), true)
	base := versusSet(lat, tp, false)
	tests := []struct {
		name     string
		head     *versusSide
		p50, thr string
	}{
		{"same", versusSet(scaled(lat, 1.01), tp, false), verdict.Unchanged, verdict.Unchanged},
		{"latency 30% worse", versusSet(scaled(lat, 1.3), tp, false), verdict.Regressed, verdict.Unchanged},
		{"latency 30% better", versusSet(scaled(lat, 0.7), tp, false), verdict.Improved, verdict.Unchanged},
		{"throughput 30% lower", versusSet(lat, scaled(tp, 0.7), false), verdict.Unchanged, verdict.Regressed},
	}
	for _, tt := range tests {
		c, err := compareVersus(tt.head, comp, base, comp, DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]verdict.Position{}
		for _, p := range c.Positions {
			got[p.Metric] = p
		}
		p50, thr := got[result.MetricP50], got[result.MetricThroughput]
		if p50.Decision != tt.p50 || thr.Decision != tt.thr {
			t.Errorf("%s: p50 %s (%s), throughput %s (%s); want %s, %s", tt.name, p50.Decision, p50.Reason, thr.Decision, thr.Reason, tt.p50, tt.thr)
		}
		// The ratio is Engram's median over the competitor's.
		if want := median(tt.head.set, result.MetricP50) / median(comp.set, result.MetricP50); math.Abs(p50.Ratio-want) > 1e-12 {
			t.Errorf("%s: p50 ratio %v, want %v", tt.name, p50.Ratio, want)
		}
		if tt.name == "throughput 30% lower" && math.Abs(*thr.Change-(1/0.7-1)) > 0.02 {
			t.Errorf("throughput 30%% lower: change %v, want about %v (worse, as 1/ratio of ratios − 1)", *thr.Change, 1/0.7-1)
		}
		if want := tt.p50 == verdict.Regressed || tt.thr == verdict.Regressed; (c.Regressed > 0) != want {
			t.Errorf("%s: %d regressed", tt.name, c.Regressed)
		}
	}
}

func median(s *input.Set, metric string) float64 {
	v := s.Samples[input.Key{Scenario: "s", Operation: result.OpRecall, Metric: metric}].Values
	return stats.Median(v)
}
