package procstat

import (
	"context"
	"sync"
	"time"
)

// DefaultMaxSamples is the number of samples a Sampler keeps unless told
// otherwise: at one sample a second it holds a little over an hour at full
// resolution, and a 24-hour soak thins to one sample every 32 s.
const DefaultMaxSamples = 4096

// Sampler reads a process's Stats at a fixed interval in the background.
//
// Memory is bounded: once it holds its maximum number of samples it drops
// every other one and from then on keeps only every second reading (and so
// on, doubling), so the kept samples always span the whole run evenly.
type Sampler struct {
	pid   int
	every time.Duration
	max   int
	read  func(int) (Stats, error)

	mu      sync.Mutex
	samples []Stats
	stride  int // keep reading n when n%stride == 0
	n       int // successful readings so far
	err     error
	errs    int

	cancel context.CancelFunc
	done   chan struct{}
}

// Option configures a Sampler.
type Option func(*Sampler)

// MaxSamples sets how many samples the Sampler keeps (at least 2).
func MaxSamples(n int) Option {
	return func(s *Sampler) {
		if n < 2 {
			n = 2
		}
		s.max = n
	}
}

// withReader replaces Read; tests use it to sample a fake process.
func withReader(read func(int) (Stats, error)) Option {
	return func(s *Sampler) { s.read = read }
}

// NewSampler returns a Sampler that reads process pid every interval once
// started. An interval below 10 ms is raised to 10 ms.
func NewSampler(pid int, every time.Duration, opts ...Option) *Sampler {
	if every < 10*time.Millisecond {
		every = 10 * time.Millisecond
	}
	s := &Sampler{pid: pid, every: every, max: DefaultMaxSamples, read: Read, stride: 1}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Start takes a first reading at once and then one every interval until ctx
// is done or Stop is called. Start must be called at most once.
func (s *Sampler) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.every)
		defer t.Stop()
		s.sample()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
}

func (s *Sampler) sample() {
	st, err := s.read(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = err
		s.errs++
		return
	}
	n := s.n
	s.n++
	if n%s.stride != 0 {
		return
	}
	s.samples = append(s.samples, st)
	if len(s.samples) >= s.max {
		kept := s.samples[:0]
		for i := 0; i < len(s.samples); i += 2 {
			kept = append(kept, s.samples[i])
		}
		// Clear the tail so dropped samples do not linger.
		clear(s.samples[len(kept):])
		s.samples = kept
		// Kept readings were those with n%stride == 0; every other one of
		// them is exactly those with n%(2·stride) == 0.
		s.stride *= 2
	}
}

// Stop stops sampling, waits for the background reader to finish and returns
// the kept samples in time order. Calling Stop on a Sampler never started
// returns nil.
func (s *Sampler) Stop() []Stats {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	<-s.done
	return s.Samples()
}

// Samples returns a copy of the samples kept so far, in time order; it may
// be called while sampling runs.
func (s *Sampler) Samples() []Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Stats(nil), s.samples...)
}

// Last returns the most recent kept sample, and false if there is none.
func (s *Sampler) Last() (Stats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return Stats{}, false
	}
	return s.samples[len(s.samples)-1], true
}

// Failures returns how many readings failed and the last error; a process
// that exits mid-run shows up here rather than stopping the sampler.
func (s *Sampler) Failures() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errs, s.err
}
