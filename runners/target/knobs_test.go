package target

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string // "" = valid
	}{
		{"zero", Options{}, ""},
		{"all on", Options{Slowdown: 50, StallEvery: time.Second, StallFor: time.Millisecond, FailRate: 1, Capacity: 10, LeakMBPerMin: 1}, ""},
		{"negative slowdown", Options{Slowdown: -1}, "--slowdown"},
		{"nan slowdown", Options{Slowdown: math.NaN()}, "--slowdown"},
		{"stall-for alone", Options{StallFor: time.Second}, "set together"},
		{"stall-every alone", Options{StallEvery: time.Second}, "set together"},
		{"stall too long", Options{StallEvery: time.Second, StallFor: time.Second}, "shorter"},
		{"fail-rate > 1", Options{FailRate: 1.5}, "--fail-rate"},
		{"negative capacity", Options{Capacity: -1}, "--capacity"},
		{"negative leak", Options{LeakMBPerMin: -1}, "--leak"},
		// Concurrency knobs.
		{"concurrency on", Options{Work: time.Millisecond, Workers: 4, SharedWorkers: true, Serial: 0.5, KeyLock: true}, ""},
		{"negative work", Options{Work: -1}, "--work"},
		{"negative workers", Options{Workers: -1}, "--workers"},
		{"shared without pool", Options{SharedWorkers: true}, "--workers"},
		{"serial > 1", Options{Work: time.Millisecond, Serial: 1.5}, "--serial"},
		{"serial without work", Options{Serial: 0.5}, "--work"},
		{"key lock without work", Options{KeyLock: true}, "--work"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
			if _, err := NewServer(tc.o); err == nil {
				t.Error("NewServer accepted invalid options")
			}
		})
	}
}

// preload stores n random memories in the default space, straight into the
// store (the handler path is tested elsewhere; this keeps tests quick).
func preload(t testing.TB, s *Server, n int) {
	t.Helper()
	sp, _, err := s.store.space(defaultSpace)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < n; i++ {
		v := randomVector(r)
		normalize(v)
		s.store.put(sp, memory{ID: fmt.Sprintf("m%d", i), Content: fmt.Sprintf("memory %d", i), MemoryType: "semantic"}, v)
	}
	if got := s.Len(""); got != n {
		t.Fatalf("preload: Len = %d, want %d", got, n)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestSlowdown interleaves the same recall on a plain and a Slowdown 300
// server and compares median handling times: the slowed one does ~4× the
// work, so its median must be clearly (here > 2×) higher. Interleaving makes
// both suffer the same machine noise.
func TestSlowdown(t *testing.T) {
	fast, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	slow, err := NewServer(Options{Slowdown: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	n := 600
	if testing.Short() {
		n = 200
	}
	preload(t, fast, n)
	preload(t, slow, n)
	q := "/api/v1/memories/recall?threshold=0&embedding=" + url.QueryEscape(vectorJSON(randomVector(rand.New(rand.NewPCG(8, 9)))))
	var df, ds []time.Duration
	for i := 0; i < 41; i++ {
		for _, c := range []struct {
			s *Server
			d *[]time.Duration
		}{{fast, &df}, {slow, &ds}} {
			t0 := time.Now()
			if rec := serve(c.s, "GET", q, nil, ""); rec.Code != 200 {
				t.Fatalf("recall: %d", rec.Code)
			}
			*c.d = append(*c.d, time.Since(t0))
		}
	}
	mf, ms := median(df), median(ds)
	t.Logf("median recall: plain %v, slowdown 300%% %v (%.1fx)", mf, ms, float64(ms)/float64(mf))
	if ms < 2*mf {
		t.Errorf("slowdown 300%%: median %v is not > 2× the plain median %v", ms, mf)
	}
	// Health is exempt: probes stay truthful.
	if rec := serve(slow, "GET", "/health", nil, ""); rec.Code != 200 {
		t.Errorf("health on slowed server: %d", rec.Code)
	}
}

func TestStallWait(t *testing.T) {
	start := time.Unix(1000, 0)
	ms := time.Millisecond
	tests := []struct {
		at, want time.Duration
	}{
		{0, 0}, {399 * ms, 0}, // before the first stall
		{400 * ms, 250 * ms}, {500 * ms, 150 * ms}, {649 * ms, 1 * ms}, // in it
		{650 * ms, 0}, {799 * ms, 0}, // after it
		{800 * ms, 250 * ms}, {4100 * ms, 150 * ms}, {4350 * ms, 0}, // later stalls
	}
	for _, tc := range tests {
		if got := stallWait(start, start.Add(tc.at), 400*ms, 250*ms); got != tc.want {
			t.Errorf("at %v: wait %v, want %v", tc.at, got, tc.want)
		}
	}
	if got := stallWait(start, start.Add(time.Hour), 0, 0); got != 0 {
		t.Errorf("stalls off: wait %v", got)
	}
}

// TestStallVisible sends requests back to back across the first stall: one
// of them must wait most of StallFor, and the ones before it must not.
func TestStallVisible(t *testing.T) {
	const every, dur = 400 * time.Millisecond, 250 * time.Millisecond
	s, err := NewServer(Options{StallEvery: every, StallFor: dur})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var longest, beforeStall time.Duration
	deadline := s.start.Add(every + dur + 100*time.Millisecond)
	for i := 0; i < 1000 && time.Now().Before(deadline); i++ {
		arrive := time.Now()
		if rec := serve(s, "GET", "/api/v1/spaces", nil, ""); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		d := time.Since(arrive)
		longest = max(longest, d)
		if arrive.Sub(s.start) < every-100*time.Millisecond {
			beforeStall = max(beforeStall, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("longest request %v, longest before the stall %v", longest, beforeStall)
	if longest < dur/2 {
		t.Errorf("no request waited for the stall: longest %v, stall %v", longest, dur)
	}
	if beforeStall >= dur/2 {
		t.Errorf("requests before the stall already waited %v", beforeStall)
	}
}

// TestFailRate checks the injected failure count against binomial bounds
// (mean 400, sd 17.9 for 2000 × 0.2; ±5 sd), that it is deterministic in the
// seed, and that health is exempt.
func TestFailRate(t *testing.T) {
	pattern := func(seed uint64) []bool {
		s, err := NewServer(Options{FailRate: 0.2, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		out := make([]bool, 2000)
		for i := range out {
			rec := serve(s, "GET", "/api/v1/spaces", nil, "")
			switch rec.Code {
			case 500:
				out[i] = true
				if !strings.Contains(rec.Body.String(), "injected_failure") {
					t.Fatalf("500 body %s", rec.Body)
				}
			case 200:
			default:
				t.Fatalf("status %d", rec.Code)
			}
			if i%100 == 0 {
				if rec := serve(s, "GET", "/health", nil, ""); rec.Code != 200 {
					t.Fatalf("health failed with fail-rate on: %d", rec.Code)
				}
			}
		}
		return out
	}
	a, b, c := pattern(42), pattern(42), pattern(43)
	n := 0
	for _, f := range a {
		if f {
			n++
		}
	}
	mean, sd := 2000*0.2, math.Sqrt(2000*0.2*0.8)
	if math.Abs(float64(n)-mean) > 5*sd {
		t.Errorf("%d failures in 2000 at rate 0.2; want %v ± %.0f", n, mean, 5*sd)
	}
	if !slices.Equal(a, b) {
		t.Error("same seed gave different failure patterns")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same failure pattern")
	}
}

// TestCapacityQueues fires more concurrent requests than the capacity
// admits in a second: all must succeed (queued, not refused), and they
// cannot finish sooner than the token schedule allows.
func TestCapacityQueues(t *testing.T) {
	const rate, n = 100.0, 60
	inst := startTarget(t, Options{Capacity: rate})
	start := time.Now()
	var wg sync.WaitGroup
	codes := make([]int, n)
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := client.Get(inst.URL() + "/api/v1/spaces")
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}(i)
	}
	wg.Wait()
	el := time.Since(start)
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d: status %d; capacity must queue, not refuse", i, c)
		}
	}
	// 60 requests, 2 tokens at once, then one per 10 ms: >= 580 ms.
	if min := time.Duration(float64(n-2)/rate*float64(time.Second)) * 8 / 10; el < min {
		t.Errorf("%d requests at capacity %v/s took %v; the bucket should hold them >= %v", n, rate, el, min)
	}
	t.Logf("%d requests at capacity %v ops/s took %v", n, rate, el)
}

func TestBucketSchedule(t *testing.T) {
	b := newBucket(1000) // 1 ms interval, 10 tokens
	now := time.Unix(0, 0)
	var waits []time.Duration
	for i := 0; i < 14; i++ {
		waits = append(waits, b.reserve(now))
	}
	want := []time.Duration{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}
	for i := range want {
		if waits[i] != want[i]*time.Millisecond {
			t.Fatalf("waits = %v, want %v ms", waits, want)
		}
	}
	if newBucket(0) != nil {
		t.Error("capacity 0 must be unlimited")
	}
}

// TestLeakGrows checks that retained memory grows steadily at about the
// configured rate and stops when the server is closed.
func TestLeakGrows(t *testing.T) {
	const mbPerMin = 600 // 10 MiB/s
	s, err := NewServer(Options{LeakMBPerMin: mbPerMin})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	a := s.Leaked()
	time.Sleep(400 * time.Millisecond)
	b := s.Leaked()
	el := time.Since(s.start)
	s.Close()
	rate := float64(mbPerMin) * (1 << 20) / 60
	t.Logf("leaked %d then %d bytes", a, b)
	if a <= 0 || b <= a {
		t.Fatalf("leak did not grow: %d then %d", a, b)
	}
	if max := int64(rate * el.Seconds()); b > max+1 || b < int64(rate*0.3) {
		t.Errorf("leaked %d bytes after %v; want about %.0f/s (at most %d)", b, el, rate, max)
	}
	rec := serve(s, "GET", "/metrics/prometheus", nil, "")
	if !strings.Contains(rec.Body.String(), "m18_target_leaked_bytes") {
		t.Error("metrics lack m18_target_leaked_bytes")
	}
	time.Sleep(150 * time.Millisecond) // a tick in flight at Close may still land
	c := s.Leaked()
	time.Sleep(300 * time.Millisecond)
	if d := s.Leaked(); d != c {
		t.Errorf("leak continued after Close: %d then %d", c, d)
	}
	if s2, _ := NewServer(Options{}); s2.Leaked() != 0 {
		t.Error("leak on by default")
	}
}
