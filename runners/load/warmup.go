package load

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/result"
)

// DefaultAutoWarmupMax bounds an adaptive warm-up when neither
// `--warmup auto:MAX` nor the scenario (warmup_seconds > 0) gives a
// maximum.
const DefaultAutoWarmupMax = 10 * time.Second

// ParseWarmup reads a --warmup value: a Go duration ("5s": a fixed
// warm-up), "auto" (adaptive, at most the scenario's warm-up) or
// "auto:MAX" (adaptive, at most MAX). d is nil for plain "auto".
func ParseWarmup(s string) (d *time.Duration, auto bool, err error) {
	v, isAuto := strings.CutPrefix(s, "auto")
	if isAuto && v == "" {
		return nil, true, nil
	}
	if isAuto {
		if v, isAuto = strings.CutPrefix(v, ":"); !isAuto {
			return nil, false, fmt.Errorf("%q: want a Go duration (5s), auto, or auto:MAX (auto:10s)", s)
		}
	} else {
		v = s
	}
	w, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("%q: want a Go duration (5s), auto, or auto:MAX (auto:10s): %v", s, err)
	case w < 0:
		return nil, false, fmt.Errorf("%q: a warm-up cannot be negative", s)
	case isAuto && w == 0:
		return nil, false, fmt.Errorf("%q: the maximum of an adaptive warm-up must be > 0 (auto:10s), or give 0 for none", s)
	}
	return &w, isAuto, nil
}

// settleWidth is the window of an adaptive warm-up at a mean rate of rate
// sends per second: SettleMinRequests sends, at least SettleMinWindow,
// rounded up to the millisecond.
func settleWidth(rate float64) time.Duration {
	w := SettleMinWindow
	if rate > 0 {
		w = max(w, time.Duration(math.Ceil(1000*SettleMinRequests/rate))*time.Millisecond)
	}
	return w
}

// autoWarmup runs one adaptive warm-up: a single phase of the maximum's
// length whose Pacer stops once the windows have settled. One phase, not
// a phase per window, so the open-loop schedule runs on across windows:
// no gap, no restart of the arrival process, no pause while the last
// responses of a window come in. It records each sample into the window
// of its intended send (the windows of the sharded measured phase), and
// judges a window once every send paced into it has an outcome.
type autoWarmup struct {
	limit time.Duration // the maximum: the phase's duration
	// grace is how long after a window's end every send of it has an
	// outcome even when some were dropped (DropAfter + the request
	// timeout): the fallback that closes a window whose count never
	// completes.
	grace time.Duration
	w     *windows
	stop  atomic.Bool
	start time.Time // the phase's start, about (set by begin)

	mu      sync.Mutex
	paced   []uint64      // sends paced into each window
	pacedTo time.Duration // intended time of the latest paced send
	judged  []medianCI    // the closed windows, in order
	settled int           // windows judged when the rule was met; 0 = not
}

func newAutoWarmup(limit, width, grace time.Duration) *autoWarmup {
	return &autoWarmup{limit: limit, grace: grace, w: &windows{width: width}}
}

// pacer wraps the phase's Pacer: it stops once the windows settled, and
// counts the sends it paces per window.
func (a *autoWarmup) pacer(p arrival.Pacer) arrival.Pacer { return stoppable{p, a} }

type stoppable struct {
	arrival.Pacer
	a *autoWarmup
}

// Pace implements arrival.Pacer.
func (s stoppable) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if s.a.stop.Load() {
		return 0, true
	}
	wait, stop := s.Pacer.Pace(elapsed, hits)
	a, t := s.a, elapsed+wait
	a.mu.Lock()
	switch {
	case stop:
		a.pacedTo = a.limit // the schedule ended: every window is paced
	case t < a.limit: // later sends are not sent
		i := int(t / a.w.width)
		for len(a.paced) <= i {
			a.paced = append(a.paced, 0)
		}
		a.paced[i]++
		fallthrough
	default:
		a.pacedTo = t
	}
	a.mu.Unlock()
	return wait, stop
}

// begin marks the phase's start; call it just before the phase runs.
func (a *autoWarmup) begin() { a.start = time.Now() }

// observe records a sample and judges every window it closes.
func (a *autoWarmup) observe(s Sample) {
	a.w.observe(s)
	if a.stop.Load() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.settled == 0 {
		i := len(a.judged)
		end := time.Duration(i+1) * a.w.width
		if end > a.limit {
			return // a window cut by the maximum is never judged
		}
		var paced uint64
		if i < len(a.paced) {
			paced = a.paced[i]
		}
		done := a.w.count(i)
		complete := a.pacedTo >= end && done >= paced
		if !complete && time.Since(a.start) < end+a.grace {
			return
		}
		m := a.w.takeMedian(i)
		a.judged = append(a.judged, m)
		if settled(a.judged) {
			a.settled = len(a.judged)
			a.stop.Store(true)
		}
	}
}

// outcome describes the warm-up that ran as res.
func (a *autoWarmup) outcome(res *PhaseResult) *result.Warmup {
	a.mu.Lock()
	defer a.mu.Unlock()
	width := a.w.width.Seconds()
	out := &result.Warmup{Auto: true, Seconds: res.Elapsed().Seconds(), MaxSeconds: a.limit.Seconds(),
		WindowSeconds: width, Windows: len(a.judged)}
	for _, m := range a.judged {
		out.WindowP50Ms = append(out.WindowP50Ms, float64(m.Median)/1000)
	}
	if a.settled > 0 {
		out.Ended = result.WarmupSettled
		out.Note = fmt.Sprintf("settled after %d windows of %.3g s (%.3g s of at most %.3g s)", a.settled, width, out.Seconds, out.MaxSeconds)
	} else {
		out.Ended = result.WarmupMaximum
		out.Note = fmt.Sprintf("reached the maximum %.3g s: %d windows of %.3g s judged, no %d in a row indistinguishable at their sampling error", out.MaxSeconds, len(a.judged), width, SettleWindows)
	}
	return out
}
