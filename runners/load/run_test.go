package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/dataset"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/target"
)

const testScenario = `name = "load test"
description = "short"
[duration]
total_seconds = 1
warmup_seconds = 0.2
[arrival]
pattern = "constant"
rate = 200.0
[operations]
store_weight = 0.4
recall_weight = 0.2
embedding_search_weight = 0.3
pattern_completion_weight = 0.1
[data]
num_nodes = 300
embedding_dim = 768
memory_spaces = 2
[validation]
expected_p99_latency_ms = 10_000.0
expected_throughput_ops_sec = 1.0
max_error_rate = 0.5
`

// lenient limits keep tests that are not about the generator from failing
// when the shared test machine is overloaded and the schedule slips.
var lenient = Limits{LateAfter: time.Second, DropAfter: 5 * time.Second, MaxLateFraction: 0.5, MaxDroppedFraction: 0.5}

func parse(t *testing.T, src string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse("test.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func startTarget(t *testing.T, o target.Options) string {
	t.Helper()
	inst, err := target.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	return inst.URL()
}

func TestRunAgainstReferenceTarget(t *testing.T) {
	ep := startTarget(t, target.Options{})
	var progress bytes.Buffer
	doc, err := Run(context.Background(), Config{
		Scenario: parse(t, testScenario), Endpoint: ep, Target: "builtin",
		Repetitions: 2, Seed: 7, Progress: &progress, Labels: []string{"test"}, Limits: lenient,
	})
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	if len(doc.Repetitions) != 2 || doc.Preload == nil || doc.Preload.Nodes != 300 || doc.Preload.Errors != 0 {
		t.Fatalf("repetitions %d, preload %+v; want 2 and 300 nodes without errors", len(doc.Repetitions), doc.Preload)
	}
	var sum uint64
	for i, r := range doc.Repetitions {
		if r.Index != i+1 || r.Overall.Count < 150 || r.Overall.Count > 250 {
			t.Errorf("repetition %d: index %d, %d requests; want ~200", i, r.Index, r.Overall.Count)
		}
		if r.Overall.Histogram == "" || r.Overall.Latency.P99 <= 0 || r.Overall.Throughput <= 0 {
			t.Errorf("repetition %d overall is incomplete: %+v", i, r.Overall.Latency)
		}
		var opCount uint64
		for _, s := range r.Operations {
			opCount += s.Count
		}
		if opCount != r.Overall.Count {
			t.Errorf("repetition %d: operations sum to %d, overall %d", i, opCount, r.Overall.Count)
		}
		sum += r.Overall.Count
		if r.Overall.Errors != 0 {
			t.Errorf("repetition %d: errors %v against a healthy target", i, r.Overall.ErrorsByKind)
		}
	}
	if doc.TotalOperations != sum || len(doc.PerOperationStats) != 4 {
		t.Errorf("total_operations %d (want %d), %d per-operation entries (want 4)", doc.TotalOperations, sum, len(doc.PerOperationStats))
	}
	if doc.Validation == nil || !doc.Validation.Passed || len(doc.Validation.Checks) != 3 {
		t.Errorf("validation = %+v, want 3 passing checks", doc.Validation)
	}
	if doc.Run.Scenario != "test.toml" || doc.Run.ScenarioSHA256 == "" || doc.Run.Seed != 7 || doc.Run.RunID == "" || doc.Run.Config.NumNodes != 300 || doc.Run.Target != "builtin" {
		t.Errorf("run metadata incomplete: %+v", doc.Run)
	}
	if !strings.Contains(progress.String(), "preload") || !strings.Contains(progress.String(), "repetition 2/2") {
		t.Errorf("progress lacks the phases:\n%s", progress.String())
	}

	// The overall figures are the merge of all requests of all repetitions.
	merged := NewHistogram()
	for _, r := range doc.Repetitions {
		h, err := DecodeHistogram(r.Overall.Histogram)
		if err != nil {
			t.Fatal(err)
		}
		merged.Merge(h)
	}
	if want := float64(merged.ValueAtQuantile(99)) / 1000; doc.P99LatencyMs != want {
		t.Errorf("p99_latency_ms %v, merged histogram says %v", doc.P99LatencyMs, want)
	}

	t.Run("round trip", func(t *testing.T) {
		var buf bytes.Buffer
		if err := result.Encode(&buf, doc); err != nil {
			t.Fatal(err)
		}
		back, err := result.Unmarshal(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(doc, back) {
			t.Errorf("document changed through encode/decode:\n%+v\n%+v", doc, back)
		}
	})

	t.Run("engram fields", func(t *testing.T) {
		var buf bytes.Buffer
		if err := result.Encode(&buf, doc); err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		if raw["config_name"] != "load test" {
			t.Errorf("config_name = %v, want the scenario's name", raw["config_name"])
		}
		for _, k := range []string{"elapsed_seconds", "total_operations", "total_errors", "overall_throughput", "overall_error_rate", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms"} {
			if _, ok := raw[k].(float64); !ok {
				t.Errorf("top-level %q missing or not a number: %v", k, raw[k])
			}
		}
		per, _ := raw["per_operation_stats"].(map[string]any)
		for _, op := range []string{"Store", "Recall", "Search", "PatternCompletion"} {
			s, _ := per[op].(map[string]any)
			for _, k := range []string{"count", "success_count", "error_count", "p50_latency_us", "p95_latency_us", "p99_latency_us", "p999_latency_us", "mean_latency_us", "max_latency_us"} {
				if _, ok := s[k].(float64); !ok {
					t.Errorf("per_operation_stats.%s.%s missing: %v", op, k, s[k])
				}
			}
		}
		// Units: ms at top level, µs per operation. The elapsed time is the
		// sum of the measured phases (about 2 × 1 s).
		if e := raw["elapsed_seconds"].(float64); e < 1.9 || e > 10 {
			t.Errorf("elapsed_seconds %v, want about 2 (seconds)", e)
		}
		st := per["Store"].(map[string]any)
		var storeP99 float64
		for _, r := range doc.Repetitions {
			storeP99 = max(storeP99, r.Operations["Store"].Latency.Max)
		}
		if us := st["max_latency_us"].(float64); math.Abs(us-1000*storeP99) > 1e-6*us {
			t.Errorf("Store max_latency_us %v, want 1000 × the max in ms %v", us, storeP99)
		}
		if thr := raw["overall_throughput"].(float64); thr < 100 || thr > 300 {
			t.Errorf("overall_throughput %v ops/s, want ~200", thr)
		}
	})
}

func TestRunValidationFails(t *testing.T) {
	ep := startTarget(t, target.Options{})
	src := strings.Replace(testScenario, "expected_p99_latency_ms = 10_000.0", "expected_p99_latency_ms = 0.001", 1)
	src = strings.Replace(src, "num_nodes = 300", "num_nodes = 10", 1)
	doc, err := Run(context.Background(), Config{Scenario: parse(t, src), Endpoint: ep, Duration: 500 * time.Millisecond, Limits: lenient})
	if !errors.Is(err, ErrValidation) || doc == nil {
		t.Fatalf("err = %v, doc nil = %v; want ErrValidation with a document", err, doc == nil)
	}
	if !strings.Contains(err.Error(), "p99_latency_ms FAILED") || !strings.Contains(err.Error(), "off by") {
		t.Errorf("message %q does not say which check failed and by how much", err)
	}
	if doc.Validation.Passed || doc.Validation.Checks[0].Passed {
		t.Errorf("validation %+v should fail its p99 check", doc.Validation)
	}
}

func TestRunUnreachable(t *testing.T) {
	_, err := Run(context.Background(), Config{Scenario: parse(t, testScenario), Endpoint: "http://127.0.0.1:1"})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "--endpoint") {
		t.Errorf("err = %v, want ErrUnreachable saying how to fix it", err)
	}
	_, err = Run(context.Background(), Config{Scenario: parse(t, testScenario), Endpoint: "localhost:7432"})
	if !errors.Is(err, ErrConfig) {
		t.Errorf("err = %v, want ErrConfig for a URL without scheme", err)
	}
}

func TestRunInterrupted(t *testing.T) {
	ep := startTarget(t, target.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	nodes := 0
	go func() { time.Sleep(700 * time.Millisecond); cancel() }()
	doc, err := Run(ctx, Config{Scenario: parse(t, testScenario), Endpoint: ep, Duration: time.Minute, Nodes: &nodes, Warmup: new(time.Duration), Limits: lenient})
	if !errors.Is(err, ErrInterrupted) || doc == nil || len(doc.Repetitions) != 1 || doc.TotalOperations == 0 {
		t.Fatalf("err = %v, doc = %v; want ErrInterrupted with the partial repetition", err, doc != nil)
	}
}

func TestRunGeneratorBottleneck(t *testing.T) {
	// The target admits 50 ops/s; two in-flight slots cannot carry 300/s.
	ep := startTarget(t, target.Options{Capacity: 50})
	nodes := 0
	lim := DefaultLimits
	lim.DropAfter = 50 * time.Millisecond
	doc, err := Run(context.Background(), Config{Scenario: parse(t, testScenario), Endpoint: ep, Rate: 300, MaxInFlight: 2, Nodes: &nodes, Warmup: new(time.Duration), Limits: lim, Repetitions: 3})
	if !errors.Is(err, ErrGeneratorBottleneck) || doc == nil {
		t.Fatalf("err = %v; want ErrGeneratorBottleneck with a document", err)
	}
	if len(doc.Repetitions) != 3 {
		t.Fatalf("want all 3 repetitions run (the error reported at the end); got %d", len(doc.Repetitions))
	}
	for _, r := range doc.Repetitions {
		if r.Generator.Dropped == 0 {
			t.Errorf("repetition %d: want dropped sends recorded, got %+v", r.Index, r.Generator)
		}
	}
}

// With the target stalling the whole server periodically, latency from the
// intended send time shows every queued request: the tail is far above the
// median. A closed loop (one request in flight, the next sent when the last
// returns) only ever has one request caught in each stall, so its service
// times hide the stalls; the intended-time latency of the same closed-loop
// run still shows them, because every delayed send counts from when it
// should have gone.
func TestStallsAreMeasured(t *testing.T) { forEachPath(t, testStallsAreMeasured) }

func testStallsAreMeasured(t *testing.T, senders bool) {
	stall := target.Options{StallEvery: 400 * time.Millisecond, StallFor: 150 * time.Millisecond}
	ep := startTarget(t, stall)
	base, _ := url.Parse(ep)
	d := scenario.Data{NumNodes: 100, EmbeddingDim: 768, MemorySpaces: 1}
	work := &Engram{Base: base, Data: dataset.New(d, 1), Dim: 768, NumNodes: 100}
	run := func(inFlight int) (*PhaseResult, float64) {
		var slow, all atomic.Int64
		e := &Engine{Client: NewClient(inFlight, 5*time.Second), Workload: work, MaxInFlight: inFlight, Senders: senders,
			Limits: Limits{LateAfter: time.Hour, DropAfter: time.Hour, MaxLateFraction: 1, MaxDroppedFraction: 1},
			Observe: func(s Sample) {
				all.Add(1)
				if s.Latency > 50*time.Millisecond {
					slow.Add(1)
				}
			}}
		m, _ := NewMix([numOps]float64{0, 0, 1, 0}, 1) // search: cheap, so the stall dominates
		res, err := e.Run(context.Background(), Phase{Pacer: arrival.Regular{Shape: arrival.Flat(200)}, Mix: m, Duration: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return res, float64(slow.Load()) / float64(all.Load())
	}

	open, slowFrac := run(100)
	lat := LatencyOf(open.Recorder.Overall())
	// About (150-50)/400 = 25 % of the requests wait more than 50 ms.
	if slowFrac < 0.10 || lat.P99 < 10*lat.P50 || lat.P99 < 80 {
		t.Errorf("open loop: %.0f%% of requests over 50 ms, p50 %.2f ms, p99 %.2f ms; want ≥ 10%%, p99 ≫ p50 and ≥ 80 ms", 100*slowFrac, lat.P50, lat.P99)
	}

	closed, _ := run(1)
	var svc, intended LatencyHist
	svc.set(closed.Recorder, true)
	intended.set(closed.Recorder, false)
	if svc.P90 > 50 || intended.P90 < 50 {
		t.Errorf("closed loop: service p90 %.2f ms (want < 50: a closed loop hides the stalls), intended-time p90 %.2f ms (want > 50: it does not)", svc.P90, intended.P90)
	}
}

// LatencyHist is a test helper: percentiles of all operations' latency or
// service time.
type LatencyHist struct{ P50, P90, P99 float64 }

func (l *LatencyHist) set(r *Recorder, service bool) {
	h := NewHistogram()
	for op := Op(0); op < numOps; op++ {
		if service {
			h.Merge(r.ops[op].service)
		} else {
			h.Merge(r.ops[op].latency)
		}
	}
	ms := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }
	l.P50, l.P90, l.P99 = ms(50), ms(90), ms(99)
}
