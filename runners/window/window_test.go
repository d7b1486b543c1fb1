package window

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/load"
)

// quantile is the reference: the nearest-rank quantile of sorted ms values,
// as HDR histograms define it (the smallest value with at least q of the
// values at or below it).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func near(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)+1e-3
}

func TestWindowsAgainstReference(t *testing.T) {
	start := time.Now()
	r := New(time.Second, start)
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	lat := map[int][]float64{}
	count := map[int]int{}
	errs := map[int]int{}
	for i := 0; i < n; i++ {
		at := time.Duration(rng.Float64() * float64(10*time.Second))
		// Latency grows with the window so windows differ: 1–10 ms × k.
		k := int(at / time.Second)
		l := time.Duration((1 + 9*rng.Float64()) * float64(k+1) * float64(time.Millisecond))
		o := load.Outcome(200)
		if rng.Float64() < 0.1*float64(k)/10 {
			o = 503
			errs[k]++
		}
		r.Observe(load.Sample{Intended: at, Latency: l, Service: l / 2, Outcome: o})
		lat[k] = append(lat[k], float64(l.Microseconds())/1000)
		count[k]++
	}
	ws := r.Windows()
	if len(ws) != 10 {
		t.Fatalf("got %d windows, want 10", len(ws))
	}
	for k, w := range ws {
		if w.Start != time.Duration(k)*time.Second || w.End != w.Start+time.Second {
			t.Errorf("window %d bounds %v–%v", k, w.Start, w.End)
		}
		if int(w.Count) != count[k] || int(w.Errors) != errs[k] {
			t.Errorf("window %d: count %d errors %d, want %d %d", k, w.Count, w.Errors, count[k], errs[k])
		}
		if !near(w.Rate, float64(count[k]), 1e-9) {
			t.Errorf("window %d: rate %g, want %d", k, w.Rate, count[k])
		}
		s := slices.Clone(lat[k])
		slices.Sort(s)
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"p50", w.P50, quantile(s, 0.50)},
			{"p95", w.P95, quantile(s, 0.95)},
			{"p99", w.P99, quantile(s, 0.99)},
			{"max", w.Max, s[len(s)-1]},
		} {
			// Two significant digits: within 1 % of the exact value.
			if !near(c.got, c.want, 0.01) {
				t.Errorf("window %d %s = %.3f ms, reference %.3f ms", k, c.name, c.got, c.want)
			}
		}
	}
}

func TestEmptyWindowsBetween(t *testing.T) {
	r := New(100*time.Millisecond, time.Now())
	r.Observe(load.Sample{Intended: 50 * time.Millisecond, Latency: time.Millisecond, Outcome: 200})
	r.Observe(load.Sample{Intended: 450 * time.Millisecond, Latency: time.Millisecond, Outcome: 200})
	ws := r.Windows()
	if len(ws) != 5 {
		t.Fatalf("got %d windows, want 5 (0–500 ms in 100 ms)", len(ws))
	}
	for i, want := range []uint64{1, 0, 0, 0, 1} {
		if ws[i].Count != want {
			t.Errorf("window %d count %d, want %d", i, ws[i].Count, want)
		}
	}
	if ws[2].P99 != 0 || ws[2].Rate != 0 {
		t.Errorf("empty window has figures: %+v", ws[2])
	}
	if New(time.Second, time.Now()).Windows() != nil {
		t.Error("an empty recorder has windows")
	}
}

func TestObserverOffsetsPhases(t *testing.T) {
	start := time.Now()
	r := New(time.Second, start)
	// Phase two starts 3 s after the recorder; its sample at 0.5 s lands in
	// window 3.
	obs := r.Observer(start.Add(3 * time.Second))
	obs(load.Sample{Intended: 500 * time.Millisecond, Latency: time.Millisecond, Outcome: 200})
	r.Observe(load.Sample{Intended: 200 * time.Millisecond, Latency: time.Millisecond, Outcome: 200})
	ws := r.Windows()
	if len(ws) != 4 || ws[0].Count != 1 || ws[3].Count != 1 {
		t.Fatalf("windows %+v, want one sample in windows 0 and 3", ws)
	}
}

func TestSpanMergesHistograms(t *testing.T) {
	r := New(time.Second, time.Now())
	// Window 0: 99 fast requests; window 1: 99 requests at 100 ms. The p99
	// of the span is 100 ms, not a mean of the windows' p99s.
	for i := 0; i < 99; i++ {
		r.Observe(load.Sample{Intended: time.Duration(i) * time.Millisecond, Latency: time.Millisecond, Outcome: 200})
		r.Observe(load.Sample{Intended: time.Second + time.Duration(i)*time.Millisecond, Latency: 100 * time.Millisecond, Outcome: 500})
	}
	s := r.Span(0, 2*time.Second)
	if s.Count != 198 || s.Errors != 99 {
		t.Fatalf("span count %d errors %d, want 198 99", s.Count, s.Errors)
	}
	if !near(s.P99, 100, 0.01) || !near(s.P50, 1, 0.01) {
		t.Errorf("span p50 %.3f p99 %.3f, want 1 and 100", s.P50, s.P99)
	}
	if !near(s.Rate, 99, 1e-9) {
		t.Errorf("span rate %g, want 99/s", s.Rate)
	}
	if w := r.Span(0, time.Second); w.Count != 99 || !near(w.P99, 1, 0.01) {
		t.Errorf("first window alone: %+v", w)
	}
}

func TestCompactKeepsSummaries(t *testing.T) {
	r := New(time.Second, time.Now())
	for i := 0; i < 100; i++ {
		r.Observe(load.Sample{Intended: time.Duration(i) * 10 * time.Millisecond, Latency: time.Duration(i+1) * time.Millisecond, Outcome: 200})
	}
	before := r.Windows()[0]
	r.Compact(time.Second)
	after := r.Windows()[0]
	if before != after {
		t.Fatalf("compaction changed the summary:\n%+v\n%+v", before, after)
	}
	// A late sample still counts and moves the maximum.
	r.Observe(load.Sample{Intended: 500 * time.Millisecond, Latency: 300 * time.Millisecond, Outcome: 504})
	w := r.Windows()[0]
	if w.Count != 101 || w.Errors != 1 || !near(w.Max, 300, 0.01) || w.P99 != before.P99 {
		t.Errorf("after a late sample: %+v", w)
	}
}

func TestConcurrentObserve(t *testing.T) {
	r := New(10*time.Millisecond, time.Now())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				r.Observe(load.Sample{Intended: time.Duration(i) * time.Millisecond, Latency: time.Millisecond, Outcome: 200})
			}
		}()
	}
	wg.Wait()
	var total uint64
	for _, w := range r.Windows() {
		total += w.Count
	}
	if total != 8000 {
		t.Errorf("recorded %d samples, want 8000", total)
	}
}

func BenchmarkObserve(b *testing.B) {
	r := New(time.Second, time.Now())
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.Observe(load.Sample{Intended: time.Duration(i) * time.Microsecond, Latency: time.Millisecond, Outcome: 200})
			i++
		}
	})
}
