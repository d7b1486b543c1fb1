package target

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"unsafe"
)

// TestScalarDotSameAnswers fills two stores with the same memories and
// recalls the same queries with the lane-parallel and the scalar dot
// product, on the exact path (≤ exactRecallLimit memories) and the
// approximate one: the same memories in the same order, scores within
// float32 rounding.
func TestScalarDotSameAnswers(t *testing.T) {
	for _, n := range []int{300, exactRecallLimit + 500} {
		simd, scalar := newStore(), newStore()
		scalar.dot = dotScalar
		sa, _, _ := simd.space("s")
		sb, _, _ := scalar.space("s")
		for i := range n {
			v := contentEmbedding(fmt.Sprint("memory ", i))
			simd.put(sa, memory{ID: fmt.Sprint("m", i)}, v)
			scalar.put(sb, memory{ID: fmt.Sprint("m", i)}, v)
		}
		for q := range 20 {
			v := contentEmbedding(fmt.Sprint("query ", q))
			if q%4 == 0 { // a stored memory as the query: it must come first
				v = contentEmbedding(fmt.Sprint("memory ", q*7))
			}
			a, _ := simd.recallVector(sa, v, -1, 10)
			b, _ := scalar.recallVector(sb, v, -1, 10)
			if len(a) != 10 || len(a) != len(b) {
				t.Fatalf("n=%d q=%d: %d vs %d hits", n, q, len(a), len(b))
			}
			for i := range a {
				if a[i].mem.ID != b[i].mem.ID {
					t.Errorf("n=%d q=%d hit %d: %s (simd) vs %s (scalar)", n, q, i, a[i].mem.ID, b[i].mem.ID)
				}
				if d := math.Abs(float64(a[i].score - b[i].score)); d > 1e-5 {
					t.Errorf("n=%d q=%d hit %d: scores %v vs %v", n, q, i, a[i].score, b[i].score)
				}
			}
			if q%4 == 0 && a[0].mem.ID != fmt.Sprint("m", q*7) {
				t.Errorf("n=%d q=%d: stored query not first: %s", n, q, a[0].mem.ID)
			}
		}
	}
	// The scalar loop against float64 arithmetic.
	a, b := contentEmbedding("a"), contentEmbedding("b")
	var want float64
	for i := range a {
		want += float64(a[i]) * float64(b[i])
	}
	if got := dotScalar(a, b); math.Abs(float64(got)-want) > 1e-5 {
		t.Errorf("dotScalar %v, want %v", got, want)
	}
	if got := dot8(a, b); math.Abs(float64(got)-want) > 1e-5 {
		t.Errorf("dot8 %v, want %v", got, want)
	}
}

// TestCountersLayout checks the false-sharing knob's layout: shared-line
// counters on one 64-byte line, padded ones 128 bytes apart, and each
// API request bumping one counter.
func TestCountersLayout(t *testing.T) {
	for range 20 { // several allocations: alignment must not be luck
		w := newWorkerCounters(CountersShared)
		first := uintptr(unsafe.Pointer(&w.packed[0]))
		last := uintptr(unsafe.Pointer(&w.packed[7])) + 7
		if first/64 != last/64 {
			t.Fatalf("shared-line counters span lines: %#x…%#x", first, last)
		}
		p0, p1 := uintptr(unsafe.Pointer(&w.padded[0].c)), uintptr(unsafe.Pointer(&w.padded[1].c))
		if p1-p0 < 128 {
			t.Fatalf("padded counters %d bytes apart", p1-p0)
		}
	}
	if newWorkerCounters(CountersOff) != nil {
		t.Error("counters off allocates counters")
	}
	for _, layout := range []string{CountersPadded, CountersShared} {
		s, err := NewServer(Options{Counters: layout})
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/memories/recall?query=x", nil))
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health/alive", nil))
		if got := s.ctrs.total(); got != 5*counterBumps {
			t.Errorf("%s: counters total %d, want %d (5 API requests)", layout, got, 5*counterBumps)
		}
	}
	if err := (Options{Counters: "bogus"}).Validate(); err == nil {
		t.Error("bad layout accepted")
	}
}
