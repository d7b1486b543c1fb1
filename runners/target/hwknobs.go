package target

import (
	"flag"
	"fmt"
	"sync/atomic"
)

// Hardware knobs (tasks 011–012: SIMD fallback, cache-line false sharing).

// dotScalar is the scalar fallback of dot8: one accumulator, one element
// at a time, the loop a CPU without vector units runs. It sums in a
// different order from dot8, so scores may differ in the last float32 bits;
// the memories a recall returns, and their order, do not.
func dotScalar(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// Counter layouts (Options.Counters).
const (
	CountersOff    = ""
	CountersPadded = "padded"
	CountersShared = "shared-line"
)

// counterBumps is how many increments each API request makes on its
// worker's counter: enough that, with counters on one line, the line's
// bouncing between cores shows in HITM counts.
const counterBumps = 256

// workerCounters are per-worker request counters, either each on its own
// 128-byte block (padded: no two share a cache line, nor an adjacent-line
// prefetch pair) or all eight on one 64-byte line (shared-line: false
// sharing). A request bumps the counter of worker (arrival number mod 8).
type workerCounters struct {
	// packed comes first: the struct's size class (1280 bytes) puts every
	// object at a multiple of 64 bytes, so its 64 bytes are one line.
	packed [8]atomic.Uint64
	_      [64]byte
	padded [8]struct {
		c atomic.Uint64
		_ [120]byte
	}
	shared bool
	next   atomic.Uint64
}

func newWorkerCounters(layout string) *workerCounters {
	if layout == CountersOff {
		return nil
	}
	return &workerCounters{shared: layout == CountersShared}
}

// bump does one request's increments.
func (w *workerCounters) bump() {
	i := w.next.Add(1) % 8
	c := &w.padded[i].c
	if w.shared {
		c = &w.packed[i]
	}
	for range counterBumps {
		c.Add(1)
	}
}

// total is the sum of the counters.
func (w *workerCounters) total() uint64 {
	var t uint64
	for i := range 8 {
		t += w.packed[i].Load() + w.padded[i].c.Load()
	}
	return t
}

// HardwareFlags defines the hardware knobs' flags, --simd and --counters,
// with prefix in front, on fs (KnobFlags includes them).
func HardwareFlags(fs *flag.FlagSet, prefix string, o *Options) {
	about := ""
	if prefix != "" {
		about = "built-in target: "
	}
	fs.Func(prefix+"simd", about+"`on` (default) or off: off replaces recall's lane-parallel dot product with a scalar loop (same answers)", func(v string) error {
		switch v {
		case "on":
			o.ScalarDot = false
		case "off":
			o.ScalarDot = true
		default:
			return fmt.Errorf("want on or off, got %q", v)
		}
		return nil
	})
	fs.StringVar(&o.Counters, prefix+"counters", "", about+"per-worker counters each API request bumps: `LAYOUT` padded (one cache line each) or shared-line (all on one line: false sharing)")
}
