package load

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/engram/m18-gate/runners/result"
)

// windows records one measured phase in windows of its schedule: each
// sample goes to the window of its intended send time, so that the
// windows of several shards, whose phases share a planned start, line up
// and merge window by window. Safe for concurrent use.
type windows struct {
	width time.Duration
	mu    sync.Mutex
	wins  []*window
}

type window struct {
	count, errors uint64
	h             *hdr.Histogram
}

// windowWidth is the window of a phase of duration d: whole seconds, at
// least one, at most about 120 windows a phase (each holds a histogram).
func windowWidth(d time.Duration) time.Duration {
	return max(time.Second, (d / 120).Truncate(time.Second))
}

func newWindows(d time.Duration) *windows { return &windows{width: windowWidth(d)} }

func (w *windows) observe(s Sample) {
	i := int(s.Intended / w.width)
	us := min(max(int64(s.Latency/time.Microsecond), result.HistogramMinUs), result.HistogramMaxUs)
	w.mu.Lock()
	for len(w.wins) <= i {
		w.wins = append(w.wins, nil)
	}
	win := w.wins[i]
	if win == nil {
		win = &window{h: result.NewWindowHistogram()}
		w.wins[i] = win
	}
	win.count++
	if !s.Outcome.OK() {
		win.errors++
	}
	if win.h != nil { // nil once released
		_ = win.h.RecordValue(us) // in range by construction
	}
	w.mu.Unlock()
}

// series returns the windows that received samples, in time order.
func (w *windows) series() ([]result.Window, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []result.Window
	sec := w.width.Seconds()
	for i, win := range w.wins {
		if win == nil {
			continue
		}
		enc, err := result.EncodeHistogram(win.h)
		if err != nil {
			return nil, err
		}
		lat := result.LatencyOf(win.h)
		out = append(out, result.Window{
			StartSeconds: float64(i) * sec, EndSeconds: float64(i+1) * sec,
			Count: win.count, Errors: win.errors, Rate: float64(win.count) / sec,
			P50: lat.P50, P99: lat.P99, Max: lat.Max, Histogram: enc,
		})
	}
	return out, nil
}

// count is the number of samples window i received.
func (w *windows) count(i int) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i < len(w.wins) && w.wins[i] != nil {
		return w.wins[i].count
	}
	return 0
}

// takeMedian is window i's median latency and its 95 % interval (zero for a
// window without samples), and releases the window's histogram: a long
// adaptive warm-up keeps only the windows it has not judged yet. Samples
// the window receives after are counted, not recorded.
func (w *windows) takeMedian(i int) medianCI {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i < len(w.wins) && w.wins[i] != nil && w.wins[i].h != nil {
		m := medianOf(w.wins[i].h)
		w.wins[i].h = nil
		return m
	}
	return medianCI{}
}
