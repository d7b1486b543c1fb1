package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/target"
)

// preloadScenario reads only (no stores), so the target's memory count is
// the preload's alone.
const preloadScenario = `name = "preload"
description = "recall only"
[duration]
total_seconds = 0.3
warmup_seconds = 0
[arrival]
pattern = "constant"
rate = 50.0
[operations]
store_weight = 0.0
recall_weight = 1.0
embedding_search_weight = 0.0
pattern_completion_weight = 0.0
[data]
num_nodes = 200
embedding_dim = 768
memory_spaces = 1
[validation]
max_error_rate = 0.5
`

// TestPreloadIsIdempotent preloads the reference target twice with the
// same scenario and seed: the second run stores nothing and the target
// still holds num_nodes memories. A bigger num_nodes tops up; another seed
// is refused with a message that says why.
func TestPreloadIsIdempotent(t *testing.T) {
	inst, err := target.Start(target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close() })
	sc := parse(t, preloadScenario)
	run := func(seed uint64, nodes int) (*strings.Builder, error) {
		t.Helper()
		var progress strings.Builder
		_, err := Run(context.Background(), Config{Scenario: sc, Endpoint: inst.URL(), Target: "builtin",
			Repetitions: 1, Seed: seed, Nodes: &nodes, Progress: &progress, Limits: lenient})
		return &progress, err
	}
	count := func() int { return inst.Server().Len("") }

	if progress, err := run(7, 200); err != nil {
		t.Fatalf("first run: %v\n%s", err, progress)
	}
	if n := count(); n != 200 {
		t.Fatalf("after the first preload the target holds %d memories, want 200", n)
	}
	progress, err := run(7, 200)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, progress)
	}
	if n := count(); n != 200 {
		t.Errorf("after preloading twice the target holds %d memories, want 200", n)
	}
	if !strings.Contains(progress.String(), "already holds this dataset") {
		t.Errorf("the second run did not say it reused the dataset:\n%s", progress)
	}

	if progress, err := run(7, 300); err != nil {
		t.Fatalf("top-up run: %v\n%s", err, progress)
	}
	if n := count(); n != 300 {
		t.Errorf("after topping up to 300 the target holds %d memories, want 300", n)
	}

	_, err = run(8, 300)
	if !errors.Is(err, ErrPreload) || !strings.Contains(err.Error(), "not this scenario's dataset") || !strings.Contains(err.Error(), "restart the target") {
		t.Errorf("another seed on a loaded target: %v, want ErrPreload naming the other dataset and the fix", err)
	}
	if n := count(); n != 300 {
		t.Errorf("a refused preload changed the target: %d memories, want 300", n)
	}
}

// TestPreloadConcurrent: generators that preload one empty target at the
// same time (the shards of a run, each starting when it starts) all see
// one dataset — none takes the other's first stores for someone else's
// data — and the target ends up holding it once. The target here is slow
// to store node 0 (200 ms), and the second generator looks at it 50 ms
// after the first began: while the first's stores are in flight.
func TestPreloadConcurrent(t *testing.T) {
	srv, err := target.NewServer(target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"`+PreloadID(0)+`"`)) {
			time.Sleep(200 * time.Millisecond)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	sc := parse(t, preloadScenario)
	errs := make(chan error, 2)
	for g := range 2 {
		go func() {
			time.Sleep(time.Duration(g) * 50 * time.Millisecond)
			nodes := 300
			_, err := Run(context.Background(), Config{Scenario: sc, Endpoint: ts.URL, Target: "external",
				Repetitions: 1, Duration: 100 * time.Millisecond, Seed: 7, Nodes: &nodes, Limits: lenient})
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := srv.Len(""); n != 300 {
		t.Errorf("the target holds %d memories, want 300", n)
	}
}
