package target

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestConcurrencyKnobs sends 8 requests at once, in one space or in 8, and
// reads how long all took: requests that serialise take at least 8 × Work
// (a lower bound no machine can beat), requests in parallel far less.
func TestConcurrencyKnobs(t *testing.T) {
	const work = 50 * time.Millisecond
	for _, tc := range []struct {
		name     string
		o        Options
		spaces   int // 1 = all in one space, else one space each
		serial   bool
		parallel bool
	}{
		{"work only", Options{Work: work}, 1, false, true},
		{"one worker per space, one space", Options{Work: work, Workers: 1}, 1, true, false},
		{"one worker per space, many spaces", Options{Work: work, Workers: 1}, 8, false, true},
		{"one shared worker, many spaces", Options{Work: work, Workers: 1, SharedWorkers: true}, 8, true, false},
		{"all serial", Options{Work: work, Serial: 1}, 8, true, false},
		{"key lock, one space", Options{Work: work, KeyLock: true}, 1, true, false},
		{"key lock, many spaces", Options{Work: work, KeyLock: true}, 8, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewServer(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			hs := httptest.NewServer(s)
			defer hs.Close()
			start := time.Now()
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest(http.MethodGet, hs.URL+"/api/v1/memories/recall?query=x", nil)
					if tc.spaces > 1 {
						req.Header.Set("X-Memory-Space", "s"+string(rune('a'+i)))
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
				}()
			}
			wg.Wait()
			el := time.Since(start)
			if tc.serial && el < 8*work {
				t.Errorf("8 requests took %v, want ≥ %v: they should have run one at a time", el, 8*work)
			}
			if tc.parallel && el >= 4*work {
				t.Errorf("8 requests took %v, want < %v: they should have overlapped", el, 4*work)
			}
			if el < work {
				t.Errorf("8 requests took %v, less than one Work (%v)", el, work)
			}
		})
	}
}
