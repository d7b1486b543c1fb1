package tasks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/window"
)

// TestAnalyzeBursts feeds windows of known latencies: a 1 ms baseline, a
// burst from 4 s to 6 s, a queue that keeps p99 high until 9 s.
func TestAnalyzeBursts(t *testing.T) {
	a := scenario.Arrival{Pattern: "burst_sequence", BaseRate: 100, Multipliers: []float64{10}, BurstDurationSec: 2, GapSec: 4}
	start := time.Now()
	wins := window.New(time.Second, start)
	for ms := 0; ms < 10_000; ms += 10 {
		at := time.Duration(ms) * time.Millisecond
		lat := time.Millisecond
		if at >= 4*time.Second && at < 9*time.Second {
			lat = 200 * time.Millisecond
		}
		o := load.Outcome(200)
		if at >= 4*time.Second && at < 6*time.Second && ms%100 == 0 {
			o = 503 // 10 % errors in the burst
		}
		wins.Observe(load.Sample{Intended: at, Latency: lat, Outcome: o})
	}
	br := &BurstResult{Windows: wins.Windows()}
	analyzeBursts(br, wins, a, 10*time.Second, BurstBudget(BudgetPR))
	if len(br.Bursts) != 1 {
		t.Fatalf("bursts %+v", br.Bursts)
	}
	b := br.Bursts[0]
	if !b.Recovered || b.RecoverySeconds != 3 || b.StartSeconds != 4 || b.EndSeconds != 6 {
		t.Errorf("burst %+v: want recovery 3 s after the 4–6 s burst", b)
	}
	if br.BaselineP99Ms < 0.99 || br.BaselineP99Ms > 1.01 || br.ThresholdMs != br.BaselineP99Ms+0.5 {
		t.Errorf("baseline %.3f threshold %.3f", br.BaselineP99Ms, br.ThresholdMs)
	}
	if br.ErrorRateInBursts < 0.099 || br.ErrorRateInBursts > 0.101 || br.ErrorRateOutBursts != 0 {
		t.Errorf("errors in %.3f out %.3f", br.ErrorRateInBursts, br.ErrorRateOutBursts)
	}
	// A queue that never drains before the end: not recovered, and the
	// recovery is the lower bound of the time left.
	wins2 := window.New(time.Second, start)
	for ms := 0; ms < 10_000; ms += 10 {
		lat := time.Millisecond
		if ms >= 4000 {
			lat = time.Second
		}
		wins2.Observe(load.Sample{Intended: time.Duration(ms) * time.Millisecond, Latency: lat, Outcome: 200})
	}
	br2 := &BurstResult{Windows: wins2.Windows()}
	analyzeBursts(br2, wins2, a, 10*time.Second, BurstBudget(BudgetPR))
	if br2.AllRecovered || br2.MaxRecoverySeconds != 4 {
		t.Errorf("never-draining queue: recovered %v after %.1f s", br2.AllRecovered, br2.MaxRecoverySeconds)
	}
}

// TestBurstRecoveryFollowsQueue: a 10× burst against a target admitting
// 200 ops/s builds a queue of (500 − 200) × 2 s = 600 requests, which
// drains at 200 − 50 = 150 ops/s: about 4 s. The measured recovery must be
// in line with that (within a factor of 2; the windows are 1 s wide).
func TestBurstRecoveryFollowsQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 24 s burst against a capacity-limited target")
	}
	const base, mult, burst, gap, capacity = 50.0, 10.0, 2.0, 12.0, 200.0
	file := filepath.Join(t.TempDir(), "burst.toml")
	os.WriteFile(file, []byte(`# test
name = "capacity burst"
[duration]
total_seconds = 26
[arrival]
pattern = "burst_sequence"
base_rate = 50.0
multipliers = [10.0]
burst_duration_sec = 2
gap_sec = 12
[operations]
recall_weight = 1
embedding_search_weight = 1
[data]
num_nodes = 500
embedding_dim = 768
`), 0o644)
	cfg := BurstBudget(BudgetPR)
	cfg.Runs = []BurstRun{{Scenario: file}}
	cfg.Nodes, cfg.Warmup = 500, time.Second
	// The queue's latencies are seconds; a generator late by tens of
	// milliseconds on a shared 2-core machine does not change them.
	cfg.Limits = load.Limits{LateAfter: 50 * time.Millisecond, DropAfter: time.Second, MaxLateFraction: 0.05, MaxDroppedFraction: 0.01}
	env := Env{Budget: BudgetPR, Seed: 3, Dir: t.TempDir(), Duration: 24 * time.Second}
	env.TargetOptions.Capacity = capacity
	o, err := BurstTraffic(context.Background(), env, cfg)
	if err != nil && !errors.Is(err, load.ErrGeneratorBottleneck) {
		t.Fatal(err)
	}
	var rep BurstReport
	trSection(t, trRoundTrip(t, o.Document), "003", &rep)
	b := rep.Runs[0].Bursts[0]
	drain := (base*mult - capacity) * burst / (capacity - base)
	t.Logf("burst p99 %.0f ms, peak window p99 %.0f ms; recovery %.0f s (recovered %v), queue drain %.1f s; baseline p99 %.2f ms",
		b.P99Ms, b.PeakP99Ms, b.RecoverySeconds, b.Recovered, drain, rep.Runs[0].BaselineP99Ms)
	if err != nil {
		t.Skipf("the generator could not keep a 500 ops/s schedule on this machine: %v", err)
	}
	if !b.Recovered || b.RecoverySeconds < drain/2 || b.RecoverySeconds > 2*drain {
		t.Errorf("recovery %.1f s (recovered %v), want within a factor 2 of the %.1f s drain", b.RecoverySeconds, b.Recovered, drain)
	}
	// The queue shows: p99 during the burst is hundreds of milliseconds
	// (the last burst request waits about drain + burst seconds).
	if b.PeakP99Ms < 1000 {
		t.Errorf("peak window p99 %.0f ms: no queue built?", b.PeakP99Ms)
	}
}

func TestBurstsPR(t *testing.T) {
	if testing.Short() {
		t.Skip("runs task 003's pr budget (about 37 s)")
	}
	env := Env{Budget: BudgetPR, Seed: 0xDEADBEEF, Dir: t.TempDir()}
	o, err := BurstTraffic(context.Background(), env, BurstBudget(BudgetPR))
	if err != nil && !errors.Is(err, load.ErrGeneratorBottleneck) {
		t.Fatal(err)
	}
	var rep BurstReport
	trSection(t, trRoundTrip(t, o.Document), "003", &rep)
	r := rep.Runs[0]
	if len(r.Bursts) != 3 || r.Bursts[2].Multiplier != 10 || r.Bursts[2].StartSeconds != 24 || len(r.Windows) < 32 {
		t.Fatalf("bursts %+v, %d windows", r.Bursts, len(r.Windows))
	}
	// The bursts were sent at their rate: the 10× burst's windows hold
	// about 1000 requests each.
	for _, w := range r.Windows[24:27] {
		if w.Count < 950 || w.Count > 1050 {
			t.Errorf("window at %.0f s has %d requests, want about 1000", w.StartSeconds, w.Count)
		}
	}
	if err != nil {
		t.Logf("the generator slipped on this machine; recovery not asserted: %v", err)
		return
	}
	// The criteria judge the target on this machine (the in-process
	// reference target shares two cores with the generator), not the task:
	// a recovery slower than 5 s is a finding, not a defect. What the task
	// must do is evaluate every criterion and say what it measured.
	if len(o.Checks) == 0 {
		t.Fatal("no criteria evaluated")
	}
	for _, c := range o.Checks {
		if c.Name == "" || c.Message == "" {
			t.Errorf("criterion without a name or message: %+v", c)
		}
		if !c.Passed {
			t.Logf("criterion not met on this machine: %s", c.Message)
		}
	}
}
