package gate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/internal/gatetest"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/result"
)

// interleaved builds base and head sets as the action's ab mode measures
// them: pair i runs A B for even i and B A for odd i, one second apart, so
// each value carries its run's start time; a head value without a base runs
// second.
func interleaved(metric, unit string, hib bool, base, head []float64) (*input.Set, *input.Set) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return sets(metric, unit, hib, base, head, func(i int, isHead bool) time.Time {
		second := isHead != (i%2 == 1) || i >= len(base)
		if second {
			return t0.Add(time.Duration(2*i+1) * time.Second)
		}
		return t0.Add(time.Duration(2*i) * time.Second)
	})
}

// driftPairs draws n interleaved pairs on a drifting machine: each pair
// shares a lognormal factor with coefficient of variation drift (the
// machine's state during that pair), and each run adds independent
// lognormal noise of CV noise; head is shifted by shift.
func driftPairs(r *rand.Rand, n int, drift, noise, shift float64) (base, head []float64) {
	sd := func(cv float64) float64 { return math.Sqrt(math.Log(1 + cv*cv)) }
	sdDrift, sdNoise := sd(drift), sd(noise)
	for range n {
		m := 100 * math.Exp(sdDrift*r.NormFloat64())
		base = append(base, m*math.Exp(sdNoise*r.NormFloat64()))
		head = append(head, m*(1+shift)*math.Exp(sdNoise*r.NormFloat64()))
	}
	return base, head
}

// TestPairedSimulation is the case for pairing: on a machine whose
// run-to-run drift (15 % CV) dwarfs a real 10 % slowdown, but where both
// runs of an interleaved pair share the drift (2 % independent noise), the
// paired t test of log ratios finds the slowdown almost every time without
// false alarms, while the unpaired test on the same runs mostly cannot.
func TestPairedSimulation(t *testing.T) {
	const (
		n     = 10
		drift = 0.15
		noise = 0.02
	)
	tests := []struct {
		name     string
		shift    float64
		verdicts int
		paired   bool
		check    func(t *testing.T, regressedRate, inconclusiveRate float64)
	}{
		{"paired 10% shift", 0.10, 500, true, func(t *testing.T, reg, _ float64) {
			if reg < 0.95 {
				t.Errorf("paired: regressed in %.1f%% of verdicts, want ≥ 95%%", reg*100)
			}
		}},
		{"paired A/A", 0, 1000, true, func(t *testing.T, reg, _ float64) {
			if reg > 0.01 {
				t.Errorf("paired A/A: false alarms in %.1f%% of verdicts, want ≤ 1%%", reg*100)
			}
		}},
		{"unpaired 10% shift, same data", 0.10, 500, false, func(t *testing.T, reg, inc float64) {
			if inc < 0.5 || reg > 0.5 {
				t.Errorf("unpaired: regressed %.1f%%, inconclusive %.1f%%; want mostly inconclusive (drift hides the shift)", reg*100, inc*100)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verdicts := tt.verdicts
			if testing.Short() {
				verdicts /= 5
			}
			// Same seed for the paired and unpaired 10 % runs: same data.
			r := rand.New(rand.NewPCG(uint64(tt.shift*1000)+1, 0xd71f7))
			counts := map[string]int{}
			for v := range verdicts {
				base, head := driftPairs(r, n, drift, noise, tt.shift)
				b, h := interleaved(result.MetricP50, "ms", false, base, head)
				p := testPolicy()
				p.Paired = tt.paired
				p.Seed = uint64(v)
				vd, err := Compare(b, h, p)
				if err != nil {
					t.Fatal(err)
				}
				c := vd.Comparisons[0]
				counts[c.Decision]++
				if tt.paired && !strings.Contains(c.Reason, fmt.Sprintf("paired t test of log ratios over %d interleaved pairs", n)) {
					t.Fatalf("paired reason does not say so: %s", c.Reason)
				}
			}
			// A false alarm is any significant call: regressed or improved.
			alarms := counts[verdict.Regressed]
			if tt.shift == 0 {
				alarms += counts[verdict.Improved]
			}
			reg := float64(alarms) / float64(verdicts)
			inc := float64(counts[verdict.Inconclusive]) / float64(verdicts)
			t.Logf("%s: %d verdicts: regressed %.1f%%, inconclusive %.1f%%; decisions %v", tt.name, verdicts, reg*100, inc*100, counts)
			tt.check(t, reg, inc)
		})
	}
}

func TestPairedFallback(t *testing.T) {
	ten := []float64{100, 103, 98, 101, 99, 102, 100, 97, 104, 100}
	slower := make([]float64, len(ten))
	for i, v := range ten {
		slower[i] = v * 1.10
	}
	withZero := append([]float64{0}, slower[1:]...)
	tests := []struct {
		name         string
		metric, unit string
		sets         func() (*input.Set, *input.Set)
		decision     string
		reason       string // must appear in the reason
		notInReason  string
	}{
		{"paired", result.MetricP50, "ms", func() (*input.Set, *input.Set) { return interleaved(result.MetricP50, "ms", false, ten, slower) },
			verdict.Regressed, "(paired t test of log ratios over 10 interleaved pairs)", "unpaired"},
		{"different n", result.MetricP50, "ms", func() (*input.Set, *input.Set) { return interleaved(result.MetricP50, "ms", false, ten, slower[:9]) },
			"", "(unpaired Mann-Whitney: cannot pair, base has 10 runs and head 9)", "paired t test"},
		{"no start times", result.MetricP50, "ms", func() (*input.Set, *input.Set) { return one(result.MetricP50, "ms", false, ten, slower) },
			verdict.Regressed, "cannot pair, base runs carry no start times", "paired t test"},
		{"non-positive value", result.MetricP50, "ms", func() (*input.Set, *input.Set) { return interleaved(result.MetricP50, "ms", false, ten, withZero) },
			"", "cannot pair, a value is not positive", "paired t test"},
		{"error rate stays unpaired", result.MetricErrorRate, input.UnitFraction, func() (*input.Set, *input.Set) {
			return interleaved(result.MetricErrorRate, input.UnitFraction, false, constant(0.01, 10), constant(0.01, 10))
		}, verdict.Unchanged, "", "pair"},
		{"too few pairs", result.MetricP50, "ms", func() (*input.Set, *input.Set) {
			return interleaved(result.MetricP50, "ms", false, ten[:4], slower[:4])
		},
			verdict.Inconclusive, "too few pairs: 4 interleaved pairs cannot judge a change at α = 0.01; need at least 5 pairs", "runs per side"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, h := tt.sets()
			c := comparePaired(t, b, h)
			if tt.decision != "" && c.Decision != tt.decision {
				t.Errorf("decision %s, want %s (%s)", c.Decision, tt.decision, c.Reason)
			}
			if !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", c.Reason, tt.reason)
			}
			if tt.notInReason != "" && strings.Contains(c.Reason, tt.notInReason) {
				t.Errorf("reason %q contains %q", c.Reason, tt.notInReason)
			}
		})
	}
}

// comparePaired compares b and h paired under testPolicy and returns their
// one comparison.
func comparePaired(t *testing.T, b, h *input.Set) verdict.Comparison {
	t.Helper()
	p := testPolicy()
	p.Paired = true
	v, err := Compare(b, h, p)
	if err != nil {
		t.Fatal(err)
	}
	return v.Comparisons[0]
}

// TestPairedOrdersByStartTime: runs are paired by start time, not by the
// order they were read, and the drift between pairs cancels.
func TestPairedOrdersByStartTime(t *testing.T) {
	k := key("s", "overall", result.MetricP50)
	b, h := input.NewSet(), input.NewSet()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 10
	// The machine slows down 8 % per pair; head is 10 % slower than base
	// within every pair. Head is added in reverse order.
	for i := range n {
		level := 100 * math.Pow(1.08, float64(i))
		b.AddAt(k, "ms", false, level*(1+0.005*float64(i%3)), t0.Add(time.Duration(2*i)*time.Second))
	}
	for i := n - 1; i >= 0; i-- {
		level := 100 * math.Pow(1.08, float64(i))
		h.AddAt(k, "ms", false, level*1.10, t0.Add(time.Duration(2*i+1)*time.Second))
	}
	c := comparePaired(t, b, h)
	if c.Decision != verdict.Regressed || math.Abs(c.Change-0.095) > 0.01 {
		t.Errorf("decision %s, change %+.3f; want regressed at about +9.5 %% (%s)", c.Decision, c.Change, c.Reason)
	}
	v, _ := Compare(b, h, testPolicy())
	if c := v.Comparisons[0]; c.Decision == verdict.Regressed {
		t.Errorf("unpaired: the 8 %%-per-pair drift should hide the shift, got %s (%s)", c.Decision, c.Reason)
	}
}

// TestPairedFromResultFiles: m18 result documents, one per run as the
// action's ab mode writes them, carry their start times through Load.
func TestPairedFromResultFiles(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var base, head []string
	for i := range 10 {
		drift := 1 + 0.15*math.Sin(float64(i)*1.7)
		tb, th := t0.Add(time.Duration(4*i)*time.Minute), t0.Add(time.Duration(4*i+2)*time.Minute)
		if i%2 == 1 {
			tb, th = th, tb
		}
		for _, s := range []struct {
			side  string
			start time.Time
			p50   float64
			list  *[]string
		}{{"base", tb, 0.2 * drift * (1 + 0.003*float64(i%4)), &base}, {"head", th, 0.2 * drift * 1.10, &head}} {
			d := gatetest.ResultDoc("ci/x", "fp", s.start, []float64{s.p50}, 0)
			name := filepath.Join(dir, fmt.Sprintf("%s-%d.json", s.side, i))
			if err := result.WriteFile(name, d); err != nil {
				t.Fatal(err)
			}
			*s.list = append(*s.list, name)
		}
	}
	p := testPolicy()
	p.Paired = true
	v, err := CompareFiles(base, head, p)
	if err != nil {
		t.Fatal(err)
	}
	paired := 0
	for _, c := range v.Comparisons {
		if strings.Contains(c.Reason, "paired t test of log ratios over 10 interleaved pairs") {
			paired++
			if c.Metric == result.MetricP50 && c.Decision != verdict.Regressed {
				t.Errorf("%s %s: %s, want regressed (%s)", c.Operation, c.Metric, c.Decision, c.Reason)
			}
		}
		if strings.Contains(c.Reason, "cannot pair") {
			t.Errorf("%s %s: %s", c.Operation, c.Metric, c.Reason)
		}
	}
	if paired == 0 {
		t.Error("no comparison was paired")
	}
}
