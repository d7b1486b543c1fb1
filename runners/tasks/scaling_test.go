package tasks

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// TestFitScaling recovers a known memory slope and overhead from synthetic
// points: memory = 20 MiB + 5000 B·N (+ noise of 1 MiB), capacity falling
// from 1000 to 800 ops/s.
func TestFitScaling(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rep := &ScalingReport{}
	sizes := []int{10_000, 50_000, 100_000, 500_000, 1_000_000}
	caps := []float64{1000, 950, 900, 850, 800}
	for i, n := range sizes {
		mem := 20<<20 + 5000*float64(n) + (1<<20)*rng.NormFloat64()
		rep.Points = append(rep.Points, ScalingPoint{Nodes: n, TargetBytes: int64(mem), CapacityOpsSec: caps[i]})
	}
	// A skipped size is not fitted.
	rep.Points = append(rep.Points, ScalingPoint{Nodes: 10_000_000, Skipped: true, TargetBytes: 1})
	rep.FitScaling()
	if math.Abs(rep.BytesPerNode-5000) > 10 {
		t.Errorf("bytes per node %.1f, want 5000", rep.BytesPerNode)
	}
	// Overhead = 5000 / (768·4 + 128) = 5000 / 3200 = 1.5625.
	if math.Abs(rep.Overhead-1.5625) > 0.005 {
		t.Errorf("overhead %.4f, want 1.5625", rep.Overhead)
	}
	if math.Abs(rep.MemoryFit.Intercept-20<<20) > 2<<20 {
		t.Errorf("intercept %.0f, want about %d", rep.MemoryFit.Intercept, 20<<20)
	}
	if rep.MemoryFit.R2 < 0.999 || rep.MemoryFit.N != 5 {
		t.Errorf("fit %+v, want R² ≈ 1 over 5 points", rep.MemoryFit)
	}
	// (1 − 800/1000) = 20 %.
	if math.Abs(rep.DegradationPct-20) > 1e-9 {
		t.Errorf("degradation %.3f %%, want 20", rep.DegradationPct)
	}
	cs := scalingChecks(ScalingBudget(BudgetNightly), rep, true)
	for _, c := range cs {
		t.Logf("%s", c.Message)
	}
}

// TestScalingPR runs the pr budget (1K, 5K, 10K nodes) plus a size that
// cannot fit, which must be skipped with the reason.
func TestScalingPR(t *testing.T) {
	if resRace {
		t.Skip("asserts outcomes of real load, which the race detector's slowdown distorts")
	}
	if testing.Short() {
		t.Skip("runs the pr-budget scaling (about 30 s)")
	}
	cfg := ScalingBudget(BudgetPR)
	cfg.Sizes = append(cfg.Sizes, 100_000_000_000)
	env := Env{Budget: BudgetPR, Seed: 3}
	if testing.Verbose() {
		env.Progress = os.Stderr
	}
	out, err := Scaling(context.Background(), env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := out.Document.Tasks["004"].(*ScalingReport)
	var back ScalingReport
	roundTrip(t, out, "004", &back)
	if len(back.Points) != 4 || back.Overhead != rep.Overhead {
		t.Errorf("section after the round trip: %d points, overhead %v (want 4, %v)", len(back.Points), back.Overhead, rep.Overhead)
	}
	if len(rep.Points) != 4 {
		t.Fatalf("%d points, want 4", len(rep.Points))
	}
	huge := rep.Points[3]
	if !huge.Skipped || !strings.Contains(huge.SkipReason, "GiB") || len(out.Skipped) != 1 {
		t.Errorf("100G nodes: skipped=%v reason %q; outcome skipped %v", huge.Skipped, huge.SkipReason, out.Skipped)
	}
	small, large := rep.Points[0], rep.Points[2]
	for _, p := range rep.Points[:3] {
		t.Logf("%6d nodes: target %.1f MB (overhead %.2f), capacity %.0f ops/s, p99 %.2f ms at %.0f ops/s, preload %.0f/s",
			p.Nodes, float64(p.TargetBytes)/(1<<20), p.Overhead, p.CapacityOpsSec, p.P99Ms, p.RateOpsSec, p.PreloadRate)
		if p.Skipped || p.CapacityOpsSec <= 0 || p.P99Ms <= 0 || p.TargetBytes <= 0 {
			t.Errorf("%d nodes: not measured: %+v", p.Nodes, p)
		}
	}
	// Monotone-ish: ten times the nodes holds more memory and does not
	// serve more (a linear-scan target serves less).
	if large.TargetBytes <= small.TargetBytes {
		t.Errorf("memory %d B at 10K ≤ %d B at 1K", large.TargetBytes, small.TargetBytes)
	}
	if large.CapacityOpsSec > 1.3*small.CapacityOpsSec {
		t.Errorf("capacity %.0f ops/s at 10K > 1.3 × %.0f at 1K", large.CapacityOpsSec, small.CapacityOpsSec)
	}
	if rep.Overhead < 0.8 || rep.Overhead > 4 {
		t.Errorf("overhead %.2f × of %d B/node is implausible", rep.Overhead, NodeBytes)
	}
	for _, c := range out.Checks {
		t.Logf("%s", c.Message)
	}
}

// TestScalingNightly runs the nightly budget (10K, 100K, 1M nodes) once:
// about 10 minutes and 4 GB here. M18_LONG=1 go test -run ScalingNightly -v
// -timeout 30m ./runners/tasks/
func TestScalingNightly(t *testing.T) {
	if os.Getenv("M18_LONG") != "1" {
		t.Skip("set M18_LONG=1 to run the nightly scaling (about 10 minutes, 4 GB)")
	}
	env := Env{Budget: BudgetNightly, Seed: 3, Progress: os.Stderr}
	out, err := Scaling(context.Background(), env, ScalingBudget(BudgetNightly))
	if err != nil {
		t.Fatal(err)
	}
	rep := out.Document.Tasks["004"].(*ScalingReport)
	for _, p := range rep.Points {
		t.Logf("%8d nodes: %.0fs, preload %.0f/s, RSS %.0f MB, target %.0f MB (overhead %.2f), capacity %.1f ops/s, p99 %.2f ms at %.1f ops/s %s",
			p.Nodes, p.Seconds, p.PreloadRate, float64(p.RSSBytes)/(1<<20), float64(p.TargetBytes)/(1<<20), p.Overhead, p.CapacityOpsSec, p.P99Ms, p.RateOpsSec, p.SkipReason)
	}
	for _, c := range out.Checks {
		t.Logf("%s", c.Message)
	}
	if measuredCount(rep.Points) != 3 {
		t.Errorf("nightly measured %d of 3 sizes", measuredCount(rep.Points))
	}
}
