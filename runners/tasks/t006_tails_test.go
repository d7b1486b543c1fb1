package tasks

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/target"
)

func TestMinSamplesFor(t *testing.T) {
	for _, tt := range []struct {
		q    float64
		want uint64
	}{
		{0.99, 1_000}, {0.999, 10_000}, {0.9999, 100_000}, {0.99999, 1_000_000}, {1, 1_000_000},
	} {
		if got := MinSamplesFor(tt.q); got != tt.want {
			t.Errorf("MinSamplesFor(%v) = %d, want %d", tt.q, got, tt.want)
		}
	}
}

// TestEstimateTailsReliability checks the marking at the boundaries: a
// quantile is reliable from 10/(1−q) samples on, not one before.
func TestEstimateTailsReliability(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want map[string]bool
	}{
		{9_999, map[string]bool{"p99.9": false, "p99.99": false, "p99.999": false, "max": false}},
		{10_000, map[string]bool{"p99.9": true, "p99.99": false, "p99.999": false, "max": false}},
		{99_999, map[string]bool{"p99.9": true, "p99.99": false, "p99.999": false, "max": false}},
		{100_000, map[string]bool{"p99.9": true, "p99.99": true, "p99.999": false, "max": false}},
		{1_000_000, map[string]bool{"p99.9": true, "p99.99": true, "p99.999": true, "max": true}},
	} {
		h := load.NewHistogram()
		// n requests: latency i µs for i = 1…n, so p99.9 is about 0.999·n µs.
		for i := int64(1); i <= tt.n; i++ {
			_ = h.RecordValue(i)
		}
		got := EstimateTails(h)
		if len(got) != 4 {
			t.Fatalf("n=%d: %d figures, want 4", tt.n, len(got))
		}
		for _, q := range got {
			if q.Reliable != tt.want[q.Name] {
				t.Errorf("n=%d %s: reliable=%v, want %v (min %d)", tt.n, q.Name, q.Reliable, tt.want[q.Name], q.MinSamples)
			}
			if q.Samples != uint64(tt.n) {
				t.Errorf("n=%d %s: samples %d", tt.n, q.Name, q.Samples)
			}
			// Values against the uniform 1…n µs reference, within the
			// histogram's 0.1 % resolution.
			want := q.Q * float64(tt.n) / 1000
			if q.Name == "max" {
				want = float64(tt.n) / 1000
			}
			if d := q.ValueMs - want; d > 0.002*want+0.001 || d < -0.002*want-0.001 {
				t.Errorf("n=%d %s = %.4f ms, want %.4f", tt.n, q.Name, q.ValueMs, want)
			}
		}
	}
}

func TestTailRecorder(t *testing.T) {
	rec := NewTailRecorder(3, time.Millisecond)
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	// Ten requests sent at 100 ms, lasting 500 ms.
	for i := 0; i < 10; i++ {
		rec.Observe(load.Sample{Op: load.Recall, Intended: ms(100), Service: ms(500), Latency: ms(500), Outcome: 200})
	}
	// One sent at 300 ms (intended 290, lag 10) lasting 1 s: 11 in flight
	// when it was sent, itself included.
	rec.Observe(load.Sample{Op: load.Store, Intended: ms(290), Lag: ms(10), Service: ms(1000), Latency: ms(1010), Outcome: 503})
	// One sent at 2 s lasting 0.2 ms: alone, counts itself.
	rec.Observe(load.Sample{Op: load.Search, Intended: ms(2000), Service: ms(0.2), Latency: ms(0.2), Outcome: 200})
	// One sent at 1.2 s lasting 700 ms, while the 300-ms one still runs: 2.
	rec.Observe(load.Sample{Op: load.Search, Intended: ms(1200), Service: ms(700), Latency: ms(700), Outcome: 200})

	got := rec.Slowest()
	if len(got) != 3 {
		t.Fatalf("kept %d, want 3", len(got))
	}
	want := []struct {
		op       string
		lat      float64
		inFlight int
		outcome  string
	}{{"Store", 1010, 11, "http_503"}, {"Search", 700, 2, "ok"}, {"Recall", 500, 10, "ok"}}
	for i, w := range want {
		g := got[i]
		if g.Op != w.op || g.LatencyMs != w.lat || g.InFlightAtSend != w.inFlight || g.Outcome != w.outcome {
			t.Errorf("slowest[%d] = %+v, want op %s latency %v in flight %d outcome %s", i, g, w.op, w.lat, w.inFlight, w.outcome)
		}
	}
	if got[0].SentS != 0.3 || got[0].LagMs != 10 {
		t.Errorf("sent %v s lag %v ms, want 0.3 and 10", got[0].SentS, got[0].LagMs)
	}
	if n := rec.Histogram().TotalCount(); n != 13 {
		t.Errorf("histogram holds %d, want 13", n)
	}
}

func TestClusterSlowest(t *testing.T) {
	rs := []TailRequest{
		{SentS: 2.00, LatencyMs: 300}, {SentS: 2.05, LatencyMs: 250}, {SentS: 4.01, LatencyMs: 290},
		{SentS: 2.10, LatencyMs: 200}, {SentS: 4.2, LatencyMs: 100}, {SentS: 9, LatencyMs: 50},
	}
	got := ClusterSlowest(rs, 100*time.Millisecond)
	want := []TailCluster{{2, 2.1, 3, 300}, {4.01, 4.01, 1, 290}, {4.2, 4.2, 1, 100}, {9, 9, 1, 50}}
	if len(got) != len(want) {
		t.Fatalf("clusters %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cluster %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestTailsShowStall: a target that pauses for 300 ms every 2 s must show
// the pauses in its tail: slowest requests of ≥ 200 ms, sent into a queue
// of requests in flight, in clusters about 2 s apart.
func TestTailsShowStall(t *testing.T) {
	if resRace {
		t.Skip("asserts outcomes of real load, which the race detector's slowdown distorts")
	}
	if testing.Short() {
		t.Skip("runs an 8-s load")
	}
	cfg := TailsBudget(BudgetPR)
	cfg.Duration, cfg.Warmup = 7*time.Second, time.Second
	env := Env{Budget: BudgetPR, Seed: 7, Rate: 300, TargetOptions: target.Options{StallEvery: 2 * time.Second, StallFor: 300 * time.Millisecond}}
	if testing.Verbose() {
		env.Progress = os.Stderr
	}
	out, err := Tails(context.Background(), env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := out.Document.Tasks["006"].(*TailReport)
	mx, _ := rep.Quantile("max")
	if mx.ValueMs < 200 {
		t.Errorf("max %.1f ms; a 300-ms stall should show ≥ 200 ms", mx.ValueMs)
	}
	if len(rep.Slowest) == 0 || rep.Slowest[0].LatencyMs < 200 {
		t.Fatalf("slowest %+v", rep.Slowest)
	}
	// 300 ops/s into a 300-ms stall: about 90 requests pile up. The very
	// slowest was sent as the stall began, into an empty queue; those sent
	// later in the stall wait less but find the queue.
	most := 0
	for _, r := range rep.Slowest {
		most = max(most, r.InFlightAtSend)
	}
	if most < 20 {
		t.Errorf("at most %d in flight at the send of a slowest request; a stall queues dozens", most)
	}
	// Most of the slowest requests were sent in the 400 ms after a stall
	// began, stalls recurring every 2 s from the largest cluster's phase.
	// (On a loaded machine a few slow requests come from elsewhere.)
	var big TailCluster
	stalls := 0
	for _, c := range rep.Clusters {
		t.Logf("cluster %.2f–%.2f s: %d requests, max %.1f ms", c.StartS, c.EndS, c.Count, c.MaxLatencyMs)
		if c.Count > big.Count {
			big = c
		}
		if c.Count >= 5 && c.MaxLatencyMs >= 150 {
			stalls++
		}
	}
	if stalls < 2 {
		t.Errorf("%d stall clusters in 7 s of a 2-s stall period, want ≥ 2", stalls)
	}
	phase := math.Mod(big.StartS, 2)
	in := 0
	for _, r := range rep.Slowest {
		if math.Mod(r.SentS-phase+2, 2) < 0.4 {
			in++
		}
	}
	if frac := float64(in) / float64(len(rep.Slowest)); frac < 0.6 {
		t.Errorf("%.0f%% of the slowest requests were sent in the 400 ms after a stall began, want ≥ 60%%", 100*frac)
	}
	if q, _ := rep.Quantile("p99.99"); q.Reliable {
		t.Errorf("p99.99 marked reliable with %d samples", q.Samples)
	}
}
