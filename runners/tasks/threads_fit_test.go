package tasks

import "testing"

// TestChooseFit: the plateau of an 80 %-serial target measured at
// k = 1…4 (20, 25, 26, 25 ops/s, from a run of the proof) fits as some σ
// and some κ; four points cannot afford κ (AICc), so the predictions use
// Amdahl's σ, which is large. Linear throughputs fit as σ = κ = 0. Ten
// points of a retrograde curve (σ = 0.05, κ = 0.02) keep the full USL.
func TestChooseFit(t *testing.T) {
	ks := []float64{1, 2, 3, 4}
	var rep ThreadsReport
	u, err := chooseFit(ks, []float64{20, 25, 26, 25}, &rep)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Model != "amdahl" || u.Kappa != 0 || u.Sigma < 0.5 || rep.USLFull == nil || rep.USLFull.Kappa == 0 {
		t.Errorf("plateau: model %q σ %.3f κ %.4f, full fit %+v; want amdahl with σ > 0.5 beside a full fit with κ > 0", rep.Model, u.Sigma, u.Kappa, rep.USLFull)
	}
	rep = ThreadsReport{}
	u, err = chooseFit(ks, []float64{20, 40, 60, 80}, &rep)
	if err != nil {
		t.Fatal(err)
	}
	if u.Sigma > 1e-3 || u.Kappa != 0 {
		t.Errorf("linear: σ %g κ %g, want 0", u.Sigma, u.Kappa)
	}
	rep = ThreadsReport{}
	ks = []float64{1, 2, 3, 4, 6, 8, 12, 16, 24, 32}
	xs := make([]float64, len(ks))
	for i, k := range ks {
		xs[i] = 100 * k / (1 + 0.05*(k-1) + 0.02*k*(k-1)) * (1 + 0.01*float64(i%3-1)) // ±1 % noise
	}
	if u, err = chooseFit(ks, xs, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Model != "usl" || u.Kappa < 0.01 {
		t.Errorf("retrograde: model %q κ %g; want the full USL with κ ≈ 0.02", rep.Model, u.Kappa)
	}
}

// TestThreadChecksExtrapolated: an extrapolated efficiency decides only
// when its ±2 SE interval is on one side of the criterion.
func TestThreadChecksExtrapolated(t *testing.T) {
	cfg := ThreadsBudget(BudgetPR)
	for _, tc := range []struct {
		e, se      float64
		want       string // "pass", "fail" or "skip"
		wantChecks int
	}{
		{1, 0, "pass", 2},       // linear, exactly
		{0.09, 0.01, "fail", 2}, // serialised
		{0.67, 0.2, "skip", 0},  // 0.27 … 1.07 straddles 0.8 and 0.9
	} {
		rep := &ThreadsReport{Model: "amdahl", Points: []ThreadPoint{{Threads: 1, Throughput: 20}},
			Predicted: []PredictedEfficiency{{Threads: 16, Efficiency: tc.e, SE: tc.se, Extrapolated: true}, {Threads: 32, Efficiency: tc.e, SE: tc.se, Extrapolated: true}}}
		checks, skipped := threadChecks(rep, cfg)
		if len(checks) != tc.wantChecks || len(checks)+len(skipped) != 2 {
			t.Errorf("%+v: %d checks, %d skipped; want %d checks", tc, len(checks), len(skipped), tc.wantChecks)
			continue
		}
		for _, c := range checks {
			if c.Passed != (tc.want == "pass") {
				t.Errorf("%+v: %s", tc, c.Message)
			}
		}
	}
}
