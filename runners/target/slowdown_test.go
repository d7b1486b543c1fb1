package target

import (
	"math/rand/v2"
	"net/url"
	"testing"
	"time"
)

// TestSlowdownOfProcess checks the process mode's promise: the work added
// is Slowdown percent of the CPU time the process spends per request
// without it. The server runs in the test's process, so "the process" is
// server and test together; the promise is the same.
func TestSlowdownOfProcess(t *testing.T) {
	if !canMeasureCPU {
		t.Skip("no process CPU time on this system")
	}
	for _, pct := range []float64{10, 50} {
		s, err := NewServer(Options{Slowdown: pct, SlowdownOf: SlowdownOfProcess})
		if err != nil {
			t.Fatal(err)
		}
		preload(t, s, 300)
		q := "/api/v1/memories/recall?threshold=0&embedding=" + url.QueryEscape(vectorJSON(randomVector(rand.New(rand.NewPCG(1, 2)))))
		for range 200 { // warm up: the estimate settles on recall
			serve(s, "GET", q, nil, "")
		}
		cpu0, err := processCPU()
		if err != nil {
			t.Fatal(err)
		}
		add0 := s.slow.added.Load()
		deadline := time.Now().Add(20 * time.Second)
		n := 0
		for ; n < 3000 && time.Now().Before(deadline); n++ {
			if rec := serve(s, "GET", q, nil, ""); rec.Code != 200 {
				t.Fatalf("recall: %d", rec.Code)
			}
		}
		cpu1, _ := processCPU()
		added := time.Duration(s.slow.added.Load() - add0)
		own := cpu1 - cpu0 - added
		got := 100 * float64(added) / float64(own)
		t.Logf("slowdown %v%%: %d requests, own CPU %v/request, added %v/request: +%.1f%%",
			pct, n, own/time.Duration(n), added/time.Duration(n), got)
		// The estimate trails the load by a few 200 ms windows and the
		// process's background work varies; a third of the percentage is
		// far more than either and far less than the effect.
		if got < pct*2/3 || got > pct*4/3 {
			t.Errorf("slowdown %v%% of the process: added %.1f%% of the process's own CPU per request", pct, got)
		}
		s.Close()
	}
}

func TestSpinCPUCountsCPU(t *testing.T) {
	if !canMeasureCPU {
		t.Skip("no thread CPU time on this system")
	}
	for _, d := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond} {
		before, _ := processCPU()
		_, used := spinCPU(d)
		after, _ := processCPU()
		if used < d {
			t.Errorf("spinCPU(%v) used %v", d, used)
		}
		if d > 0 && after-before < d {
			t.Errorf("spinCPU(%v): the process's CPU time grew by %v only", d, after-before)
		}
	}
}
