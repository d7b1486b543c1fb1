package tasks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/engram/m18-gate/runners/dataset"
	"github.com/engram/m18-gate/runners/instrument"
	"github.com/engram/m18-gate/runners/result"
)

// CacheSimConfig is how tasks 012 and 013 simulate caches with cachegrind
// where the runner has no hardware counters: the simulated L1 data and
// last-level caches (zero = the host's, as cachegrind reads them).
type CacheSimConfig struct {
	D1, LL instrument.Geometry
	// Env is set in the target's environment (NAME=value), e.g. GOGC=off
	// so that a Go target's garbage collector, which runs at different
	// moments in each run, does not blur the differences between runs.
	Env []string
}

// command is the {instrument} prefix that runs the target under valgrind
// (the simulator's command line) with c.Env set.
func (c CacheSimConfig) command(valgrind []string) []string {
	if len(c.Env) == 0 {
		return valgrind
	}
	return append(append([]string{"env"}, c.Env...), valgrind...)
}

// SmallCaches are the caches the pr budget simulates: 32 KiB L1d and a
// 256 KiB last level, so that a working set a two-minute budget can store
// under valgrind exceeds them.
var SmallCaches = CacheSimConfig{D1: instrument.Geometry{Size: 32 << 10, Assoc: 8, Line: 64}, LL: instrument.Geometry{Size: 256 << 10, Assoc: 8, Line: 64},
	Env: []string{"GOGC=off", "GOMAXPROCS=1"}}

// CacheSection is what the sections of tasks 012 and 013 hold alike.
type CacheSection struct {
	Budget string `json:"budget"`
	// Source is "perf", or the simulator ("cachegrind", "callgrind");
	// Geometry the simulated caches.
	Source   string `json:"source"`
	Geometry string `json:"geometry,omitempty"`
	// Runs holds each workload's figures (simulated).
	Runs []CacheRun `json:"runs,omitempty"`
	// Figures are the criteria's figures, each with its source or why it
	// was not measured.
	Figures []instrument.Figure `json:"figures"`
	Skipped []string            `json:"skipped,omitempty"`
	Checks  []result.Check      `json:"checks"`
}

// perfTarget starts the target with no instrument in front (perf counts
// it from outside), preloads it and lists the events the CPU offers. The
// caller closes the server and the client.
func perfTarget(ctx context.Context, env Env, data *dataset.Generator, preload func(context.Context, *hwClient) error) (*Server, *hwClient, []instrument.PerfEvent, error) {
	srv, err := StartServer(ctx, env, ServerParams{Values: map[string]string{"instrument": "", "simd": "on"}})
	if err != nil {
		return nil, nil, nil, err
	}
	c := newHWClient(srv.URL, data)
	err = preload(ctx, c)
	var evs []instrument.PerfEvent
	if err == nil {
		if evs, err = (instrument.Perf{}).List(ctx); err == nil {
			return srv, c, evs, nil
		}
	}
	c.close()
	srv.Close()
	return nil, nil, nil, err
}

// valgrindStartTimeout is how long a target started under valgrind has to
// answer: it starts tens of times slower, more on a loaded runner.
const valgrindStartTimeout = 3 * time.Minute

// cacheWorkload is a workload sent to the target after the preload; it
// returns how many units it did (requests, unless unit names another).
type cacheWorkload struct {
	name string
	send func(ctx context.Context, c *hwClient) (int, error)
	unit string
}

// CacheRun is one workload's simulation: its own counts (beyond the
// baseline run, or between zero and dump), per request or per Unit.
type CacheRun struct {
	Workload string `json:"workload"`
	Requests int    `json:"requests"`
	// Unit is what Requests counts when not requests ("read": memories
	// read, several a request); the per-unit figures are named after it.
	Unit string `json:"unit,omitempty"`
	// Figures are the hit rates and counts, labelled cachegrind.
	Figures []instrument.Figure `json:"figures"`
	sim     instrument.CacheSim
}

// simulateCaches runs the target under cachegrind once with no workload
// (the baseline: start-up and preload) and once per workload after the
// same preload, and returns each workload's counts minus the baseline's.
// The target runs with env's command and {instrument} = valgrind.
func simulateCaches(ctx context.Context, env Env, id string, cfg CacheSimConfig, data *dataset.Generator,
	preload func(context.Context, *hwClient) error, wls []cacheWorkload) (runs []CacheRun, geometry string, err error) {
	runOne := func(name string, wl *cacheWorkload) (instrument.CacheSim, int, error) {
		dir, err := outputDir(env)
		if err != nil {
			return instrument.CacheSim{}, 0, err
		}
		prefix := "cachegrind-" + id + "-" + name + "."
		old, _ := filepath.Glob(filepath.Join(dir, prefix+"*.out"))
		for _, f := range old {
			os.Remove(f)
		}
		args := cfg.command(instrument.CachegrindArgs(filepath.Join(dir, prefix+"%p.out"), cfg.D1, cfg.LL))
		srv, err := StartServer(ctx, env, ServerParams{Values: map[string]string{"instrument": ShellJoin(args), "simd": "on"}, StartTimeout: valgrindStartTimeout})
		if err != nil {
			return instrument.CacheSim{}, 0, err
		}
		c := newHWClient(srv.URL, data)
		n := 0
		werr := preload(ctx, c)
		if werr == nil && wl != nil {
			n, werr = wl.send(ctx, c)
		}
		c.close()
		if err := srv.Close(); err != nil && werr == nil {
			werr = err
		}
		if werr != nil {
			return instrument.CacheSim{}, 0, werr
		}
		files, _ := filepath.Glob(filepath.Join(dir, prefix+"*.out"))
		if len(files) == 0 {
			return instrument.CacheSim{}, 0, fmt.Errorf("cachegrind wrote no %s*.out in %s: did the target command run %s in front of the server (not of a shell that forks it)?", prefix, dir, InstrumentPlaceholder)
		}
		slices.Sort(files)
		b, err := os.ReadFile(files[len(files)-1])
		if err != nil {
			return instrument.CacheSim{}, 0, err
		}
		sim, err := instrument.ParseCachegrind(b)
		if err != nil {
			return instrument.CacheSim{}, 0, fmt.Errorf("%s: %w", files[len(files)-1], err)
		}
		return sim, n, nil
	}
	progressf(env, "%s cachegrind: baseline (start-up and preload)\n", id)
	base, _, err := runOne("baseline", nil)
	if err != nil {
		return nil, "", fmt.Errorf("task %s cachegrind baseline: %w", id, err)
	}
	geometry = fmt.Sprintf("D1 %s; LL %s", base.D1, base.LL)
	for i := range wls {
		progressf(env, "%s cachegrind: %s\n", id, wls[i].name)
		sim, n, err := runOne(wls[i].name, &wls[i])
		if err != nil {
			return nil, "", fmt.Errorf("task %s cachegrind %s: %w", id, wls[i].name, err)
		}
		runs = append(runs, newCacheRun(wls[i], n, sim.Sub(base)))
	}
	return runs, geometry, nil
}

// simulateInOneRun runs the target under callgrind's cache simulation once:
// the preload, then each workload between a zero and a dump of the
// counters, so that each workload's counts are its own, after the same
// start-up and preload in the same process (no baseline run to subtract,
// whose own run-to-run spread would swamp a few lines per request). Each
// workload should sweep a working set several times the simulated last
// level, so that the cache state the one before leaves does not matter.
func simulateInOneRun(ctx context.Context, env Env, id string, cfg CacheSimConfig, data *dataset.Generator,
	preload func(context.Context, *hwClient) error, wls []cacheWorkload) (runs []CacheRun, geometry string, err error) {
	dir, err := outputDir(env)
	if err != nil {
		return nil, "", err
	}
	pattern := filepath.Join(dir, "callgrind-"+id+".%p.out")
	before, after, _ := strings.Cut(pattern, "%p")
	old, _ := filepath.Glob(before + "*" + after + "*")
	for _, f := range old {
		os.Remove(f)
	}
	args := cfg.command(instrument.CallgrindArgs(pattern, cfg.D1, cfg.LL))
	srv, err := StartServer(ctx, env, ServerParams{Values: map[string]string{"instrument": ShellJoin(args), "simd": "on"}, StartTimeout: valgrindStartTimeout})
	if err != nil {
		return nil, "", fmt.Errorf("task %s callgrind: %w", id, err)
	}
	defer srv.Close()
	c := newHWClient(srv.URL, data)
	defer c.close()
	progressf(env, "%s callgrind: preload\n", id)
	if err := preload(ctx, c); err != nil {
		return nil, "", fmt.Errorf("task %s callgrind preload: %w", id, err)
	}
	cg, err := instrument.FindCallgrind(pattern)
	if err != nil {
		return nil, "", fmt.Errorf("task %s: %w", id, err)
	}
	for _, wl := range wls {
		progressf(env, "%s callgrind: %s\n", id, wl.name)
		if err := cg.Zero(ctx); err != nil {
			return nil, "", fmt.Errorf("task %s: %w", id, err)
		}
		n, err := wl.send(ctx, c)
		if err != nil {
			return nil, "", fmt.Errorf("task %s callgrind %s: %w", id, wl.name, err)
		}
		sim, err := cg.Dump(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("task %s: %w", id, err)
		}
		geometry = fmt.Sprintf("D1 %s; LL %s", sim.D1, sim.LL)
		runs = append(runs, newCacheRun(wl, n, sim))
	}
	return runs, geometry, nil
}

// newCacheRun is a workload's run of n units with its counts.
func newCacheRun(wl cacheWorkload, n int, d instrument.CacheSim) CacheRun {
	name, per := wl.name, "_per_"+cmp.Or(wl.unit, "request")
	r := CacheRun{Workload: name, Requests: n, Unit: wl.unit, Figures: d.Figures(name + "_"), sim: d}
	if n > 0 {
		r.Figures = append(r.Figures,
			instrument.Measured(name+"_d1_misses"+per, float64(d.D1Misses())/float64(n), "", d.Source),
			instrument.Measured(name+"_ll_misses"+per, float64(d.LLDMisses())/float64(n), "", d.Source),
			instrument.Measured(name+"_ll_read_misses"+per, float64(d.Events["DLmr"])/float64(n), "", d.Source))
	}
	return r
}

// perfWorkloads counts events on the target's process while each workload
// runs, repeated until the count's duration is over.
func perfWorkloads(ctx context.Context, env Env, pid int, events []string, d time.Duration, c *hwClient, wls []cacheWorkload) (map[string][]instrument.Count, error) {
	out := map[string][]instrument.Count{}
	for _, wl := range wls {
		var (
			counts []instrument.Count
			perr   error
			wg     sync.WaitGroup
		)
		done := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			counts, perr = instrument.Perf{}.Stat(ctx, pid, events, d)
		}()
		var werr error
	loop:
		for {
			select {
			case <-done:
				break loop
			default:
			}
			if _, werr = wl.send(ctx, c); werr != nil {
				break
			}
		}
		wg.Wait()
		if err := errors.Join(perr, werr); err != nil {
			return nil, fmt.Errorf("perf stat during %s: %w", wl.name, err)
		}
		out[wl.name] = counts
	}
	return out, nil
}

// perfHitRate is the L1 data hit rate from counts (L1-dcache loads and
// misses), else the cache hit rate (cache-references and cache-misses).
func perfHitRate(name string, cs []instrument.Count) instrument.Figure {
	if l, ok := instrument.Lookup(cs, "L1-dcache-loads"); ok && l > 0 {
		if m, ok := instrument.Lookup(cs, "L1-dcache-load-misses"); ok {
			return instrument.Measured(name, 1-m/l, "", instrument.SourcePerf)
		}
	}
	if r, ok := instrument.Lookup(cs, "cache-references"); ok && r > 0 {
		if m, ok := instrument.Lookup(cs, "cache-misses"); ok {
			f := instrument.Measured(name, 1-m/r, "", instrument.SourcePerf)
			f.Note = "cache-references/cache-misses (the CPU's last-level events)"
			return f
		}
	}
	return instrument.NotMeasured(name, "perf counted neither L1-dcache-loads/misses nor cache-references/misses on this CPU")
}

func itoa(n int) string { return strconv.Itoa(n) }
