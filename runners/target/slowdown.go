package target

import (
	"sync"
	"sync/atomic"
	"time"
)

// SlowdownOf values: what the Slowdown knob's percentage is a percentage of.
const (
	// SlowdownOfHandler spins for Slowdown percent of each API request's
	// handler time (wall clock). The handler is only part of what a request
	// costs the process (HTTP parsing, response writing and the garbage
	// collector are not in it), so the process's CPU per request rises by
	// less than Slowdown percent; it is what an in-process target can do,
	// whose process also runs the load generator.
	SlowdownOfHandler = "handler"
	// SlowdownOfProcess spins for Slowdown percent of the process's own CPU
	// time per API request, measured as it runs (the added work left out):
	// --slowdown 10 makes every request cost the process 10 % more CPU, as
	// a 10 % regression of the code would, however busy the machine is
	// (the work is counted in CPU time, not wall time). For a target that is
	// a process of its own.
	SlowdownOfProcess = "process"
)

// slowdown adds the Slowdown knob's CPU work to API requests.
type slowdown struct {
	pct     float64
	process bool
	spun    atomic.Uint64 // result of the work, kept so it is not optimised away

	// Process mode: the CPU time per request without the added work,
	// re-estimated every estimateEvery from the process's CPU time.
	requests atomic.Uint64
	added    atomic.Int64 // CPU time spent in added work, ns
	perReq   atomic.Int64 // current estimate, ns; 0 until the first estimate
	mu       sync.Mutex   // guards the fields below (one estimator at a time)
	lastAt   time.Time
	lastCPU  time.Duration
	lastAdd  time.Duration
	lastReqs uint64
}

// estimateEvery is how often the CPU time per request is re-estimated, and
// estimateMin the fewest requests an estimate is made from.
const (
	estimateEvery = 200 * time.Millisecond
	estimateMin   = 20
)

func newSlowdown(o Options) *slowdown {
	if o.Slowdown <= 0 {
		return nil
	}
	return &slowdown{pct: o.Slowdown, process: o.SlowdownOf == SlowdownOfProcess}
}

// after adds the work for one API request whose handler began at began.
func (s *slowdown) after(began time.Time) {
	if !s.process {
		s.spun.Add(spin(time.Duration(float64(time.Since(began)) * s.pct / 100)))
		return
	}
	s.requests.Add(1)
	s.estimate(time.Now())
	base := time.Duration(s.perReq.Load())
	if base <= 0 { // no estimate yet: the handler's time stands in
		base = time.Since(began)
	}
	x, used := spinCPU(time.Duration(float64(base) * s.pct / 100))
	s.spun.Add(x)
	s.added.Add(int64(used))
}

// estimate re-estimates the CPU time per request from the process's CPU
// time since the last estimate, less the added work, when estimateEvery has
// passed and enough requests were served; a smoothed mean of such windows
// follows a change of the workload within a few windows.
func (s *slowdown) estimate(now time.Time) {
	if !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	if now.Sub(s.lastAt) < estimateEvery {
		return
	}
	cpu, err := processCPU()
	if err != nil {
		return
	}
	reqs, add := s.requests.Load(), time.Duration(s.added.Load())
	if s.lastAt.IsZero() {
		s.lastAt, s.lastCPU, s.lastAdd, s.lastReqs = now, cpu, add, reqs
		return
	}
	n := reqs - s.lastReqs
	if n < estimateMin {
		return
	}
	per := float64((cpu-s.lastCPU)-(add-s.lastAdd)) / float64(n)
	s.lastAt, s.lastCPU, s.lastAdd, s.lastReqs = now, cpu, add, reqs
	if per <= 0 {
		return
	}
	if old := s.perReq.Load(); old > 0 {
		per = 0.5*float64(old) + 0.5*per
	}
	s.perReq.Store(int64(per))
}
