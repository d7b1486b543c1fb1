package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/result"
)

const warmupScenario = `name = "adaptive warm-up"
[duration]
total_seconds = 0.5
[arrival]
pattern = "constant"
rate = 400.0
[operations]
store_weight = 0.5
recall_weight = 0.5
[data]
num_nodes = 10
embedding_dim = 8
`

// coldServer answers every request after a service time of fast spread
// over 0.2–1.8 × by a hash of the request's number (so that a window's
// median has an interval wider than this machine's noise), plus, for the
// first cold requests, a cold-start cost falling linearly from cost to 0.
// It counts the requests it served.
func coldServer(t *testing.T, cold int64, cost, fast time.Duration) (string, *atomic.Int64) {
	t.Helper()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		d := time.Duration(float64(fast) * (0.2 + 1.6*float64(uint64(n)*2654435761%1000)/1000))
		if n <= cold {
			d += time.Duration(float64(cost) * float64(cold-n) / float64(cold))
		}
		time.Sleep(d)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &served
}

// TestAutoWarmup runs adaptive warm-ups against a real HTTP server on
// loopback at 400 requests/s, windows of 250 ms (100 requests): a server
// whose first 600 requests pay a cold-start cost falling from 45 ms to 0
// ends its warm-up only after them; a steady one settles within a few
// windows of a 10 s maximum (40 windows); the cold one with a maximum
// shorter than its cold start never settles and reaches the maximum.
func TestAutoWarmup(t *testing.T) {
	if testing.Short() {
		t.Skip("three warm-ups of up to a few seconds: skipped with -short")
	}
	const perWindow = 100 // 400/s × 250 ms
	for _, c := range []struct {
		name  string
		cold  int64 // requests paying the cold-start cost
		max   time.Duration
		ended string
	}{
		{"cold start", 600, 10 * time.Second, result.WarmupSettled},
		{"steady", 0, 10 * time.Second, result.WarmupSettled},
		{"never settles", 600, 1500 * time.Millisecond, result.WarmupMaximum},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, served := coldServer(t, c.cold, 45*time.Millisecond, 5*time.Millisecond)
			zero, maximum := 0, c.max
			doc, err := Run(context.Background(), Config{
				Scenario: parse(t, warmupScenario), Endpoint: url, Warmup: &maximum, AutoWarmup: true,
				Nodes: &zero, Seed: 3, Limits: lenient,
			})
			if err != nil {
				t.Fatal(err)
			}
			r := doc.Repetitions[0]
			w := r.Warmup
			if w == nil || !doc.Run.Config.WarmupAuto {
				t.Fatalf("no warm-up recorded: %+v, config %+v", w, doc.Run.Config)
			}
			t.Logf("%s; window medians %v ms", w.Note, w.WindowP50Ms)
			if w.Ended != c.ended || w.WindowSeconds != 0.25 || w.MaxSeconds != c.max.Seconds() || w.Windows != len(w.WindowP50Ms) {
				t.Fatalf("warm-up %+v: want ended %q, windows of 0.25 s, maximum %v", w, c.ended, c.max)
			}
			// What the server served in the warm-up: all it served but the
			// reachability check and the measured phase.
			inWarmup := served.Load() - 1 - int64(r.Overall.Count)
			switch c.name {
			case "cold start":
				// The three settled windows come after the cold requests:
				// at least two full windows of warm requests were sent.
				if inWarmup < c.cold+2*perWindow || w.Windows < int(c.cold/perWindow)+2 {
					t.Errorf("warm-up ended after %d requests, %d windows; want ≥ %d, ≥ %d (after the cold start)", inWarmup, w.Windows, c.cold+2*perWindow, c.cold/perWindow+2)
				}
				// Its last windows are the warm ones: each far below the first.
				for _, m := range w.WindowP50Ms[w.Windows-SettleWindows:] {
					if m > w.WindowP50Ms[0]/3 {
						t.Errorf("a settled window's median %.3g ms is not far below the first window's %.3g ms", m, w.WindowP50Ms[0])
					}
				}
			case "steady":
				if w.Windows > 20 || inWarmup > 20*perWindow {
					t.Errorf("steady server: warm-up of %d windows (%d requests), want well below the maximum's 40", w.Windows, inWarmup)
				}
			case "never settles":
				// Every window of the maximum was sent: 1.5 s at 400/s.
				if inWarmup < 590 || w.Windows != 6 {
					t.Errorf("warm-up of %d requests, %d windows; want the maximum's 600 requests (±10), 6 windows", inWarmup, w.Windows)
				}
			}
		})
	}
}
