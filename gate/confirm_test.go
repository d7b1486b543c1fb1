package gate

import (
	"bytes"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/result"
)

// metricRuns is one metric's base and head runs.
type metricRuns struct {
	metric     string
	base, head []float64
}

// interleavedSets builds interleaved base and head sets holding every
// metric of runs; a metric "p50_rate" is added as derived from p50 (its
// inverse, higher is better) so that following can be checked.
func interleavedSets(runs ...metricRuns) (*input.Set, *input.Set) {
	b, h := input.NewSet(), input.NewSet()
	for _, r := range runs {
		rb, rh := interleaved(r.metric, "ms", false, r.base, r.head)
		for dst, src := range map[*input.Set]*input.Set{b: rb, h: rh} {
			for k, s := range src.Samples {
				dst.Samples[k] = s
			}
		}
		if r.metric == result.MetricP50 {
			inv := func(x []float64) []float64 {
				out := make([]float64, len(x))
				for i, v := range x {
					out[i] = 1000 / v
				}
				return out
			}
			rb, rh := interleaved("p50_rate", "1/s", true, inv(r.base), inv(r.head))
			for dst, src := range map[*input.Set]*input.Set{b: rb, h: rh} {
				for k, s := range src.Samples {
					s.DerivedFrom = result.MetricP50
					dst.Samples[k] = s
				}
			}
		}
	}
	return b, h
}

// slower is head = base × (1+shift), each pair jittered by ±0.2 %
// alternately so that the paired differences have a spread.
func slower(base []float64, shift float64) []float64 {
	return jittered(base, shift, func(i int) float64 {
		switch {
		case i%3 == 0:
			return 1.0005
		case i%2 == 1:
			return 0.998
		}
		return 1.002
	})
}

// noisier is head = base × (1+shift) × 1.25 and × 0.8 alternately: pairs
// that disagree, as a machine busier during a re-run than before makes
// them.
func noisier(base []float64, shift float64) []float64 {
	return jittered(base, shift, func(i int) float64 { return []float64{1.25, 0.8}[i%2] })
}

// jittered is base × (1+shift) × jitter(i) for each pair i.
func jittered(base []float64, shift float64, jitter func(i int) float64) []float64 {
	out := make([]float64, len(base))
	for i, v := range base {
		out[i] = v * (1 + shift) * jitter(i)
	}
	return out
}

func pairedPolicy() Policy {
	p := testPolicy()
	p.Paired = true
	return p
}

// firstVerdict: p50 (and the rate that follows it) and cpu_per_op regress
// by 10 % over 10 pairs, p99 is unchanged.
func firstVerdict(t *testing.T) *verdict.Verdict {
	t.Helper()
	base := spread(100, 0.05, 10)
	b, h := interleavedSets(
		metricRuns{result.MetricP50, base, slower(base, 0.10)},
		metricRuns{result.MetricP99, base, slower(base, 0)},
		metricRuns{result.MetricCPUPerOp, base, slower(base, 0.10)},
	)
	v, err := Compare(b, h, pairedPolicy())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{result.MetricP50: verdict.Regressed, "p50_rate": verdict.Regressed, result.MetricCPUPerOp: verdict.Regressed, result.MetricP99: verdict.Unchanged}
	for _, c := range v.Comparisons {
		if c.Decision != want[c.Metric] {
			t.Fatalf("first verdict: %s is %s (%s), want %s", c.Metric, c.Decision, c.Reason, want[c.Metric])
		}
	}
	return v
}

func decisions(v *verdict.Verdict) map[string]string {
	m := map[string]string{}
	for _, c := range v.Comparisons {
		m[c.Metric] = c.Decision
	}
	return m
}

func TestConfirm(t *testing.T) {
	rerunBase := spread(200, 0.04, 9) // fresh pairs: another level, as many as ConfirmPairs asks
	tests := []struct {
		name       string
		p50, cpu   float64 // the re-run's slowdowns
		want       map[string]string
		outcome    string
		confirmed  []string
		unconfirmd []string
	}{
		{"both confirmed", 0.10, 0.10,
			map[string]string{result.MetricP50: verdict.Regressed, "p50_rate": verdict.Regressed, result.MetricCPUPerOp: verdict.Regressed, result.MetricP99: verdict.Unchanged},
			verdict.OutcomeRegression, []string{result.MetricP50, result.MetricCPUPerOp}, nil},
		{"cpu not confirmed", 0.10, 0,
			map[string]string{result.MetricP50: verdict.Regressed, "p50_rate": verdict.Regressed, result.MetricCPUPerOp: verdict.Inconclusive, result.MetricP99: verdict.Unchanged},
			verdict.OutcomeRegression, []string{result.MetricP50}, []string{result.MetricCPUPerOp}},
		{"none confirmed", 0, 0,
			map[string]string{result.MetricP50: verdict.Inconclusive, "p50_rate": verdict.Inconclusive, result.MetricCPUPerOp: verdict.Inconclusive, result.MetricP99: verdict.Unchanged},
			verdict.OutcomePass, nil, []string{result.MetricP50, result.MetricCPUPerOp}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := firstVerdict(t)
			before := decisions(first)
			// The re-run measures p99 too, a worse one even: it is not
			// judged again, and does not dilute the re-run's FDR.
			b, h := interleavedSets(
				metricRuns{result.MetricP50, rerunBase, slower(rerunBase, tt.p50)},
				metricRuns{result.MetricP99, rerunBase, slower(rerunBase, 0.30)},
				metricRuns{result.MetricCPUPerOp, rerunBase, slower(rerunBase, tt.cpu)},
			)
			v, err := Confirm(first, b, h, pairedPolicy())
			if err != nil {
				t.Fatal(err)
			}
			if got := decisions(v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decisions %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(decisions(first), before) {
				t.Error("Confirm changed the first verdict")
			}
			if v.Summary.Outcome != tt.outcome || v.Summary.Regressed != len(tt.confirmed) || v.Summary.Inconclusive != len(tt.unconfirmd) {
				t.Errorf("summary %+v, want outcome %s with %d regressed, %d inconclusive", v.Summary, tt.outcome, len(tt.confirmed), len(tt.unconfirmd))
			}
			c := v.Confirmation
			if c == nil || c.Pairs != 9 || c.Alpha != 0.01 || c.First.Pairs != 10 || c.First.Outcome != verdict.OutcomeRegression || !c.First.CreatedAt.Equal(first.CreatedAt) {
				t.Fatalf("confirmation %+v, want 9 pairs at alpha 0.01 after a regression on 10 pairs", c)
			}
			var yes, no []string
			for _, r := range c.Comparisons {
				if r.Confirmed {
					yes = append(yes, r.Metric)
				} else {
					no = append(no, r.Metric)
				}
			}
			if !reflect.DeepEqual(yes, tt.confirmed) || !reflect.DeepEqual(no, tt.unconfirmd) {
				t.Errorf("confirmed %v, not confirmed %v; want %v, %v", yes, no, tt.confirmed, tt.unconfirmd)
			}
			for _, cm := range v.Comparisons {
				switch {
				case slices.Contains(tt.unconfirmd, cm.Metric) && !strings.HasPrefix(cm.Reason, "not confirmed by a re-run of 9 pairs: "):
					t.Errorf("%s: reason %q, want the note that the re-run did not confirm it", cm.Metric, cm.Reason)
				case slices.Contains(tt.confirmed, cm.Metric) && !strings.Contains(cm.Reason, "; confirmed by a re-run of 9 pairs: +10.0% ["):
					t.Errorf("%s: reason %q, want the re-run's numbers", cm.Metric, cm.Reason)
				}
			}
		})
	}
}

// TestConfirmNumbers checks the re-run's numbers of a confirmed latency
// regression against a paired t test computed here with gonum: the re-run
// judges only p50 and cpu_per_op, two families of one comparison each, so
// the adjusted p is twice the raw one (Bonferroni across the families;
// Benjamini–Hochberg of one p is that p) — the p99 the re-run also
// measured is not among them.
func TestConfirmNumbers(t *testing.T) {
	first := firstVerdict(t)
	rb := spread(200, 0.04, 9)
	rh := slower(rb, 0.10)
	b, h := interleavedSets(
		metricRuns{result.MetricP50, rb, rh},
		metricRuns{result.MetricP99, rb, rb},
		metricRuns{result.MetricCPUPerOp, rb, rh},
	)
	v, err := Confirm(first, b, h, pairedPolicy())
	if err != nil {
		t.Fatal(err)
	}
	d := make([]float64, len(rb))
	for i := range rb {
		d[i] = math.Log(rh[i] / rb[i])
	}
	mean, sd := stat.MeanStdDev(d, nil)
	tstat := mean / (sd / math.Sqrt(float64(len(d))))
	wantP := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(d) - 1)}.Survival(math.Abs(tstat))
	for _, r := range v.Confirmation.Comparisons {
		if r.Metric != result.MetricP50 {
			continue
		}
		if math.Abs(r.PValue-wantP) > 1e-9*wantP || math.Abs(r.PAdjusted-2*wantP) > 1e-9*wantP {
			t.Errorf("p50 re-run p %v adjusted %v, want %v and %v", r.PValue, r.PAdjusted, wantP, 2*wantP)
		}
		if math.Abs(r.Change-0.10) > 0.002 || r.CILow > r.Change || r.CIHigh < r.Change {
			t.Errorf("p50 re-run change %v [%v, %v], want +10%% within its interval", r.Change, r.CILow, r.CIHigh)
		}
		return
	}
	t.Fatal("no re-run of p50 recorded")
}

// TestConfirmLooks: a sequential re-run of a CPU-per-request regression
// found on 10 pairs looks at 9 and 18 pairs — 9 is the fewest with which
// the exact signed-rank test can reach a look's level, half of α 0.01
// (2/2⁹ < 0.005 < 2/2⁸) — and stops at the first look that confirms or
// clears the regression, going on only while it cannot tell.
func TestConfirmLooks(t *testing.T) {
	base := spread(100, 0.05, 10)
	fb, fh := interleavedSets(metricRuns{result.MetricCPUPerOp, base, slower(base, 0.10)})
	first, err := Compare(fb, fh, pairedPolicy())
	if err != nil {
		t.Fatal(err)
	}
	plan := ConfirmLooks(first, pairedPolicy())
	if !slices.Equal(plan, Looks{9, 18}) {
		t.Fatalf("ConfirmLooks = %v, want 9,18", plan)
	}
	tests := []struct {
		name      string
		pairs     int
		head      func([]float64, float64) []float64
		shift     float64
		confirmed bool
		look      int
		spent     float64 // α × the look's new pairs / 18: half
		goOn      bool
	}{
		{"confirmed at the first look", 9, slower, 0.10, true, 1, 0.005, false},
		{"cleared at the first look", 9, slower, 0, false, 1, 0.005, false},
		{"undecided at the first look: go on", 9, noisier, 0.10, false, 1, 0.005, true},
		{"confirmed at the second look", 18, slower, 0.10, true, 2, 0.005, false},
		{"undecided at the last look: not confirmed", 18, noisier, 0.10, false, 2, 0.005, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := spread(200, 0.04, tt.pairs)
			b, h := interleavedSets(metricRuns{result.MetricCPUPerOp, rb, tt.head(rb, tt.shift)})
			p := pairedPolicy()
			p.Looks = plan
			v, err := Confirm(first, b, h, p)
			if err != nil {
				t.Fatal(err)
			}
			c := v.Confirmation
			if c == nil || c.Sequential == nil || len(c.Comparisons) != 1 {
				t.Fatalf("confirmation %+v, want one sequential re-run", c)
			}
			s := c.Sequential
			if c.Comparisons[0].Confirmed != tt.confirmed || s.Look != tt.look || s.Continue != tt.goOn || !slices.Equal(s.Looks, plan) || s.Pairs != tt.pairs {
				t.Errorf("confirmed %v (%s) at look %d of %v on %d pairs, continue %v (%s); want confirmed %v at look %d on %d, continue %v",
					c.Comparisons[0].Confirmed, c.Comparisons[0].Reason, s.Look, s.Looks, s.Pairs, s.Continue, s.Reason, tt.confirmed, tt.look, tt.pairs, tt.goOn)
			}
			if math.Abs(c.Alpha-tt.spent) > 1e-12 || math.Abs(s.Spent-tt.spent) > 1e-12 || s.Alpha != 0.01 {
				t.Errorf("re-run tested at %v (look spent %v of %v), want %v of 0.01", c.Alpha, s.Spent, s.Alpha, tt.spent)
			}
			if want := map[bool]string{true: verdict.OutcomeRegression, false: verdict.OutcomePass}[tt.confirmed]; v.Summary.Outcome != want {
				t.Errorf("outcome %s, want %s", v.Summary.Outcome, want)
			}
		})
	}
	if plan := ConfirmLooks(&verdict.Verdict{}, pairedPolicy()); plan != nil {
		t.Errorf("ConfirmLooks of a verdict with nothing regressed = %v, want none", plan)
	}
}

func TestConfirmNothingToConfirm(t *testing.T) {
	base := spread(100, 0.05, 10)
	b, h := interleavedSets(metricRuns{result.MetricP99, base, slower(base, 0)})
	first, err := Compare(b, h, pairedPolicy())
	if err != nil {
		t.Fatal(err)
	}
	v, err := Confirm(first, b, h, pairedPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if v.Confirmation != nil || !reflect.DeepEqual(v, first) {
		t.Errorf("nothing to confirm: got %+v, want a copy of the first verdict", v.Confirmation)
	}
	if n := ConfirmPairs(first, pairedPolicy()); n != 0 {
		t.Errorf("ConfirmPairs = %d with nothing regressed, want 0", n)
	}
}

func TestConfirmMismatch(t *testing.T) {
	first := firstVerdict(t)
	rb := spread(200, 0.04, 8)
	b, h := interleavedSets(metricRuns{result.MetricP50, rb, slower(rb, 0.1)}) // no cpu_per_op
	_, err := Confirm(first, b, h, pairedPolicy())
	if err == nil || !strings.Contains(err.Error(), "cpu_per_op") {
		t.Errorf("re-run without cpu_per_op: error %v, want one naming it", err)
	}
}

// TestConfirmPairs: the smallest n with 2/2ⁿ below alpha over the
// families regressed (alpha 0.01: 2⁸ = 256 > 200, so 8; over two
// families 0.005: 2⁹ = 512 > 400, so 9), at least half the pairs the
// first verdict decided on, and the pairs its intervals' noise asks for, up
// to its design's pairs.
//
// The noisy cases' bounds come from an independent simulation
// (testdata/confirm_power.py, 10 000 draws per size, its own
// exact signed-rank and t distributions): lo is the first size its power
// reaches 0.76, hi the first it reaches 0.84 — ConfirmPairs's 1 000 draws
// estimate a power near 0.8 within ±0.04 (three standard errors).
func TestConfirmPairs(t *testing.T) {
	reg := func(metric string, n int) verdict.Comparison {
		return verdict.Comparison{Scenario: "s", Operation: "overall", Metric: metric, Decision: verdict.Regressed, NBase: n, NHead: n}
	}
	// noisy is reg with a change e, its interval and the threshold 5 %.
	noisy := func(metric string, n int, e, lo, hi float64) verdict.Comparison {
		c := reg(metric, n)
		c.Change, c.CILow, c.CIHigh, c.Threshold = e, lo, hi, 0.05
		return c
	}
	look := func(spent float64, looks ...int) *verdict.Sequential {
		return &verdict.Sequential{Pairs: looks[0], Looks: looks, Alpha: 0.01, Spent: spent}
	}
	cpu := result.MetricCPUPerOp
	tests := []struct {
		name   string
		v      verdict.Verdict
		alpha  float64
		lo, hi int
	}{
		{"one family", verdict.Verdict{Comparisons: []verdict.Comparison{reg("p50", 10)}}, 0.01, 8, 8},
		{"two families", verdict.Verdict{Comparisons: []verdict.Comparison{reg("p50", 10), reg(cpu, 10)}}, 0.01, 9, 9},
		{"half of many pairs", verdict.Verdict{Comparisons: []verdict.Comparison{reg("p50", 40)}}, 0.01, 20, 20},
		{"half of a sequential look", verdict.Verdict{Comparisons: []verdict.Comparison{reg("p50", 30)}, Sequential: &verdict.Sequential{Pairs: 23}}, 0.01, 12, 12},
		{"alpha 0.05", verdict.Verdict{Comparisons: []verdict.Comparison{reg("p50", 6)}}, 0.05, 6, 6}, // 2/2⁶ < 0.05; but MinSamplesForAlpha(0.05) = 4, half of 6 = 3
		{"follows only", verdict.Verdict{Comparisons: []verdict.Comparison{{Metric: "B/s", Decision: verdict.Regressed, Follows: "sec/op"}}}, 0.01, 0, 0},
		// The reference's power at 8 pairs: 0.990.
		{"narrow interval", verdict.Verdict{Alpha: 0.01, Comparisons: []verdict.Comparison{noisy(cpu, 20, 0.12, 0.09, 0.15)}}, 0.01, 10, 10},
		// A first look of m18-run ab with both cores busy: 0.742 at 8, 0.889 at 9.
		{"a noisy first look", verdict.Verdict{Alpha: 0.005, Sequential: look(0.005, 10, 15, 20), Comparisons: []verdict.Comparison{noisy(cpu, 10, 0.1284, 0.032, 0.198)}}, 0.01, 9, 9},
		// 0.790 at 14, 0.827 at 15, 0.873 at 16.
		{"an early look", verdict.Verdict{Alpha: 0.0031, Sequential: look(0.0031, 8, 15, 20), Comparisons: []verdict.Comparison{noisy(cpu, 8, 0.11, -0.03, 0.25)}}, 0.01, 14, 16},
		// The paired t test: 0.795 at 11, 0.842 at 12.
		{"latency", verdict.Verdict{Alpha: 0.005, Sequential: look(0.005, 10, 15, 20), Comparisons: []verdict.Comparison{noisy("p50", 10, 0.14, 0.01, 0.28)}}, 0.01, 11, 12},
		// The design planned 10 pairs (0.744); 0.814 at 11 is out of reach.
		{"wider than the design", verdict.Verdict{Alpha: 0.01, Comparisons: []verdict.Comparison{noisy(cpu, 10, 0.11, 0.02, 0.20)}}, 0.01, 10, 10},
	}
	for _, tt := range tests {
		p := DefaultPolicy()
		p.Alpha = tt.alpha
		if got := ConfirmPairs(&tt.v, p); got < tt.lo || got > tt.hi {
			t.Errorf("%s: ConfirmPairs = %d, want %d … %d", tt.name, got, tt.lo, tt.hi)
		}
	}
}

// TestConfirmationRoundTrip: a confirmed verdict survives Encode and
// Decode whole, and Decode refuses a confirmation that contradicts itself.
func TestConfirmationRoundTrip(t *testing.T) {
	first := firstVerdict(t)
	rb := spread(200, 0.04, 8)
	b, h := interleavedSets(
		metricRuns{result.MetricP50, rb, slower(rb, 0.1)},
		metricRuns{result.MetricCPUPerOp, rb, rb},
	)
	v, err := Confirm(first, b, h, pairedPolicy())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := verdict.Encode(&buf, v); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	got, err := verdict.Decode(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Confirmation, v.Confirmation) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got.Confirmation, v.Confirmation)
	}
	for _, bad := range []struct {
		change func(*verdict.Confirmation)
		want   string
	}{
		{func(c *verdict.Confirmation) { c.Comparisons[1].Confirmed = true }, "confirmed"},
		{func(c *verdict.Confirmation) { c.Comparisons[0].Decision = "maybe" }, "decision"},
		{func(c *verdict.Confirmation) { c.Pairs = -1 }, "confirmation.pairs"},
		{func(c *verdict.Confirmation) { c.First.Outcome = "" }, "confirmation.first.outcome"},
	} {
		w, _ := verdict.Decode(strings.NewReader(good))
		bad.change(w.Confirmation)
		buf.Reset()
		if err := verdict.Encode(&buf, w); err != nil {
			t.Fatal(err)
		}
		if _, err := verdict.Decode(&buf); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("error %v, want one naming %s", err, bad.want)
		}
	}
}
