package tasks

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
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
	lats := newWindowLatencies(time.Second)
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
		s := load.Sample{Intended: at, Latency: lat, Outcome: o}
		wins.Observe(s)
		lats.Observe(s)
	}
	br := &BurstResult{Windows: wins.Windows()}
	analyzeBursts(br, wins, lats, a, 10*time.Second, BurstBudget(BudgetPR))
	if len(br.Bursts) != 1 {
		t.Fatalf("bursts %+v", br.Bursts)
	}
	b := br.Bursts[0]
	if !b.Recovered || b.RecoverySeconds != 3 || b.StartSeconds != 4 || b.EndSeconds != 6 {
		t.Errorf("burst %+v: want recovery 3 s after the 4–6 s burst", b)
	}
	// The gap's last third, in whole windows: 8–10 s, half of it queued.
	if b.SettledSeconds != 2 || b.SettledSlowFraction != 0.5 || b.SettledP99Ms != 200 {
		t.Errorf("settled over %.0f s: %.3f slow, p99 %.1f ms; want 2 s, 0.5, 200 ms", b.SettledSeconds, b.SettledSlowFraction, b.SettledP99Ms)
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
	lats2 := newWindowLatencies(time.Second)
	for ms := 0; ms < 10_000; ms += 10 {
		lat := time.Millisecond
		if ms >= 4000 {
			lat = time.Second
		}
		s := load.Sample{Intended: time.Duration(ms) * time.Millisecond, Latency: lat, Outcome: 200}
		wins2.Observe(s)
		lats2.Observe(s)
	}
	br2 := &BurstResult{Windows: wins2.Windows()}
	analyzeBursts(br2, wins2, lats2, a, 10*time.Second, BurstBudget(BudgetPR))
	if br2.AllRecovered || br2.MaxRecoverySeconds != 4 {
		t.Errorf("never-draining queue: recovered %v after %.1f s", br2.AllRecovered, br2.MaxRecoverySeconds)
	}
	if b := br2.Bursts[0]; b.SettledSlowFraction != 1 || !strings.Contains(b.settled(), "had 100.0 % of requests over 1.50 ms, the reference 1.0 %") {
		t.Errorf("never-draining queue: %.3f of the gap's end slow, want 1; said %q", b.SettledSlowFraction, b.settled())
	}
}

// TestRecoveryIgnoresNoise is the failure seen on a quiet machine: after a
// burst that queued nothing, each window of 100 requests holds two or three
// requests a few milliseconds slow (a shared machine's hiccups), so every
// window's p99 is above the baseline's threshold; the recovery is
// immediate all the same. The same windows with a fifth of their requests
// slow (a queue draining) are not recovered, and a target that answers
// every request with an error, fast, has not recovered until it serves.
func TestRecoveryIgnoresNoise(t *testing.T) {
	a := scenario.Arrival{Pattern: "burst_sequence", BaseRate: 100, Multipliers: []float64{10}, BurstDurationSec: 2, GapSec: 6}
	for _, tc := range []struct {
		name      string
		slowEvery int // one request in slowEvery after the burst is slow; 0: all fail for 3 s
		recovered bool
		recovery  float64
		settled   float64 // the share of slow requests at the gap's end
	}{
		{"hiccups", 40, true, 0, 0.025}, // 2–3 of 100: p99 above threshold
		{"queue", 5, false, 6, 0.2},     // 20 of 100
		{"clean", 1 << 30, true, 0, 0},
		{"failing fast", 0, true, 3, 0}, // every request fails, fast, for 3 s
	} {
		wins := window.New(time.Second, time.Now())
		lats := newWindowLatencies(time.Second)
		i := 0
		for ms := 0; ms < 14_000; ms += 10 {
			at := time.Duration(ms) * time.Millisecond
			lat := time.Millisecond + time.Duration(ms%7)*10*time.Microsecond // 1.00–1.06 ms
			o := load.Outcome(200)
			if ms >= 8000 && tc.slowEvery > 0 {
				i++
				if i%tc.slowEvery == 0 {
					lat = 6 * time.Millisecond
				}
			}
			if ms >= 8000 && ms < 11_000 && tc.slowEvery == 0 {
				lat, o = 100*time.Microsecond, 503
			}
			s := load.Sample{Intended: at, Latency: lat, Outcome: o}
			wins.Observe(s)
			lats.Observe(s)
		}
		br := &BurstResult{Windows: wins.Windows()}
		analyzeBursts(br, wins, lats, a, 14*time.Second, BurstBudget(BudgetPR))
		b := br.Bursts[0]
		if b.Recovered != tc.recovered || b.RecoverySeconds != tc.recovery {
			t.Errorf("%s: recovered %v after %.0f s, want %v after %.0f s (%+v)", tc.name, b.Recovered, b.RecoverySeconds, tc.recovered, tc.recovery, b.RecoveryWindow)
		}
		if math.Abs(b.SettledSlowFraction-tc.settled) > 0.005 || b.SettledSeconds != 2 {
			t.Errorf("%s: %.4f slow over the gap's last %.0f s, want %.3f over 2 s", tc.name, b.SettledSlowFraction, b.SettledSeconds, tc.settled)
		}
		if tc.name == "hiccups" {
			if w := br.Windows[8]; w.P99 <= b.ThresholdMs {
				t.Errorf("hiccups: window p99 %.2f ms is under the threshold %.2f ms; the case does not test noise", w.P99, b.ThresholdMs)
			}
			if rw := b.RecoveryWindow; rw == nil || rw.Slow == 0 || rw.Slow > rw.Tolerated || rw.Tolerated != 5 {
				t.Errorf("hiccups: recovery window %+v, want a few slow requests tolerated (5 of 100 at p0 = 0.01, α = 0.001)", rw)
			}
		}
	}
}

// TestBinomialCritical checks the tolerated count against values computed
// independently (exact binomial tails summed in Python's integers).
func TestBinomialCritical(t *testing.T) {
	for _, tc := range []struct {
		n        uint64
		p, alpha float64
		want     uint64
	}{
		{100, 0.01, 0.001, 5}, {1000, 0.01, 0.001, 21}, {100, 0.05, 0.01, 11}, {10, 0.01, 0.001, 2}, {500, 0.02, 0.001, 21},
		{0, 0.01, 0.001, 0}, {50, 0, 0.001, 0},
	} {
		if got := binomialCritical(tc.n, tc.p, tc.alpha); got != tc.want {
			t.Errorf("binomialCritical(%d, %g, %g) = %d, want %d", tc.n, tc.p, tc.alpha, got, tc.want)
		}
	}
}

// TestBurstRecoveryFollowsQueue: a 10× burst against a target admitting
// 200 ops/s builds a queue of the burst's excess requests, (500 − 200) ×
// 2 s = 600 when the generator sends on time, which drains at 200 − 50 =
// 150 ops/s: about 4 s. The expected drain is computed from the requests
// actually counted in the burst's windows, and the measured recovery must
// be in line with it: within 0.3× to 3× the drain, plus a window (1 s) of
// resolution. The queue shows in the burst's peak p99 (the last request
// of the burst waits for the excess ahead of it), and the target never
// rejects: no errors in or out of the burst.
func TestBurstRecoveryFollowsQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an 18-s burst against a capacity-limited target")
	}
	const base, burstSec, capacity = 50.0, 2.0, 200.0
	file := filepath.Join(t.TempDir(), "burst.toml")
	os.WriteFile(file, []byte(`# test
name = "capacity burst"
[duration]
total_seconds = 18
[arrival]
pattern = "burst_sequence"
base_rate = 50.0
multipliers = [10.0]
burst_duration_sec = 2
gap_sec = 8
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
	// The queue's latencies are seconds, falling by 0.75 s a second as it
	// drains: a window counts as recovered 100 ms above the baseline p99,
	// which moves the recovery by about 0.13 s and keeps a shared
	// machine's hiccups (tens of milliseconds, in any window after the
	// drain) from hiding it. Likewise a generator late by tens of
	// milliseconds does not change the queue.
	cfg.NoiseFloorMs = 100
	cfg.Limits = load.Limits{LateAfter: 50 * time.Millisecond, DropAfter: time.Second, MaxLateFraction: 0.05, MaxDroppedFraction: 0.01}
	env := Env{Budget: BudgetPR, Seed: 3, Dir: t.TempDir(), Duration: 18 * time.Second}
	env.TargetOptions.Capacity = capacity
	_, run, err := runBursts(t, env, cfg)
	b := run.Bursts[0]
	// Requests intended in the burst, counted by window (by intended send
	// time), less what the target admits meanwhile.
	var sent uint64
	for _, w := range run.Windows {
		if w.StartSeconds >= b.StartSeconds && w.EndSeconds <= b.EndSeconds {
			sent += w.Count
		}
	}
	excess := float64(sent) - capacity*burstSec
	drain := excess / (capacity - base)
	wait := excess / capacity // of the burst's last request, seconds
	t.Logf("burst: %d requests in %g s, excess %.0f; drain %.2f s, recovery %.0f s (recovered %v); last request's wait %.2f s, burst p99 %.0f ms, peak window p99 %.0f ms; baseline p99 %.2f ms; errors in %.4f out %.4f; generator lag p99 %.1f ms",
		sent, burstSec, excess, drain, b.RecoverySeconds, b.Recovered, wait, b.P99Ms, b.PeakP99Ms, run.BaselineP99Ms, run.ErrorRateInBursts, run.ErrorRateOutBursts, run.Generator.P99LagMs)
	if err != nil {
		t.Logf("the generator slipped (asserted anyway: the drain is computed from the requests it sent): %v", err)
	}
	if excess < 0.5*(base*10-capacity)*burstSec {
		t.Fatalf("only %d requests in the burst: the generator could not send it, no queue to measure", sent)
	}
	if !b.Recovered || b.RecoverySeconds < 0.3*drain || b.RecoverySeconds > 3*drain+1 {
		t.Errorf("recovery %.1f s (recovered %v), want within 0.3×–3× of the %.2f s drain, plus 1 s", b.RecoverySeconds, b.Recovered, drain)
	}
	if p := b.PeakP99Ms / 1000; p < 0.3*wait || p > 3*wait+1 {
		t.Errorf("peak window p99 %.2f s, want within 0.3×–3× of the %.2f s the queue makes the last request wait", p, wait)
	}
	if run.ErrorRateInBursts > 0.01 || run.ErrorRateOutBursts > 0.01 {
		t.Errorf("error rates %.4f in and %.4f out of the burst; a capacity limit queues, it does not fail", run.ErrorRateInBursts, run.ErrorRateOutBursts)
	}
}

func TestBurstsPR(t *testing.T) {
	if testing.Short() {
		t.Skip("runs task 003's pr budget (about 37 s)")
	}
	// The pr budget on a read-only copy of its scenario: with the stores,
	// the gap after a burst settles above its reference on a quiet
	// machine (the file says why), which the criterion rightly reports.
	cfg := BurstBudget(BudgetPR)
	cfg.Runs[0].Scenario = filepath.Join("testdata", "003_bursts_readonly.toml")
	env := Env{Budget: BudgetPR, Seed: 0xDEADBEEF, Dir: t.TempDir()}
	o, r, err := runBursts(t, env, cfg)
	if len(r.Bursts) != 3 || r.Bursts[2].Multiplier != 10 || r.Bursts[2].StartSeconds != 24 || len(r.Windows) < 32 {
		t.Fatalf("bursts %+v, %d windows", r.Bursts, len(r.Windows))
	}
	// The reference target answers every request (no capacity, no failure
	// knob): its error rates, in and out of the bursts, are computed from
	// the windows and near zero. (A 10× burst on a shared machine queues
	// for seconds, well within the 10-s request timeout.)
	var n, e uint64
	for _, w := range r.Windows {
		n, e = n+w.Count, e+w.Errors
	}
	if n == 0 || r.ErrorRateInBursts > 0.01 || r.ErrorRateOutBursts > 0.01 {
		t.Errorf("error rates %.4f in and %.4f out of bursts over %d requests (%d errors): the reference target does not fail", r.ErrorRateInBursts, r.ErrorRateOutBursts, n, e)
	}
	if err != nil {
		t.Logf("the generator slipped on this machine (its sends dropped or late, as the run says); rates and recovery not judged: %v", err)
		return
	}
	// The bursts were sent at their rate: the 10× burst's windows hold
	// about 1000 requests each.
	for _, w := range r.Windows[24:27] {
		if w.Count < 950 || w.Count > 1050 {
			t.Errorf("window at %.0f s has %d requests, want about 1000", w.StartSeconds, w.Count)
		}
	}
	// The reference target absorbs these bursts (100 ops/s base, 1000 at
	// 10×: far below what it carries); whatever a shared machine's noise
	// does to a window's slowest requests, every burst must be judged
	// recovered within the 5 s. (The error and RSS criteria are the
	// target's on this machine, and only logged.)
	for _, b := range r.Bursts {
		if !b.Recovered || b.RecoverySeconds > 5 {
			t.Errorf("%g× burst: recovered %v after %.0f s (window %+v, threshold %.2f ms, peak window p99 %.2f ms; %s); the target absorbs it",
				b.Multiplier, b.Recovered, b.RecoverySeconds, b.RecoveryWindow, b.ThresholdMs, b.PeakP99Ms, b.settled())
		}
	}
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

// runBursts runs task 003 and returns its outcome, its first run's section
// read back from the document, and the run's error: nil, or a generator
// that slipped (any other fails the test).
func runBursts(t *testing.T, env Env, cfg BurstConfig) (*Outcome, BurstResult, error) {
	t.Helper()
	o, err := BurstTraffic(context.Background(), env, cfg)
	if err != nil && !errors.Is(err, load.ErrGeneratorBottleneck) {
		t.Fatal(err)
	}
	var rep BurstReport
	trSection(t, trRoundTrip(t, o.Document), "003", &rep)
	return o, rep.Runs[0], err
}
