package target

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// concurrency holds the state of the concurrency knobs (Options.Work,
// Workers, SharedWorkers, Serial, KeyLock): worker pools, the global lock
// and the per-space locks. The zero knobs make it a no-op.
type concurrency struct {
	work    time.Duration
	workers int
	shared  bool
	serial  float64
	keyLock bool

	global sync.Mutex
	mu     sync.Mutex
	pools  map[string]chan struct{} // by space; "" = the shared pool
	keys   map[string]*sync.Mutex
}

func newConcurrency(o Options) *concurrency {
	if o.Work == 0 && o.Workers == 0 {
		return nil
	}
	return &concurrency{work: o.Work, workers: o.Workers, shared: o.SharedWorkers, serial: o.Serial, keyLock: o.KeyLock,
		pools: map[string]chan struct{}{}, keys: map[string]*sync.Mutex{}}
}

// knobSpace is the memory space a request names in its header or query
// (the body's memory_space_id is not read here), "default" otherwise.
func knobSpace(r *http.Request) string {
	if h := r.Header.Get("X-Memory-Space"); h != "" {
		return h
	}
	if q := r.URL.Query().Get("space"); q != "" {
		return q
	}
	return defaultSpace
}

// acquire takes a worker of the request's pool (waiting in arrival order)
// and returns its release; it returns at once when ctx or done ends.
func (c *concurrency) acquire(ctx context.Context, done <-chan struct{}, space string) func() {
	if c.workers <= 0 {
		return func() {}
	}
	key := space
	if c.shared {
		key = ""
	}
	c.mu.Lock()
	p := c.pools[key]
	if p == nil {
		p = make(chan struct{}, c.workers)
		c.pools[key] = p
	}
	c.mu.Unlock()
	select {
	case p <- struct{}{}:
		return func() { <-p }
	case <-ctx.Done():
	case <-done:
	}
	return func() {}
}

// do spends the request's Work: a Serial fraction under the global lock,
// and with KeyLock all of it under its space's lock.
func (c *concurrency) do(ctx context.Context, done <-chan struct{}, space string) {
	if c.work <= 0 {
		return
	}
	if c.keyLock {
		c.mu.Lock()
		l := c.keys[space]
		if l == nil {
			l = new(sync.Mutex)
			c.keys[space] = l
		}
		c.mu.Unlock()
		l.Lock()
		defer l.Unlock()
	}
	serial := time.Duration(float64(c.work) * c.serial)
	sleepCtx(ctx, done, c.work-serial)
	if serial > 0 {
		c.global.Lock()
		sleepCtx(ctx, done, serial)
		c.global.Unlock()
	}
}
