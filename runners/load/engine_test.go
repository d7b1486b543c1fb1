package load

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
)

// getWorkload sends GET path to a base URL for every operation.
type getWorkload struct{ base string }

func (g getWorkload) NewSender() Sender { return g }

func (g getWorkload) Request(ctx context.Context, op Op, seq uint64) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/x?op="+op.String(), nil)
}

func testEngine(t *testing.T, h http.Handler, inFlight int, timeout time.Duration) (*Engine, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Engine{Client: NewClient(inFlight, timeout), Workload: getWorkload{srv.URL}, MaxInFlight: inFlight}, srv
}

func mix(t *testing.T, w [numOps]float64) *Mix {
	m, err := NewMix(w, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEngineSendsTheSchedule(t *testing.T) { forEachClient(t, testEngineSendsTheSchedule) }

func testEngineSendsTheSchedule(t *testing.T, p path) {
	e, _ := testEngine(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), 50, 5*time.Second)
	p.use(e)
	res, err := e.Run(context.Background(), Phase{
		Name: "t", Pacer: arrival.Regular{Shape: arrival.Flat(400)}, Mix: mix(t, [numOps]float64{1, 1, 1, 1}),
		Duration: time.Second, MaxRequests: 10000,
	})
	if err != nil {
		t.Fatal(err)
	}
	g := res.Generator
	if g.Scheduled != 400 || g.Sent != 400 || g.Dropped != 0 {
		t.Errorf("scheduled %d sent %d dropped %d, want 400 400 0", g.Scheduled, g.Sent, g.Dropped)
	}
	if n := res.Recorder.Count(); n != 400 {
		t.Errorf("recorded %d, want 400", n)
	}
	if res.Recorder.Errors() != 0 {
		t.Errorf("errors %d, want 0", res.Recorder.Errors())
	}
	ops, all, err := res.Recorder.Stats(res.Elapsed())
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for _, s := range ops {
		sum += s.Count
	}
	if len(ops) != 4 || sum != all.Count || all.Count != 400 {
		t.Errorf("%d operations summing to %d, overall %d; want 4, 400, 400", len(ops), sum, all.Count)
	}
	// Whether the schedule was kept depends on the machine's load (this one
	// is shared); only report it.
	t.Logf("generator: %+v", g)
}

func TestEngineStopsAtMaxRequests(t *testing.T) { forEachClient(t, testEngineStopsAtMaxRequests) }

func testEngineStopsAtMaxRequests(t *testing.T, p path) {
	e, _ := testEngine(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), 10, 5*time.Second)
	p.use(e)
	res, err := e.Run(context.Background(), Phase{Pacer: arrival.Regular{Shape: arrival.Flat(1000)}, Mix: mix(t, [numOps]float64{1}), Duration: time.Minute, MaxRequests: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Generator.Scheduled != 50 || res.Elapsed() > 10*time.Second {
		t.Errorf("scheduled %d in %v, want 50 in well under a minute", res.Generator.Scheduled, res.Elapsed())
	}
}

// Phases of one run never send the same item twice: a phase numbers its
// sends from FirstSeq, and NextSeq is where the next phase starts.
func TestPhasesNumberTheirSends(t *testing.T) { forEachClient(t, testPhasesNumberTheirSends) }

func testPhasesNumberTheirSends(t *testing.T, p path) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var mu sync.Mutex
	var seqs []uint64
	w := rawWorkload{func(ctx context.Context, seq uint64) *http.Request {
		mu.Lock()
		seqs = append(seqs, seq)
		mu.Unlock()
		r, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x", nil)
		return r
	}}
	e := p.use(&Engine{Client: NewClient(4, 5*time.Second), Workload: w, MaxInFlight: 4})
	defer e.Client.CloseIdleConnections()
	next := uint64(1000)
	for phase := 0; phase < 2; phase++ {
		res, err := e.Run(context.Background(), Phase{Pacer: arrival.Regular{Shape: arrival.Flat(1000)}, Mix: mix(t, [numOps]float64{1}),
			Duration: time.Minute, MaxRequests: 5, FirstSeq: next})
		if err != nil {
			t.Fatal(err)
		}
		if want := next + 5; res.NextSeq != want {
			t.Errorf("phase %d from %d: NextSeq %d, want %d", phase, next, res.NextSeq, want)
		}
		next = res.NextSeq
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(seqs)
	if want := []uint64{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009}; !slices.Equal(seqs, want) {
		t.Errorf("sends numbered %v, want %v", seqs, want)
	}
}

// A saturated generator reports itself: two in-flight slots against a slow
// handler cannot keep 100 sends a second.
func TestSaturatedGeneratorReportsItself(t *testing.T) {
	forEachClient(t, testSaturatedGeneratorReportsItself)
}

func testSaturatedGeneratorReportsItself(t *testing.T, p path) {
	e, _ := testEngine(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(50 * time.Millisecond) }), 2, 5*time.Second)
	p.use(e)
	e.Limits = DefaultLimits
	e.Limits.DropAfter = 100 * time.Millisecond
	res, err := e.Run(context.Background(), Phase{Pacer: arrival.Regular{Shape: arrival.Flat(100)}, Mix: mix(t, [numOps]float64{1}), Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	g := res.Generator
	if g.Dropped < 30 || g.Late == 0 || g.MaxInFlightSeen != 2 || g.P99LagMs < 10 {
		t.Errorf("generator = %+v; want many dropped (capacity is 40/s of 100/s), some late, 2 in flight, p99 lag > 10 ms", g)
	}
	err = res.Check(e.Limits)
	if !errors.Is(err, ErrGeneratorBottleneck) || !strings.Contains(err.Error(), "generator, not the target") || !strings.Contains(err.Error(), "--max-in-flight") {
		t.Errorf("Check = %v; want ErrGeneratorBottleneck naming the generator and the fix", err)
	}
}

// Sample.InFlight is what was outstanding when the request was sent: while
// the target holds every request, each send finds one more in flight than
// the send before it (counted at the send, not at completion, when the
// backlog has long drained).
func TestInFlightIsCountedAtTheSend(t *testing.T) { forEachClient(t, testInFlightIsCountedAtTheSend) }

func testInFlightIsCountedAtTheSend(t *testing.T, p path) {
	// The target holds every request until all 40 have arrived (or, bounded,
	// 20 s have passed), however late a loaded machine sends them.
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	var arrived atomic.Int64
	e, _ := testEngine(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == 40 {
			free()
		}
		<-release
	}), 500, 30*time.Second)
	p.use(e)
	defer time.AfterFunc(20*time.Second, free).Stop()
	var mu sync.Mutex
	var got []Sample
	e.Observe = func(s Sample) { mu.Lock(); got = append(got, s); mu.Unlock() }
	res, err := e.Run(context.Background(), Phase{Pacer: arrival.Regular{Shape: arrival.Flat(100)}, Mix: mix(t, [numOps]float64{1}), Duration: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Generator.Scheduled != 40 || len(got) != 40 {
		t.Fatalf("scheduled %d, observed %d; want 40 and 40", res.Generator.Scheduled, len(got))
	}
	// Counted at the send, the 40 sends saw 1, 2, ..., 40 in flight (two
	// sends racing on a loaded machine may swap their counts); counted at
	// completion, they would all see about 40.
	seen := make([]int, len(got))
	for i, s := range got {
		seen[i] = s.InFlight
	}
	slices.Sort(seen)
	for i, n := range seen {
		if n != i+1 {
			t.Fatalf("in flight seen at the sends, sorted: %v; want 1 … 40, one each", seen)
		}
	}
	if res.Generator.MaxInFlightSeen != 40 {
		t.Errorf("max in flight seen %d, want 40", res.Generator.MaxInFlightSeen)
	}
}

func TestErrorsAreClassified(t *testing.T) { forEachClient(t, testErrorsAreClassified) }

func testErrorsAreClassified(t *testing.T, p path) {
	var n atomic.Int64
	e, _ := testEngine(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("op") {
		case "Recall":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "Search":
			http.Error(w, "no", http.StatusBadRequest)
		case "PatternCompletion":
			n.Add(1)
			select { // until the client gives up
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}
	}), 50, time.Second)
	p.use(e)
	res, err := e.Run(context.Background(), Phase{Pacer: arrival.Regular{Shape: arrival.Flat(200)}, Mix: mix(t, [numOps]float64{1, 1, 1, 1}), Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ops, all, err := res.Recorder.Stats(res.Elapsed())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Store": "", "Recall": "http_503", "Search": "http_400", "PatternCompletion": "timeout"}
	for op, kind := range want {
		s := ops[op]
		if kind == "" {
			if s.Errors != 0 || s.ErrorRate != 0 {
				t.Errorf("%s: %d errors, want none", op, s.Errors)
			}
			continue
		}
		if s.Count == 0 || s.ErrorsByKind[kind] != s.Count || s.ErrorRate != 1 {
			t.Errorf("%s: count %d errors %v rate %v, want all %s", op, s.Count, s.ErrorsByKind, s.ErrorRate, kind)
		}
	}
	if all.Errors != ops["Recall"].Count+ops["Search"].Count+ops["PatternCompletion"].Count {
		t.Errorf("overall errors %d do not add up", all.Errors)
	}

	// Connection refused.
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	e2 := p.use(&Engine{Client: NewClient(4, time.Second), Workload: getWorkload{u}, MaxInFlight: 4})
	res, err = e2.Run(context.Background(), Phase{Pacer: arrival.Regular{Shape: arrival.Flat(100)}, Mix: mix(t, [numOps]float64{1}), Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ops, _, _ = res.Recorder.Stats(res.Elapsed())
	if s := ops["Store"]; s.Count == 0 || s.ErrorsByKind["connection"] != s.Count {
		t.Errorf("refused connections: %+v, want all \"connection\"", s.ErrorsByKind)
	}
}

func TestInterruptStopsCleanly(t *testing.T) { forEachClient(t, testInterruptStopsCleanly) }

func testInterruptStopsCleanly(t *testing.T, p path) {
	e, _ := testEngine(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), 10, time.Second)
	p.use(e)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := e.Run(ctx, Phase{Pacer: arrival.Regular{Shape: arrival.Flat(100)}, Mix: mix(t, [numOps]float64{1}), Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || time.Since(start) > 10*time.Second || res.Recorder.Count() == 0 {
		t.Errorf("interrupted=%v after %v with %d samples; want an early, clean stop with what was measured", res.Interrupted, time.Since(start), res.Recorder.Count())
	}
}
