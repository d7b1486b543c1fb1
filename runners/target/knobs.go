package target

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// stallWait returns how long a request at time now must wait for the current
// stall to end (0 outside stalls). Stalls are [start+k·every, start+k·every+for)
// for k ≥ 1.
func stallWait(start, now time.Time, every, dur time.Duration) time.Duration {
	if every <= 0 {
		return 0
	}
	el := now.Sub(start)
	if el < every {
		return 0
	}
	if into := el % every; into < dur {
		return dur - into
	}
	return 0
}

// sleepCtx sleeps for d or until ctx or done ends, whichever comes first.
func sleepCtx(ctx context.Context, done <-chan struct{}, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-done:
	}
}

// spin burns CPU for d and returns a value computed from the work so that it
// cannot be optimised away.
func spin(d time.Duration) uint64 {
	x := uint64(d) | 1
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 512; i++ {
			x = x*6364136223846793005 + 1442695040888963407
			x ^= x >> 29
		}
	}
	return x
}

// failer decides, deterministically from the seed and the request's arrival
// number, which requests are answered 500.
type failer struct {
	rate float64
	seed uint64
	n    atomic.Uint64
}

// fail reports whether the next request fails.
func (f *failer) fail() bool {
	if f.rate <= 0 {
		return false
	}
	n := f.n.Add(1)
	return unitFloat(splitmix64(f.seed^splitmix64(n))) < f.rate
}

// bucket is a token bucket kept as a virtual schedule: next is the time the
// next token is due. Tokens accrue up to burst; a request takes the next
// token and waits until it is due, so excess requests queue in arrival order.
type bucket struct {
	interval time.Duration
	burst    time.Duration
	mu       sync.Mutex
	next     time.Time
	waiting  atomic.Int64
}

// newBucket returns a bucket admitting rate ops/s, holding 10 ms of tokens
// (at least one); nil for rate 0 (unlimited).
func newBucket(rate float64) *bucket {
	if rate <= 0 {
		return nil
	}
	interval := time.Duration(float64(time.Second) / rate)
	if interval <= 0 {
		interval = 1
	}
	tokens := math.Max(1, math.Ceil(rate/100))
	return &bucket{interval: interval, burst: time.Duration(tokens) * interval}
}

// reserve takes a token and returns how long to wait for it.
func (b *bucket) reserve(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if earliest := now.Add(-b.burst); b.next.Before(earliest) {
		b.next = earliest
	}
	wait := b.next.Sub(now)
	b.next = b.next.Add(b.interval)
	if wait < 0 {
		return 0
	}
	return wait
}

// leaker retains memory on purpose at a steady rate.
type leaker struct {
	bytesPerSec float64
	mu          sync.Mutex
	chunks      [][]byte
	total       atomic.Int64
}

// run grows the retained memory every tick until done is closed, keeping the
// total at rate × elapsed time.
func (l *leaker) run(start time.Time, tick time.Duration, done <-chan struct{}) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			want := int64(l.bytesPerSec * now.Sub(start).Seconds())
			if n := want - l.total.Load(); n > 0 {
				b := make([]byte, n)
				for i := 0; i < len(b); i += 4096 {
					b[i] = byte(i>>12) | 1 // touch every page so it is resident
				}
				l.mu.Lock()
				l.chunks = append(l.chunks, b)
				l.mu.Unlock()
				l.total.Add(n)
			}
		}
	}
}
