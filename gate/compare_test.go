package gate

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/verdict"
)

// one builds base and head sets holding a single comparison.
func one(metric, unit string, higherIsBetter bool, base, head []float64) (*input.Set, *input.Set) {
	return sets(metric, unit, higherIsBetter, base, head, func(int, bool) time.Time { return time.Time{} })
}

// sets builds base and head sets holding a single comparison, each value's
// run started at(its index, whether it is head's).
func sets(metric, unit string, higherIsBetter bool, base, head []float64, at func(i int, head bool) time.Time) (*input.Set, *input.Set) {
	b, h := input.NewSet(), input.NewSet()
	k := key("s", "overall", metric)
	for i, v := range base {
		b.AddAt(k, unit, higherIsBetter, v, at(i, false))
	}
	for i, v := range head {
		h.AddAt(k, unit, higherIsBetter, v, at(i, true))
	}
	return b, h
}

func testPolicy() Policy {
	p := DefaultPolicy()
	p.Now = fixedNow
	return p
}

func TestDecisions(t *testing.T) {
	tests := []struct {
		name        string
		metric      string
		hib         bool
		base, head  []float64
		competitive bool
		want        string
		reason      string // substring of the reason
		runsNeeded  bool   // RunsNeeded must be set
	}{
		{"regressed latency +10%", "p50", false, spread(100, 0.01, 10), spread(110, 0.01, 10), false, verdict.Regressed, "beyond the ±5.0% threshold", false},
		{"improved latency -10%", "p50", false, spread(100, 0.01, 10), spread(90, 0.01, 10), false, verdict.Improved, "better", false},
		{"unchanged", "p50", false, spread(100, 0.01, 10), spread(100.2, 0.01, 10), false, verdict.Unchanged, "no change beyond ±5.0%", false},
		{"significant but small is unchanged", "p50", false, spread(100, 0.002, 10), spread(102, 0.002, 10), false, verdict.Unchanged, "is significant (p = 1.1e-05) but inside the threshold", false},
		{"too few runs", "p50", false, spread(100, 0.01, 3), spread(150, 0.01, 3), false, verdict.Inconclusive, "need at least 5 runs per side", true},
		{"four runs are still too few", "p50", false, spread(100, 0.01, 4), spread(150, 0.01, 4), false, verdict.Inconclusive, "too few runs", true},
		{"straddles the threshold", "p50", false, spread(100, 0.06, 10), spread(104, 0.06, 10), false, verdict.Inconclusive, "straddles the ±5.0% threshold", true},
		{"beyond threshold but not significant", "p50", false, spread(100, 0.25, 10), spread(108, 0.25, 10), false, verdict.Inconclusive, "not significant", true},
		{"throughput down is a regression", "throughput", true, spread(1000, 0.01, 10), spread(880, 0.01, 10), false, verdict.Regressed, "worse", false},
		{"throughput up is an improvement", "throughput", true, spread(1000, 0.01, 10), spread(1120, 0.01, 10), false, verdict.Improved, "better", false},
		{"constant and equal", "p50", false, constant(5, 10), constant(5, 10), false, verdict.Unchanged, "no change", false},
		{"constant and shifted", "p50", false, constant(100, 10), constant(110, 10), false, verdict.Regressed, "worse", false},
		{"competitive +7% is within 10%", "p99", false, spread(100, 0.005, 10), spread(107, 0.005, 10), true, verdict.Unchanged, "±10.0%", false},
		{"competitive +15% regresses", "p99", false, spread(100, 0.005, 10), spread(115, 0.005, 10), true, verdict.Regressed, "beyond the ±10.0% threshold", false},
		// compare_m17's error-rate rule: absolute points.
		{"error rate 0 → 10 % regresses", "error_rate", false, constant(0, 10), constant(0.10, 10), false, verdict.Regressed, "more than 5.0pp worse is a regression", false},
		{"error rate 0 → 0 is unchanged, no NaN", "error_rate", false, constant(0, 10), constant(0, 10), false, verdict.Unchanged, "no change", false},
		{"error rate 1 → 4 % is within 5 points", "error_rate", false, spread(0.01, 0.05, 10), spread(0.04, 0.05, 10), false, verdict.Unchanged, "±5.0pp", false},
		{"error rate 6 → 10 % is 4 points, not a regression", "error_rate", false, spread(0.06, 0.05, 10), spread(0.10, 0.05, 10), false, verdict.Unchanged, "±5.0pp", false},
		{"error rate 6 → 12 % regresses", "error_rate", false, spread(0.06, 0.05, 10), spread(0.12, 0.05, 10), false, verdict.Regressed, "6.0% → 12.0%", false},
		{"error rate 10 → 2 % improves", "error_rate", false, spread(0.10, 0.05, 10), spread(0.02, 0.05, 10), false, verdict.Improved, "better", false},
		// A zero base median (allocs/op) has no relative change.
		{"zero base, head allocates", "allocs/op", false, constant(0, 10), constant(1, 10), false, verdict.Regressed, "relative change undefined", false},
		{"zero base and head", "allocs/op", false, constant(0, 10), constant(0, 10), false, verdict.Unchanged, "0 in every run", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unit, _ := input.MetricInfo(tt.metric)
			b, h := one(tt.metric, unit, tt.hib, tt.base, tt.head)
			p := testPolicy()
			p.Competitive = tt.competitive
			v, err := Compare(b, h, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Comparisons) != 1 {
				t.Fatalf("got %d comparisons, want 1", len(v.Comparisons))
			}
			c := v.Comparisons[0]
			if c.Decision != tt.want || !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("decision %s (%s), want %s with %q\n%+v", c.Decision, c.Reason, tt.want, tt.reason, c)
			}
			if tt.runsNeeded && c.RunsNeeded <= min(c.NBase, c.NHead) {
				t.Errorf("RunsNeeded = %d, want more than the %d runs we have (%s)", c.RunsNeeded, min(c.NBase, c.NHead), c.Reason)
			}
			// Every number must survive JSON (no NaN, no Inf).
			if _, err := json.Marshal(v); err != nil {
				t.Errorf("verdict does not encode: %v", err)
			}
			for _, f := range []float64{c.Change, c.CILow, c.CIHigh, c.PValue, c.PAdjusted, c.HodgesLehmann, c.BaseMedian, c.HeadMedian} {
				if math.IsNaN(f) || math.IsInf(f, 0) {
					t.Errorf("non-finite number in %+v", c)
				}
			}
			if c.CILow > c.Change+1e-12 || c.CIHigh < c.Change-1e-12 {
				t.Errorf("change %v outside its interval [%v, %v]", c.Change, c.CILow, c.CIHigh)
			}
		})
	}
}

// TestBenjaminiHochbergChangesOutcome: a comparison that regresses on its
// own (n = 5 per side, fully separated, p = 2/252 ≈ 0.0079 < 0.01) is no
// longer significant once it shares the verdict with null comparisons.
func TestBenjaminiHochbergChangesOutcome(t *testing.T) {
	b, h := one("p50", "ms", false, spread(100, 0.01, 5), spread(120, 0.01, 5))
	v, err := Compare(b, h, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	alone := v.Comparisons[0]
	if alone.Decision != verdict.Regressed || v.Summary.ExitCode() != 1 {
		t.Fatalf("alone: %s (%s), exit %d; want regressed, exit 1", alone.Decision, alone.Reason, v.Summary.ExitCode())
	}
	if math.Abs(alone.PValue-2.0/252) > 1e-9 || alone.PAdjusted != alone.PValue {
		t.Errorf("alone: p = %v, adjusted %v; want 2/252 unadjusted", alone.PValue, alone.PAdjusted)
	}
	for _, m := range []string{"p95", "p99", "mean"} {
		k := key("s", "overall", m)
		for _, x := range spread(100, 0.01, 5) {
			b.Add(k, "ms", false, x)
			h.Add(k, "ms", false, x)
		}
	}
	v, err = Compare(b, h, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	var c verdict.Comparison
	for _, x := range v.Comparisons {
		if x.Metric == "p50" {
			c = x
		}
	}
	if c.Decision == verdict.Regressed {
		t.Fatalf("with 3 null comparisons: still regressed (p %v, adjusted %v)", c.PValue, c.PAdjusted)
	}
	if want := 4 * 2.0 / 252; math.Abs(c.PAdjusted-want) > 1e-9 {
		t.Errorf("adjusted p = %v, want 4·2/252 = %v", c.PAdjusted, want)
	}
	if v.Summary.Outcome != verdict.OutcomePass {
		t.Errorf("outcome %s, want pass", v.Summary.Outcome)
	}
}

func TestOutcomes(t *testing.T) {
	reg := func(b, h *input.Set, scenario string, shift float64) {
		for _, x := range spread(100, 0.01, 10) {
			b.Add(key(scenario, "overall", "p99"), "ms", false, x)
		}
		for _, x := range spread(100*(1+shift), 0.01, 10) {
			h.Add(key(scenario, "overall", "p99"), "ms", false, x)
		}
	}
	cfg, err := config.Parse("m18-gate.toml", []byte("[scenario.comp]\ncompetitive = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		internal   float64 // shift of the internal scenario
		comp       float64 // shift of the competitive one
		wantExit   int
		wantAnswer string
	}{
		{"pass", 0, 0, 0, "no regression · 2 unchanged"},
		{"internal", 0.2, 0, 1, "1 regression · 1 unchanged"},
		{"competitive only", 0, 0.2, 2, "1 regression · 1 unchanged"},
		{"both: internal wins", 0.2, 0.2, 1, "2 regressions"},
		{"competitive within 10%", 0, 0.07, 0, "no regression · 2 unchanged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, h := input.NewSet(), input.NewSet()
			reg(b, h, "internal", tt.internal)
			reg(b, h, "comp", tt.comp)
			p := testPolicy().WithConfig(cfg)
			v, err := Compare(b, h, p)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Summary.ExitCode(); got != tt.wantExit || v.Summary.Answer != tt.wantAnswer {
				t.Errorf("exit %d %q, want %d %q", got, v.Summary.Answer, tt.wantExit, tt.wantAnswer)
			}
			if v.Comparisons[0].Decision == verdict.Unchanged && v.Summary.Regressed > 0 {
				t.Errorf("regressions not sorted first: %+v", v.Comparisons)
			}
		})
	}
}

func TestSkipsAndErrors(t *testing.T) {
	add := func(s *input.Set, scenario, metric string) {
		for _, x := range spread(100, 0.01, 10) {
			s.Add(key(scenario, "overall", metric), "ms", false, x)
		}
	}
	b, h := input.NewSet(), input.NewSet()
	add(b, "both", "p50")
	add(h, "both", "p50")
	add(b, "both", "p99") // base only
	add(b, "gone", "p50") // scenario missing in head
	add(h, "new", "p50")  // scenario missing in base
	cfg, err := config.Parse("cfg.toml", []byte(`
[scenario.both.metric.p50]
ignore = "too noisy, see #1"
`))
	if err != nil {
		t.Fatal(err)
	}
	p := testPolicy()
	v, err := Compare(b, h, p)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, s := range v.Skipped {
		reasons[s.Scenario+"/"+s.Metric] = s.Reason
	}
	for k, want := range map[string]string{"both/p99": "base only", "gone/": "no head results", "new/": "no base results"} {
		if !strings.Contains(reasons[k], want) {
			t.Errorf("skip %s: %q, want %q (all: %v)", k, reasons[k], want, reasons)
		}
	}
	if v.Summary.Skipped != 3 || len(v.Comparisons) != 1 {
		t.Errorf("skipped %d, compared %d; want 3 and 1", v.Summary.Skipped, len(v.Comparisons))
	}

	// Ignoring the only common comparison leaves nothing: a usage error.
	_, err = Compare(b, h, p.WithConfig(cfg))
	if err == nil || !strings.Contains(err.Error(), "nothing to compare") || !strings.Contains(err.Error(), "ignored by config (cfg.toml:2): too noisy") {
		t.Errorf("err = %v, want nothing to compare naming the ignore", err)
	}

	// Fingerprints.
	fb, fh := input.NewSet(), input.NewSet()
	add(fb, "x", "p50")
	add(fh, "x", "p50")
	fb.Fingerprints = []string{"aaaaaaaaaaaa"}
	fh.Fingerprints = []string{"bbbbbbbbbbbb"}
	if _, err := Compare(fb, fh, p); err == nil || !strings.Contains(err.Error(), "--allow-fingerprint-mismatch") {
		t.Errorf("fingerprint mismatch: err = %v", err)
	}
	p.AllowFingerprintMismatch = true
	v, err = Compare(fb, fh, p)
	if err != nil || len(v.Warnings) == 0 || v.Base.Fingerprint != "aaaaaaaaaaaa" {
		t.Errorf("allowed mismatch: err %v, warnings %v, base %+v", err, v.Warnings, v.Base)
	}

	// Tiers.
	tc, _ := config.Parse("cfg.toml", []byte("[tiers]\npr = [\"both\"]\n"))
	p = testPolicy().WithConfig(tc)
	p.Tier = "nightly"
	if _, err := Compare(b, h, p); err == nil || !strings.Contains(err.Error(), `tier "nightly" is not defined`) {
		t.Errorf("unknown tier: %v", err)
	}
	p.Tier = "pr"
	v, err = Compare(b, h, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Comparisons) != 1 || v.Comparisons[0].Scenario != "both" {
		t.Errorf("tier pr compared %+v", v.Comparisons)
	}

	// Invalid policy.
	p = testPolicy()
	p.Alpha = 2
	if _, err := Compare(b, h, p); err == nil || !strings.Contains(err.Error(), "alpha") {
		t.Errorf("bad alpha: %v", err)
	}
}

func TestVerdictRoundTrip(t *testing.T) {
	b, h := one("p50", "ms", false, spread(100, 0.01, 10), spread(110, 0.01, 10))
	v, err := Compare(b, h, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := verdict.Encode(&buf, v); err != nil {
		t.Fatal(err)
	}
	got, err := verdict.Decode(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatalf("verdict does not validate: %v", err)
	}
	if got.Summary.Answer != "1 regression" || got.Comparisons[0].Decision != verdict.Regressed {
		t.Errorf("round trip: %+v", got.Summary)
	}
}

func TestAnswer(t *testing.T) {
	tests := []struct {
		s    verdict.Summary
		want string
	}{
		{verdict.Summary{Regressed: 2, Unchanged: 14, Inconclusive: 1}, "2 regressions · 14 unchanged · 1 inconclusive"},
		{verdict.Summary{Regressed: 1, Improved: 1, Skipped: 2}, "1 regression · 1 improvement · 2 skipped"},
		{verdict.Summary{}, "nothing compared"},
	}
	for _, tt := range tests {
		if got := Answer(tt.s); got != tt.want {
			t.Errorf("Answer(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestOverallOfOneOperationIsSkipped: with a single operation, "overall" is
// the same requests again; comparing it too would double-count in the
// Benjamini–Hochberg correction. With two operations it is its own figure.
func TestOverallOfOneOperationIsSkipped(t *testing.T) {
	build := func(ops []string, shift float64) *input.Set {
		s := input.NewSet()
		for _, v := range spread(10*shift, 0.02, 10) {
			for _, op := range ops {
				s.Add(input.Key{Scenario: "s", Operation: op, Metric: "p50"}, "ms", false, v)
			}
			s.Add(input.Key{Scenario: "s", Operation: "overall", Metric: "p50"}, "ms", false, v)
		}
		return s
	}
	tests := []struct {
		name        string
		ops         []string
		wantOverall bool
	}{
		{"one operation", []string{"Recall"}, false},
		{"two operations", []string{"Recall", "Store"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Compare(build(tt.ops, 1), build(tt.ops, 1.2), testPolicy())
			if err != nil {
				t.Fatal(err)
			}
			got := false
			for _, c := range v.Comparisons {
				if c.Operation == "overall" {
					got = true
				}
			}
			if got != tt.wantOverall {
				t.Errorf("overall compared = %v, want %v (skipped: %+v)", got, tt.wantOverall, v.Skipped)
			}
			if !tt.wantOverall && (len(v.Skipped) != 1 || !strings.Contains(v.Skipped[0].Reason, "the same requests as Recall")) {
				t.Errorf("skips = %+v, want one naming Recall", v.Skipped)
			}
		})
	}
}
