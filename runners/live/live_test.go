package live

import (
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
)

func TestObserve(t *testing.T) {
	m := New("ci/fast")
	lat := []time.Duration{100 * time.Microsecond, 2 * time.Millisecond, 30 * time.Millisecond}
	for i, l := range lat {
		m.Observe(load.Sample{Op: client.Store, Latency: l, Service: l / 2, Lag: time.Duration(i) * time.Millisecond, Outcome: client.OK, InFlight: 3 + i})
	}
	m.Observe(load.Sample{Op: client.Recall, Latency: time.Second, Outcome: client.OutcomeTimeout, InFlight: 1})
	m.Observe(load.Sample{Op: client.Recall, Latency: time.Millisecond, Outcome: 503, InFlight: 1})

	want := `
# HELP m18_requests_total Requests completed, by operation and outcome (ok or error).
# TYPE m18_requests_total counter
m18_requests_total{operation="PatternCompletion",outcome="error",scenario="ci/fast"} 0
m18_requests_total{operation="PatternCompletion",outcome="ok",scenario="ci/fast"} 0
m18_requests_total{operation="Recall",outcome="error",scenario="ci/fast"} 2
m18_requests_total{operation="Recall",outcome="ok",scenario="ci/fast"} 0
m18_requests_total{operation="Search",outcome="error",scenario="ci/fast"} 0
m18_requests_total{operation="Search",outcome="ok",scenario="ci/fast"} 0
m18_requests_total{operation="Store",outcome="error",scenario="ci/fast"} 0
m18_requests_total{operation="Store",outcome="ok",scenario="ci/fast"} 3
# HELP m18_request_errors_total Failed requests by operation and error kind (timeout, connection, http_NNN).
# TYPE m18_request_errors_total counter
m18_request_errors_total{kind="http_503",operation="Recall",scenario="ci/fast"} 1
m18_request_errors_total{kind="timeout",operation="Recall",scenario="ci/fast"} 1
# HELP m18_requests_in_flight Requests in flight when the latest request was sent.
# TYPE m18_requests_in_flight gauge
m18_requests_in_flight{scenario="ci/fast"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), MetricRequests, MetricErrors, MetricInFlight); err != nil {
		t.Error(err)
	}
	// The Store latency histogram: 3 samples, sum 32.1 ms, and the
	// cumulative bucket counts at 50 µs·2^k computed by hand: ≤ 0.1 ms 1,
	// ≤ 3.2 ms 2, ≤ 51.2 ms 3.
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var h *dto.Histogram
	for _, mf := range mfs {
		if mf.GetName() != MetricLatency {
			continue
		}
		for _, mm := range mf.Metric {
			for _, lp := range mm.Label {
				if lp.GetName() == "operation" && lp.GetValue() == "Store" {
					h = mm.Histogram
				}
			}
		}
	}
	if h == nil {
		t.Fatal("no Store latency histogram")
	}
	if h.GetSampleCount() != 3 || math.Abs(h.GetSampleSum()-0.0321) > 1e-12 {
		t.Errorf("Store latency: count %d sum %g, want 3 and 0.0321", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.Bucket {
		var want uint64
		switch ub := b.GetUpperBound(); {
		case ub >= 0.0512-1e-12:
			want = 3
		case ub >= 0.0032-1e-12:
			want = 2
		case ub >= 0.0001-1e-12:
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket ≤ %g s: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
}

func TestServe(t *testing.T) {
	m := New("ci/fast")
	m.Observe(load.Sample{Op: client.Search, Latency: time.Millisecond, Outcome: client.OK})
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := m.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `m18_requests_total{operation="Search",outcome="ok",scenario="ci/fast"} 1`) {
		t.Errorf("/metrics:\n%s", b)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := http.Get("http://" + addr.String() + "/metrics"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the metrics server still answers after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := m.Serve(context.Background(), "256.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("a bad address: %v", err)
	}
}

// BenchmarkObserve is the cost the live metrics add per request
// (scripts/bench_live.sh compares it with the engine's own recording).
func BenchmarkObserve(b *testing.B) {
	m := New("bench")
	s := load.Sample{Op: client.Recall, Latency: 3 * time.Millisecond, Service: 2 * time.Millisecond, Lag: 10 * time.Microsecond, Outcome: client.OK, InFlight: 12}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Observe(s)
		}
	})
}
