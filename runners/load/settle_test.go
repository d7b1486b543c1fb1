package load

import (
	"testing"
	"time"
)

// The ranks of the median's 95 % interval, computed by hand from
// n/2 − 1.96·√n/2 and 1 + n/2 + 1.96·√n/2 rounded to the nearest integer.
// n = 100 gives ranks 40 and 61, the interval of statistical tables (the
// exact binomial one covers 96.5 %).
func TestMedianRanks(t *testing.T) {
	for _, c := range []struct {
		n      uint64
		lo, hi uint64
	}{
		{0, 0, 0},
		{1, 1, 1},       // 0.5 − 0.98 → 1 (clamped); 1.5 + 0.98 = 2.48 → 2, clamped to 1
		{10, 2, 9},      // √10 = 3.162, half 3.099: 1.90 → 2, 9.10 → 9
		{50, 18, 33},    // √50 = 7.071, half 6.930: 18.07 → 18, 32.93 → 33
		{100, 40, 61},   // half 9.8: 40.2 → 40, 60.8 → 61
		{400, 180, 221}, // half 19.6: 180.4 → 180, 220.6 → 221
	} {
		lo, hi := medianRanks(c.n)
		if lo != c.lo || hi != c.hi {
			t.Errorf("n = %d: ranks %d, %d; want %d, %d", c.n, lo, hi, c.lo, c.hi)
		}
	}
}

// spread returns the interval of a window of 100 requests whose latencies
// are centre−50 … centre+49 µs, one each: in the engine's 3-digit
// histogram (exact below 2048 µs) rank r is centre−51+r, so the median
// (rank 50) is centre−1 and the interval (ranks 40, 61) centre−11 …
// centre+10. Two such windows are therefore indistinguishable exactly
// when their centres differ by at most 10 µs.
func spread(t *testing.T, centre int64, n int64) medianCI {
	t.Helper()
	h := NewHistogram()
	for i := range n {
		if err := h.RecordValue(centre - n/2 + i); err != nil {
			t.Fatal(err)
		}
	}
	return medianOf(h)
}

func TestMedianOf(t *testing.T) {
	got := spread(t, 1000, 100)
	if want := (medianCI{N: 100, Median: 999, Lo: 989, Hi: 1010}); got != want {
		t.Errorf("medianOf = %+v, want %+v", got, want)
	}
	for _, c := range []struct {
		a, b int64
		want bool
	}{
		{1000, 1000, true}, {1000, 1010, true}, {1010, 1000, true},
		{1000, 1011, false}, {1011, 1000, false}, {1000, 1500, false},
	} {
		if got := indistinguishable(spread(t, c.a, 100), spread(t, c.b, 100)); got != c.want {
			t.Errorf("windows centred %d and %d: indistinguishable = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestSettleRule(t *testing.T) {
	const maxWindows = 12 // the maximum, in windows
	series := func(n int64, centres ...int64) func(t *testing.T) []medianCI {
		return func(t *testing.T) []medianCI {
			var ws []medianCI
			for _, c := range centres {
				ws = append(ws, spread(t, c, n))
			}
			return ws
		}
	}
	for _, c := range []struct {
		name    string
		windows func(t *testing.T) []medianCI
		// want is the number of windows after which the warm-up ends
		// settled; 0: it reaches the maximum.
		want int
	}{
		// Identical windows settle at the first judgement: the third window.
		{"steady", series(100, 1000, 1000, 1000, 1000, 1000), 3},
		// Steady within the sampling error (±10 µs here).
		{"steady within the error", series(100, 1000, 1008, 1001, 1009), 3},
		// A cold start decaying by half each window: the first three
		// windows within 10 µs of each other are 1012, 1006, 1003 (the 7th
		// to 9th); 1025, 1012, 1006 before them span 19.
		{"decaying", series(100, 1800, 1400, 1200, 1100, 1050, 1025, 1012, 1006, 1003, 1002, 1001, 1001), 9},
		// A step down after two slow windows: settles on the third fast one.
		{"step", series(100, 1500, 1500, 1000, 1000, 1000, 1000), 5},
		// The rule's blind spot: a slow plateau as long as the rule's
		// three windows looks settled; nothing in the data says a step
		// will come (a known slow start needs a fixed warm-up).
		{"plateau of three windows", series(100, 1500, 1500, 1500, 1000, 1000, 1000), 3},
		// A drift of 6 µs a window hides in the sampling error of two
		// neighbours (≤ 10) but not over three windows (12): never settled.
		{"slow drift", series(100, 1100, 1094, 1088, 1082, 1076, 1070, 1064, 1058, 1052, 1046, 1040, 1034, 1028), 0},
		// Alternating windows never agree.
		{"alternating", series(100, 1000, 1020, 1000, 1020, 1000, 1020, 1000, 1020, 1000, 1020, 1000, 1020, 1000, 1020), 0},
		// Too few requests a window to judge (under 50): never settled.
		{"too few requests", series(40, 1000, 1000, 1000, 1000, 1000, 1000), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ws := c.windows(t)
			if got := settleAt(ws[:min(len(ws), maxWindows)]); got != c.want {
				t.Errorf("settled after %d windows, want %d (0: the maximum)", got, c.want)
			}
		})
	}
}

func TestSettleWidth(t *testing.T) {
	for _, c := range []struct {
		rate float64
		want time.Duration
	}{
		{10_000, 250 * time.Millisecond}, // 25 000 requests a window: the floor
		{400, 250 * time.Millisecond},    // exactly 100
		{300, 334 * time.Millisecond},    // 333.3 ms, rounded up
		{20, 5 * time.Second},
		{0, 250 * time.Millisecond},
	} {
		if got := settleWidth(c.rate); got != c.want {
			t.Errorf("settleWidth(%g) = %v, want %v", c.rate, got, c.want)
		}
	}
}

func TestParseWarmup(t *testing.T) {
	sec := func(s float64) *time.Duration { d := time.Duration(s * float64(time.Second)); return &d }
	for _, c := range []struct {
		in   string
		want *time.Duration
		auto bool
		bad  bool
	}{
		{in: "5s", want: sec(5)},
		{in: "0s", want: sec(0)},
		{in: "auto", auto: true},
		{in: "auto:10s", want: sec(10), auto: true},
		{in: "auto:1.5s", want: sec(1.5), auto: true},
		{in: "5", bad: true},
		{in: "autox", bad: true},
		{in: "auto:", bad: true},
		{in: "auto:0s", bad: true},
		{in: "auto:-1s", bad: true},
		{in: "-1s", bad: true},
		{in: "auto10s", bad: true},
	} {
		d, auto, err := ParseWarmup(c.in)
		switch {
		case c.bad && err == nil:
			t.Errorf("%q: accepted (%v, auto %v), want an error", c.in, d, auto)
		case !c.bad && err != nil:
			t.Errorf("%q: %v", c.in, err)
		case !c.bad && (auto != c.auto || (d == nil) != (c.want == nil) || (d != nil && *d != *c.want)):
			t.Errorf("%q: %v auto %v, want %v auto %v", c.in, d, auto, c.want, c.auto)
		}
	}
}
