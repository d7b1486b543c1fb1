package target

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Options configures a Server. The zero value is a plain, fast, correct
// target: every knob is off.
type Options struct {
	// Slowdown adds CPU work to every API request: Slowdown percent of
	// what SlowdownOf says, so 50 makes API requests about 1.5× slower and
	// 300 about 4×. Health and metrics routes are not slowed. 0 = off.
	Slowdown float64
	// SlowdownOf is what Slowdown is a percentage of: SlowdownOfHandler
	// ("handler", the default) or SlowdownOfProcess ("process", the
	// process's own CPU time per request: for a target that is a process of
	// its own, as m18-target is).
	SlowdownOf string

	// StallEvery and StallFor make the whole server pause periodically: from
	// start+StallEvery, for StallFor, every StallEvery. A request arriving
	// during a stall waits until it ends before it is handled, and a request
	// that finishes during a stall holds its response until the stall ends.
	// Both zero = off; otherwise 0 < StallFor < StallEvery.
	StallEvery, StallFor time.Duration

	// FailRate is the fraction of API requests answered 500 on purpose, in
	// [0, 1]. Which requests fail is a deterministic function of Seed and the
	// request's arrival number. 0 = off.
	FailRate float64

	// Capacity is the rate, in API operations per second, that the server
	// admits (a token bucket holding 10 ms of tokens, at least one). Requests
	// beyond it queue until a token is free; they are never rejected.
	// 0 = unlimited.
	Capacity float64

	// LeakMBPerMin makes the server retain this many MiB per minute on
	// purpose, in small steps, for as long as it runs (memory is touched so
	// it is resident). 0 = off.
	LeakMBPerMin float64

	// Seed makes injected failures and generated memory ids reproducible.
	Seed uint64

	// --- Concurrency knobs (tasks 007–009: scalability, contention,
	// tenant isolation). See concurrency.go.

	// Work is the time every API request spends waiting on its worker, as
	// on a disk or a downstream call (it sleeps, so it uses no CPU and
	// scales past the machine's cores). 0 = off.
	Work time.Duration
	// Workers is how many API requests handle at once, per memory space
	// (each space its own pool), the rest waiting in arrival order; with
	// SharedWorkers one pool serves every space, so a busy space delays
	// the others. 0 = unlimited.
	Workers       int
	SharedWorkers bool
	// Serial is the fraction of Work, in [0, 1], done under one global
	// lock: the part of every request that serialises (Amdahl's and the
	// USL's σ). 0 = off.
	Serial float64
	// KeyLock makes the requests of one memory space do their Work one at
	// a time (a lock per space), so a popular space is a hot spot.
	KeyLock bool

	// --- end of the concurrency knobs.

	// --- Hardware knobs (tasks 011–012). See hwknobs.go.

	// ScalarDot replaces the lane-parallel dot product of recall (eight
	// elements per step over four accumulators, the shape SIMD units run)
	// with a one-accumulator scalar loop: the SIMD fallback. Recall returns
	// the same memories in the same order (--simd=off).
	ScalarDot bool
	// Counters gives each API request per-worker counters to bump:
	// CountersPadded (each counter on its own cache line) or CountersShared
	// (all on one line: false sharing). "" = off (--counters).
	Counters string

	// --- end of the hardware knobs.

	// Logger receives start, shutdown and internal-error messages.
	// nil = silent.
	Logger *slog.Logger
}

// Validate reports the first bad option, naming the field and its flag.
func (o Options) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(o.Slowdown) || o.Slowdown < 0:
		return fmt.Errorf("target: Slowdown (--slowdown) must be a percentage >= 0 (got %v)", o.Slowdown)
	case o.StallEvery < 0 || o.StallFor < 0:
		return fmt.Errorf("target: StallEvery and StallFor (--stall-every, --stall-for) must be >= 0 (got %v, %v)", o.StallEvery, o.StallFor)
	case o.SlowdownOf != "" && o.SlowdownOf != SlowdownOfHandler && o.SlowdownOf != SlowdownOfProcess:
		return fmt.Errorf("target: SlowdownOf (--slowdown-of) is %q; want %q or %q", o.SlowdownOf, SlowdownOfHandler, SlowdownOfProcess)
	case o.SlowdownOf == SlowdownOfProcess && !canMeasureCPU:
		return fmt.Errorf("target: SlowdownOf (--slowdown-of) %q needs the process's CPU time, which this system does not give; use %q", SlowdownOfProcess, SlowdownOfHandler)
	case (o.StallEvery == 0) != (o.StallFor == 0):
		return fmt.Errorf("target: StallEvery and StallFor (--stall-every, --stall-for) must be set together (got %v, %v)", o.StallEvery, o.StallFor)
	case o.StallEvery > 0 && o.StallFor >= o.StallEvery:
		return fmt.Errorf("target: StallFor (--stall-for) must be shorter than StallEvery (--stall-every) (got %v >= %v)", o.StallFor, o.StallEvery)
	case !finite(o.FailRate) || o.FailRate < 0 || o.FailRate > 1:
		return fmt.Errorf("target: FailRate (--fail-rate) must be in [0, 1] (got %v)", o.FailRate)
	case !finite(o.Capacity) || o.Capacity < 0:
		return fmt.Errorf("target: Capacity (--capacity) must be >= 0 ops/s, 0 = unlimited (got %v)", o.Capacity)
	case !finite(o.LeakMBPerMin) || o.LeakMBPerMin < 0:
		return fmt.Errorf("target: LeakMBPerMin (--leak) must be >= 0 MiB/min (got %v)", o.LeakMBPerMin)
	// Concurrency knobs.
	case o.Work < 0:
		return fmt.Errorf("target: Work (--work) must be >= 0 (got %v)", o.Work)
	case o.Workers < 0:
		return fmt.Errorf("target: Workers (--workers) must be >= 0, 0 = unlimited (got %d)", o.Workers)
	case o.SharedWorkers && o.Workers == 0:
		return fmt.Errorf("target: SharedWorkers (--shared-workers) needs a pool size, Workers (--workers) > 0")
	case !finite(o.Serial) || o.Serial < 0 || o.Serial > 1:
		return fmt.Errorf("target: Serial (--serial) must be a fraction in [0, 1] (got %v)", o.Serial)
	case o.Counters != CountersOff && o.Counters != CountersPadded && o.Counters != CountersShared:
		return fmt.Errorf("target: Counters (--counters) must be %q, %q or empty (got %q)", CountersPadded, CountersShared, o.Counters)
	case (o.Serial > 0 || o.KeyLock) && o.Work == 0:
		return fmt.Errorf("target: Serial and KeyLock (--serial, --key-lock) act on the simulated work: set Work (--work) > 0")
	}
	return nil
}
