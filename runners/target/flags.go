package target

import (
	"cmp"
	"flag"
	"strconv"
	"time"
)

// KnobFlags defines the flags of the knobs of o on fs — slowdown,
// stall-every, stall-for, fail-rate, capacity and leak, and the
// concurrency knobs work, workers, shared-workers, serial and key-lock,
// each named with prefix in front — so that every command that starts a
// target offers them alike: m18-target with prefix "", m18-run, whose built-in target they
// set, with "target-". Seed is left to the caller, whose seed may serve more
// than the target.
func KnobFlags(fs *flag.FlagSet, prefix string, o *Options) {
	about := ""
	if prefix != "" {
		about = "built-in target: "
	}
	fs.Float64Var(&o.Slowdown, prefix+"slowdown", 0, about+"add CPU work to each API request: `PCT` percent of what --"+prefix+"slowdown-of says (50 = ~1.5x slower)")
	// A target that is a process of its own (prefix "") can measure its CPU
	// time per request; the built-in one shares its process with the load
	// generator, so its slowdown follows the handler's time.
	// (The built-in target's default is "", which means handler, so that
	// an untouched knob leaves Options zero.)
	of, dflt := SlowdownOfProcess, ""
	if prefix != "" {
		of, dflt = "", " (default handler)"
	}
	fs.StringVar(&o.SlowdownOf, prefix+"slowdown-of", of, about+"what --"+prefix+"slowdown is a percentage of: `process` (the process's CPU time per request, measured as it runs: 10 = each request costs 10 % more CPU) or handler (each request's handler time)"+dflt)
	fs.DurationVar(&o.StallEvery, prefix+"stall-every", 0, about+"pause the whole server every `DUR` (with --"+prefix+"stall-for)")
	fs.DurationVar(&o.StallFor, prefix+"stall-for", 0, about+"length `DUR` of each pause (shorter than --"+prefix+"stall-every)")
	fs.Float64Var(&o.FailRate, prefix+"fail-rate", 0, about+"answer fraction `F` in [0,1] of API requests with 500, chosen by the seed")
	fs.Float64Var(&o.Capacity, prefix+"capacity", 0, about+"admit at most `OPS` API requests per second; the rest queue (0 = unlimited)")
	HardwareFlags(fs, prefix, o)
	fs.Float64Var(&o.LeakMBPerMin, prefix+"leak", 0, about+"retain `MB_PER_MIN` MiB of memory per minute on purpose")
	// Concurrency knobs (tasks 007–009).
	fs.DurationVar(&o.Work, prefix+"work", 0, about+"every API request waits `DUR` on its worker (simulated I/O: no CPU, scales past the cores)")
	fs.IntVar(&o.Workers, prefix+"workers", 0, about+"at most `N` API requests handled at once per memory space (0 = unlimited)")
	fs.BoolVar(&o.SharedWorkers, prefix+"shared-workers", false, about+"one pool of --"+prefix+"workers for all memory spaces (a busy space delays the others)")
	fs.Float64Var(&o.Serial, prefix+"serial", 0, about+"do fraction `F` in [0,1] of --"+prefix+"work under one global lock (serialises requests)")
	fs.BoolVar(&o.KeyLock, prefix+"key-lock", false, about+"requests of one memory space do their --"+prefix+"work one at a time (a popular space is a hot spot)")
}

// KnobArgs are the arguments that set o's knobs on a target that is a
// process of its own (KnobFlags with prefix "": m18-target, m18-run
// target), the zero ones left out; a slowdown says what it is a percentage
// of, handler when o leaves it empty, as the built-in target reads it.
func KnobArgs(o Options) []string {
	var f []string
	num := func(name string, v float64) {
		if v != 0 {
			f = append(f, "--"+name, strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	dur := func(name string, d time.Duration) {
		if d != 0 {
			f = append(f, "--"+name, d.String())
		}
	}
	num("slowdown", o.Slowdown)
	if o.Slowdown != 0 { // m18-target's own default is process; keep the option's meaning
		f = append(f, "--slowdown-of", cmp.Or(o.SlowdownOf, SlowdownOfHandler))
	}
	dur("stall-every", o.StallEvery)
	dur("stall-for", o.StallFor)
	num("fail-rate", o.FailRate)
	num("capacity", o.Capacity)
	num("leak", o.LeakMBPerMin)
	dur("work", o.Work)
	num("workers", float64(o.Workers))
	if o.SharedWorkers {
		f = append(f, "--shared-workers")
	}
	num("serial", o.Serial)
	if o.KeyLock {
		f = append(f, "--key-lock")
	}
	if o.ScalarDot {
		f = append(f, "--simd", "off")
	}
	if o.Counters != "" {
		f = append(f, "--counters", o.Counters)
	}
	return f
}
