package tasks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/engram/m18-gate/runners/instrument"
	"github.com/engram/m18-gate/runners/load"
)

// PrefetchConfig is how task 013 measures prefetching. PrefetchBudget
// returns each budget's; callers may adjust a copy.
type PrefetchConfig struct {
	// Nodes memories are stored, then each read once per pass, Passes
	// passes: in the order they were stored (sequential) or shuffled by
	// the seed (random).
	Nodes, Passes int
	// Batch memories are read per request (GET /api/v1/memories?id=…, the
	// reference target's), so that the reads, not each request's own
	// parsing and answer, make the misses that differ; a target without
	// it is read one memory a request (GET /api/v1/memories/{id}).
	Batch        int
	Sim          CacheSimConfig
	PerfDuration time.Duration
	// MinCoverage is the criterion on prefetch coverage (from counters).
	MinCoverage float64
}

// PrefetchCaches are the caches the pr budget simulates: 16 KiB L1d and a
// 64 KiB last level, an eighth of what 3000 memories' records and text
// take (about 180 bytes each, 540 KB), so that neither order finds a
// memory still cached from the pass before.
var PrefetchCaches = CacheSimConfig{D1: instrument.Geometry{Size: 16 << 10, Assoc: 8, Line: 64}, LL: instrument.Geometry{Size: 64 << 10, Assoc: 8, Line: 64},
	Env: []string{"GOGC=off", "GOMAXPROCS=1"}}

// PrefetchBudget returns task 013's configuration for a budget.
func PrefetchBudget(b Budget) PrefetchConfig {
	c := PrefetchConfig{Passes: 1, Batch: 100, MinCoverage: 0.70}
	switch b {
	case BudgetNightly:
		c.Nodes, c.PerfDuration = 50_000, 20*time.Second
	case BudgetFull:
		c.Nodes, c.PerfDuration = 500_000, time.Minute
	default:
		// Two passes: a read's misses, about 20 lines, vary by a line
		// or so from pass to pass; two lines a read separate the orders.
		c.Nodes, c.Passes, c.PerfDuration, c.Sim = 3000, 2, 5*time.Second, PrefetchCaches
	}
	return c
}

// PrefetchReport is task 013's section of the result document. Its Runs
// are the sequential, random and same workloads'; its Figures
// sequential_miss_rate, random_miss_rate and prefetch_coverage (from
// counters) or its proxy (PrefetchProxy: the share of random order's
// last-level read misses per memory that storage order avoids; the
// simulator has no prefetcher, so this is spatial locality, lines one read
// brings in that the next reuses).
type PrefetchReport struct {
	CacheSection
	Nodes int `json:"nodes"`
	// Batch is how many memories each request read (1: the target has no
	// GET /api/v1/memories?id=…).
	Batch int `json:"batch"`
}

// Prefetch runs task 013: every stored memory read by id, in the order
// they were stored and shuffled, measuring each order's miss rate.
func Prefetch(ctx context.Context, env Env, cfg PrefetchConfig) (*Outcome, error) {
	start := time.Now()
	rep := &PrefetchReport{CacheSection: CacheSection{Budget: string(env.Budget)}, Nodes: cfg.Nodes, Batch: max(cfg.Batch, 1)}
	skips := HardwareSkips(env.Hardware, onPath)
	rep.Skipped = skipsOf(skips, "013")
	ienv, why := instrumentedEnv(env)
	if why != "" {
		rep.Skipped = append(rep.Skipped, "miss rates: "+why)
		rep.Figures = []instrument.Figure{instrument.NotMeasured("prefetch_coverage", why)}
		return &Outcome{Document: hwDocument(env, "013", "Prefetching effectiveness", start, rep), Skipped: rep.Skipped}, nil
	}
	data := hwData(env.Seed, cfg.Nodes)
	const space = "m18-prefetch"
	ids := make([]string, cfg.Nodes)
	for i := range ids {
		ids[i] = load.PreloadID(uint64(i))
	}
	// The preload ends by finding out whether the target reads many
	// memories a request, with one whole batch, so that the first
	// workload counted does not pay for the first large answer.
	preload := func(ctx context.Context, c *hwClient) error {
		if err := c.storeText(ctx, space, 0, cfg.Nodes); err != nil {
			return err
		}
		if rep.Batch > 1 {
			if err := c.getMany(ctx, space, ids[:min(rep.Batch, len(ids))]); err != nil {
				if !strings.Contains(err.Error(), ": 404 ") && !strings.Contains(err.Error(), ": 405 ") {
					return err
				}
				rep.Batch = 1
			}
		}
		return nil
	}
	shuffled := slices.Clone(ids)
	rand.New(rand.NewPCG(env.Seed, 0x13)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	reads := func(ids []string) func(context.Context, *hwClient) (int, error) {
		return func(ctx context.Context, c *hwClient) (int, error) {
			n := 0
			for range cfg.Passes {
				for batch := range slices.Chunk(ids, rep.Batch) {
					var err error
					if len(batch) > 1 {
						err = c.getMany(ctx, space, batch)
					} else {
						err = c.get(ctx, space, batch[0])
					}
					if err != nil {
						return n, err
					}
					n += len(batch)
				}
			}
			return n, nil
		}
	}
	wls := []cacheWorkload{{name: "sequential", send: reads(ids), unit: "read"}, {name: "random", send: reads(shuffled), unit: "read"}}
	// same reads one memory as often: its misses are the reads' own
	// (parsing, lookup, the answer), not the memories'.
	simWls := append(slices.Clone(wls), cacheWorkload{name: "same", send: reads(slices.Repeat(ids[:1], len(ids))), unit: "read"})
	if env.Hardware.PerfCounters {
		rep.Source = instrument.SourcePerf
		srv, c, evs, err := perfTarget(ctx, ienv, data, preload)
		if err != nil {
			return nil, fmt.Errorf("task 013: %w", err)
		}
		defer srv.Close()
		defer c.close()
		events := append(instrument.ChooseEvents(evs, instrument.CacheEvents), instrument.ChooseEvents(evs, instrument.PrefetchEvents)...)
		counts, err := perfWorkloads(ctx, env, srv.PID, events, cfg.PerfDuration, c, wls)
		if err != nil {
			return nil, fmt.Errorf("task 013: %w", err)
		}
		for _, wl := range wls {
			h := perfHitRate(wl.name+"_miss_rate", counts[wl.name])
			if h.Measured {
				h.Value = 1 - h.Value
			}
			rep.Figures = append(rep.Figures, h)
		}
		rep.Figures = append(rep.Figures, PrefetchCoverage(counts["sequential"]))
	} else if why, ok := skipReason(skips, "013", "sequential and random miss rates"); ok {
		rep.Figures = []instrument.Figure{instrument.NotMeasured("prefetch_coverage", why)}
	} else {
		runs, geom, err := simulateInOneRun(ctx, ienv, "013", cfg.Sim, data, preload, simWls)
		if err != nil {
			return nil, err
		}
		rep.Runs, rep.Geometry = runs, geom
		perRead := map[string]float64{}
		for _, r := range runs {
			rep.Source = r.sim.Source
			f := instrument.NotMeasured(r.Workload+"_miss_rate", "no data reads")
			if v, ok := r.sim.LLReadMissRate(); ok {
				f = instrument.Measured(r.Workload+"_miss_rate", v, "", r.sim.Source)
			}
			f.Note = "last-level misses per data read, simulated " + geom
			rep.Figures = append(rep.Figures, f)
			if r.Requests > 0 {
				perRead[r.Workload] = float64(r.sim.Events["DLmr"]) / float64(r.Requests)
			}
		}
		rep.Figures = append(rep.Figures, instrument.NotMeasured("prefetch_coverage", instrument.NoCounters+" (no prefetch events)"))
		rep.Figures = append(rep.Figures, PrefetchProxy(perRead["sequential"], perRead["random"], perRead["same"], rep.Source))
	}
	for _, f := range rep.Figures {
		if f.Name == "prefetch_coverage" && f.Measured {
			c := check("prefetch_coverage", f.Value, ">", cfg.MinCoverage, "")
			c.Message += " (" + f.Source + ")"
			rep.Checks = append(rep.Checks, c)
		}
		progressf(env, "013 %s\n", f)
	}
	return &Outcome{Document: hwDocument(env, "013", "Prefetching effectiveness", start, rep), Checks: rep.Checks, Skipped: rep.Skipped}, nil
}

// PrefetchCoverage is the share of cache fills a prefetcher brought in
// ahead of demand, from the prefetch counters the CPU offers: Intel's
// l2_rqsts.pf_hit / (pf_hit + pf_miss) share of prefetches that hit, or
// the generic L1-dcache-prefetches against L1-dcache-load-misses.
func PrefetchCoverage(cs []instrument.Count) instrument.Figure {
	const name = "prefetch_coverage"
	if pf, ok := instrument.Lookup(cs, "L1-dcache-prefetches"); ok {
		if m, ok := instrument.Lookup(cs, "L1-dcache-load-misses"); ok && pf+m > 0 {
			f := instrument.Measured(name, pf/(pf+m), "", instrument.SourcePerf)
			f.Note = "L1-dcache-prefetches / (prefetches + L1-dcache-load-misses)"
			return f
		}
	}
	if hit, ok := instrument.Lookup(cs, "l2_rqsts.pf_hit"); ok {
		if miss, ok := instrument.Lookup(cs, "l2_rqsts.pf_miss"); ok && hit+miss > 0 {
			if dm, ok := instrument.Lookup(cs, "L1-dcache-load-misses"); ok && dm+hit+miss > 0 {
				f := instrument.Measured(name, (hit+miss)/(dm+hit+miss), "", instrument.SourcePerf)
				f.Note = "L2 prefetch requests / (prefetch requests + L1 demand misses)"
				return f
			}
		}
	}
	return instrument.NotMeasured(name, "this CPU's perf offers no prefetch events (perf list)")
}

// PrefetchProxy is task 013's stand-in for prefetch coverage where only a
// cache simulator measures: 1 − (seq − same)/(random − same), of the
// last-level read misses per memory read, after the misses every read
// makes (same: one memory read over and over) are taken off. The
// simulator has no prefetcher: what storage order saves there is spatial
// locality, the lines one memory's record and text bring in that the next
// memory's read reuses (about one line a region, since each record is
// longer than a line). It is the share of random order's misses that a
// sequential layout alone avoids, not the share a prefetcher hides.
func PrefetchProxy(seq, random, same float64, source string) instrument.Figure {
	const name = "prefetch_coverage_proxy"
	if random-same <= 0 {
		return instrument.NotMeasured(name, fmt.Sprintf("random reads missed no more than reads of one memory (%.1f vs %.1f last-level read misses per memory): the working set fits the simulated cache", random, same))
	}
	f := instrument.Measured(name, 1-max(seq-same, 0)/(random-same), "", source)
	f.Proxy = true
	f.Note = fmt.Sprintf("1 − (sequential − same)/(random − same) last-level read misses per memory read (%.2f, %.2f, %.2f); the simulator has no prefetcher: spatial locality (lines reused by the next read in storage order), not prefetch coverage", seq, random, same)
	return f
}
