package tasks

import (
	"cmp"
	"context"
	"math"
	"os"
	"slices"
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
	rec := NewTailRecorder(3)
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	// Ten requests sent at 100 ms, lasting 500 ms: the engine saw 1…10 in
	// flight as it sent them.
	for i := 0; i < 10; i++ {
		rec.Observe(load.Sample{Op: load.Recall, Intended: ms(100), Service: ms(500), Latency: ms(500), Outcome: 200, InFlight: i + 1})
	}
	// One sent at 300 ms (intended 290, lag 10) lasting 1 s, with 11 in
	// flight, itself included.
	rec.Observe(load.Sample{Op: load.Store, Intended: ms(290), Lag: ms(10), Service: ms(1000), Latency: ms(1010), Outcome: 503, InFlight: 11})
	// One sent at 2 s lasting 0.2 ms: fast, not kept.
	rec.Observe(load.Sample{Op: load.Search, Intended: ms(2000), Service: ms(0.2), Latency: ms(0.2), Outcome: 200, InFlight: 1})
	// One sent at 1.2 s lasting 700 ms, while the 300-ms one still ran.
	rec.Observe(load.Sample{Op: load.Search, Intended: ms(1200), Service: ms(700), Latency: ms(700), Outcome: 200, InFlight: 2})

	got := rec.Slowest()
	if len(got) != 3 {
		t.Fatalf("kept %d, want 3", len(got))
	}
	// The third slowest is one of the ten 500-ms recalls, whichever the
	// heap kept: its in-flight count is the engine's for that one.
	want := []struct {
		op       string
		lat      float64
		inFlight int
		outcome  string
	}{{"Store", 1010, 11, "http_503"}, {"Search", 700, 2, "ok"}, {"Recall", 500, -1, "ok"}}
	for i, w := range want {
		g := got[i]
		if g.Op != w.op || g.LatencyMs != w.lat || (w.inFlight >= 0 && g.InFlightAtSend != w.inFlight) || g.Outcome != w.outcome {
			t.Errorf("slowest[%d] = %+v, want op %s latency %v in flight %d outcome %s", i, g, w.op, w.lat, w.inFlight, w.outcome)
		}
	}
	if r := got[2].InFlightAtSend; r < 1 || r > 10 {
		t.Errorf("recall kept with %d in flight, want one of the 1…10 it was sent with", r)
	}
	if got[0].SentS != 0.3 || got[0].LagMs != 10 || got[0].IntendedS != 0.29 {
		t.Errorf("intended %v s sent %v s lag %v ms, want 0.29, 0.3 and 10", got[0].IntendedS, got[0].SentS, got[0].LagMs)
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
// the pauses in its tail: a maximum of at least the stall, slowest requests
// that carry the generator's in-flight counts, in clusters 2 s apart.
func TestTailsShowStall(t *testing.T) {
	if resRace {
		t.Skip("asserts outcomes of real load, which the race detector's slowdown distorts")
	}
	if testing.Short() {
		t.Skip("runs an 8-s load")
	}
	const stall = 300 * time.Millisecond
	cfg := TailsBudget(BudgetPR)
	cfg.Duration, cfg.Warmup = 7*time.Second, time.Second
	env := Env{Budget: BudgetPR, Seed: 7, Rate: 300, TargetOptions: target.Options{StallEvery: 2 * time.Second, StallFor: stall}}
	if testing.Verbose() {
		env.Progress = os.Stderr
	}
	out, err := Tails(context.Background(), env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := out.Document.Tasks["006"].(*TailReport)
	// A request intended in a stall completes no earlier than its end,
	// whenever the generator sent it (latency runs from the intended
	// send), and at 300 ops/s one is intended within a few milliseconds of
	// the stall's start: the maximum is at least the stall, less 10 %.
	mx, _ := rep.Quantile("max")
	if mx.ValueMs < 0.9*ms(stall) {
		t.Errorf("max %.1f ms; a %v stall must show ≥ %.0f ms", mx.ValueMs, stall, 0.9*ms(stall))
	}
	if len(rep.Slowest) != cfg.Keep || math.Abs(rep.Slowest[0].LatencyMs-mx.ValueMs) > 0.01*mx.ValueMs {
		t.Fatalf("%d slowest kept (want %d), slowest %.1f ms against max %.1f ms", len(rep.Slowest), cfg.Keep, rep.Slowest[0].LatencyMs, mx.ValueMs)
	}
	// Every kept request carries the engine's count (itself included), and
	// 300 ops/s into a 300-ms stall piles up about 90: the counts of the
	// slowest requests show that queue.
	most := 0
	for _, r := range rep.Slowest {
		if r.InFlightAtSend < 1 {
			t.Errorf("slowest request %+v: in flight %d, want ≥ 1 (itself)", r, r.InFlightAtSend)
		}
		most = max(most, r.InFlightAtSend)
	}
	if most < 20 {
		t.Errorf("at most %d in flight at the send of a slowest request; a stall queues dozens", most)
	}
	// And no more than were intended within the longest latency: a request
	// in flight was intended at most max latency ago (latency runs from
	// the intended send), and Poisson arrivals at the rate put μ = rate ×
	// max latency in that window, rarely more than μ + 5√μ. A count of all
	// requests sent, not of those in flight, would pass it within seconds.
	mu := env.Rate * mx.ValueMs / 1000
	if limit := mu + 5*math.Sqrt(mu) + 5; float64(most) > limit {
		t.Errorf("%d in flight at the send of a slowest request, more than the %.0f that %v ops/s intend within the longest latency (%.0f ms): not a count of requests in flight", most, limit, env.Rate, mx.ValueMs)
	}
	// Counted at the send, the queue grows through a stall: within a
	// stall the later a request was sent, the more it found in flight
	// (Spearman ρ of send time and count near +1; counted at completion,
	// when the queue drains in order, it would be near −1). Across stalls
	// the counts are not ordered, so ρ is taken within each stall's
	// cluster of at least 8 requests and weighted by their counts. The
	// wait shrinks as the count grows (ρ of latency and count −0.96 here on
	// a quiet machine) but is logged only: with both cores kept busy it
	// fell to −0.36 in one run of four, the queued requests answered after
	// the stall in an order the scheduler decides, most likely.
	var sentRho, latRho float64
	ranked := 0
	for _, c := range rep.Clusters {
		var sent, lat, inf []float64
		for _, r := range rep.Slowest {
			if r.SentS >= c.StartS && r.SentS <= c.EndS {
				sent, lat, inf = append(sent, r.SentS), append(lat, r.LatencyMs), append(inf, float64(r.InFlightAtSend))
			}
		}
		if len(sent) < 8 {
			continue
		}
		s, l := spearman(sent, inf), spearman(lat, inf)
		t.Logf("cluster %.2f–%.2f s, %d requests: Spearman ρ(sent, in flight) = %.2f, ρ(latency, in flight) = %.2f", c.StartS, c.EndS, len(sent), s, l)
		sentRho += s * float64(len(sent))
		latRho += l * float64(len(sent))
		ranked += len(sent)
	}
	if ranked == 0 {
		t.Fatalf("no cluster of at least 8 slowest requests: %+v", rep.Clusters)
	}
	sentRho, latRho = sentRho/float64(ranked), latRho/float64(ranked)
	t.Logf("slowest requests: max %d in flight; within stalls Spearman ρ(sent, in flight) = %.2f, ρ(latency, in flight) = %.2f", most, sentRho, latRho)
	if sentRho < 0.5 {
		t.Errorf("Spearman ρ(send time, in flight at the send) within stalls = %.2f, want ≥ 0.5: the later in a stall a request is sent, the more are queued before it", sentRho)
	}
	// Three whole stalls fall in any 7 s; requests intended in the first
	// half of each wait at least half the stall: about 3 × 45 of 2 100
	// requests, 6 %, so the p99 is at least half the stall whatever else
	// the machine did (noise only adds latency).
	if rep.P99Ms < 0.5*ms(stall) {
		t.Errorf("p99 %.1f ms; three %v stalls in 7 s at 300 ops/s must put it ≥ %.0f ms", rep.P99Ms, stall, 0.5*ms(stall))
	}
	// The stalls' period shows in the slowest requests: most were sent in
	// the 400 ms after a stall began, stalls recurring every 2 s from the
	// largest cluster's phase. Unless the machine itself froze for longer
	// than a stall (the slowest request waited over twice the stall):
	// then its freeze fills the tail, and the period is logged only.
	var big TailCluster
	stalls := 0
	for _, c := range rep.Clusters {
		t.Logf("cluster %.2f–%.2f s: %d requests, max %.1f ms", c.StartS, c.EndS, c.Count, c.MaxLatencyMs)
		if c.Count > big.Count {
			big = c
		}
		if c.Count >= 5 && c.MaxLatencyMs >= 0.5*ms(stall) {
			stalls++
		}
	}
	phase := math.Mod(big.StartS, 2)
	in := 0
	for _, r := range rep.Slowest {
		if math.Mod(r.SentS-phase+2, 2) < 0.4 {
			in++
		}
	}
	frac := float64(in) / float64(len(rep.Slowest))
	t.Logf("%d stall clusters; %.0f%% of the slowest requests sent in the 400 ms after a stall began", stalls, 100*frac)
	if froze := mx.ValueMs > 2*ms(stall); froze {
		t.Logf("the machine froze for longer than the stall (max %.0f ms): period not asserted", mx.ValueMs)
	} else {
		if stalls < 2 {
			t.Errorf("%d stall clusters in 7 s of a 2-s stall period, want ≥ 2", stalls)
		}
		if frac < 0.6 {
			t.Errorf("%.0f%% of the slowest requests were sent in the 400 ms after a stall began, want ≥ 60%%", 100*frac)
		}
	}
	if q, _ := rep.Quantile("p99.99"); q.Reliable {
		t.Errorf("p99.99 marked reliable with %d samples", q.Samples)
	}
}

// spearman returns the rank correlation of x and y (ties ranked in order).
func spearman(x, y []float64) float64 {
	rank := func(v []float64) []float64 {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(v[a], v[b]) })
		r := make([]float64, len(v))
		for k, i := range idx {
			r[i] = float64(k)
		}
		return r
	}
	rx, ry := rank(x), rank(y)
	n := float64(len(x))
	var d2 float64
	for i := range rx {
		d := rx[i] - ry[i]
		d2 += d * d
	}
	return 1 - 6*d2/(n*(n*n-1))
}

func TestSpearman(t *testing.T) {
	for _, tt := range []struct {
		x, y []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{[]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		// Ranks 0 1 2 3 against 1 0 3 2: Σd² = 4, 1 − 6·4/(4·15) = 0.6.
		{[]float64{1, 2, 3, 4}, []float64{2, 1, 4, 3}, 0.6},
	} {
		if got := spearman(tt.x, tt.y); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("spearman(%v, %v) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}
}
