package tasks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/engram/m18-gate/runners/instrument"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
)

// PrefetchConfig is how task 013 measures prefetching. PrefetchBudget
// returns each budget's; callers may adjust a copy.
type PrefetchConfig struct {
	// Nodes memories are stored, then each read once per pass, Passes
	// passes: in the order they were stored (sequential) or shuffled by
	// the seed (random).
	Nodes, Passes int
	Sim           CacheSimConfig
	PerfDuration  time.Duration
	// MinCoverage is the criterion on prefetch coverage (from counters).
	MinCoverage float64
}

// PrefetchBudget returns task 013's configuration for a budget.
func PrefetchBudget(b Budget) PrefetchConfig {
	c := PrefetchConfig{Passes: 1, MinCoverage: 0.70}
	switch b {
	case BudgetNightly:
		c.Nodes, c.PerfDuration = 50_000, 20*time.Second
	case BudgetFull:
		c.Nodes, c.PerfDuration = 500_000, time.Minute
	default:
		c.Nodes, c.PerfDuration, c.Sim = 1500, 5*time.Second, SmallCaches
	}
	return c
}

// PrefetchReport is task 013's section of the result document.
type PrefetchReport struct {
	Budget   string     `json:"budget"`
	Nodes    int        `json:"nodes"`
	Source   string     `json:"source"`
	Geometry string     `json:"geometry,omitempty"`
	Runs     []CacheRun `json:"runs,omitempty"`
	// Figures: sequential_miss_rate, random_miss_rate and
	// prefetch_coverage (from counters) or its proxy, 1 − sequential /
	// random miss rate (cachegrind simulates no prefetcher: the proxy is
	// the share of random access's misses that reading in storage order
	// avoids, the misses a prefetcher has to hide).
	Figures []instrument.Figure `json:"figures"`
	Skipped []string            `json:"skipped,omitempty"`
	Checks  []result.Check      `json:"checks"`
}

// Prefetch runs task 013: every stored memory read by id, in the order
// they were stored and shuffled, measuring each order's miss rate.
func Prefetch(ctx context.Context, env Env, cfg PrefetchConfig) (*Outcome, error) {
	start := time.Now()
	rep := &PrefetchReport{Budget: string(env.Budget), Nodes: cfg.Nodes}
	skips := HardwareSkips(env.Hardware, onPath)
	rep.Skipped = skipsOf(skips, "013")
	ienv, why := instrumentedEnv(env)
	if why != "" {
		rep.Skipped = append(rep.Skipped, "miss rates: "+why)
		rep.Figures = []instrument.Figure{instrument.NotMeasured("prefetch_coverage", why)}
		return &Outcome{Document: hwDocument(env, "013", "Prefetching effectiveness", start, rep), Skipped: rep.Skipped}, nil
	}
	data := hwData(env.Seed, cfg.Nodes)
	preload := func(ctx context.Context, c *hwClient) error { return c.storeText(ctx, "m18-prefetch", 0, cfg.Nodes) }
	order := make([]int, cfg.Nodes)
	for i := range order {
		order[i] = i
	}
	shuffled := append([]int(nil), order...)
	rand.New(rand.NewPCG(env.Seed, 0x13)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	reads := func(ids []int) func(context.Context, *hwClient) (int, error) {
		return func(ctx context.Context, c *hwClient) (int, error) {
			n := 0
			for range cfg.Passes {
				for _, i := range ids {
					if err := c.get(ctx, "m18-prefetch", load.PreloadID(uint64(i))); err != nil {
						return n, err
					}
					n++
				}
			}
			return n, nil
		}
	}
	wls := []cacheWorkload{{"sequential", reads(order)}, {"random", reads(shuffled)}}
	// same reads one memory as often: its misses are the request's own
	// (parsing, allocation, the response), not the memories'.
	same := make([]int, cfg.Nodes)
	simWls := append(slices.Clone(wls), cacheWorkload{"same", reads(same)})
	if env.Hardware.PerfCounters {
		rep.Source = instrument.SourcePerf
		srv, err := startServer(ctx, ienv, ServerParams{Values: map[string]string{"instrument": "", "simd": "on"}})
		if err != nil {
			return nil, fmt.Errorf("task 013: %w", err)
		}
		defer srv.Close()
		c := newHWClient(srv.URL, data)
		defer c.close()
		if err := preload(ctx, c); err != nil {
			return nil, fmt.Errorf("task 013: %w", err)
		}
		evs, err := instrument.Perf{}.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("task 013: %w", err)
		}
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
		rep.Source = instrument.SourceCachegrind
		runs, geom, err := simulateCaches(ctx, ienv, "013", cfg.Sim, data, preload, simWls)
		if err != nil {
			return nil, err
		}
		rep.Runs, rep.Geometry = runs, geom
		perRead := map[string]float64{}
		for _, r := range runs {
			v, ok := r.sim.LLMissRate()
			f := instrument.Measured(r.Workload+"_miss_rate", v, "", instrument.SourceCachegrind)
			if !ok {
				f = instrument.NotMeasured(r.Workload+"_miss_rate", "no data references beyond the baseline")
			}
			f.Note = "LL data misses per data reference, simulated " + geom
			rep.Figures = append(rep.Figures, f)
			if r.Requests > 0 {
				perRead[r.Workload] = float64(r.sim.LLDMisses()) / float64(r.Requests)
			}
		}
		rep.Figures = append(rep.Figures, instrument.NotMeasured("prefetch_coverage", instrument.NoCounters+" (no prefetch events)"))
		rep.Figures = append(rep.Figures, PrefetchProxy(perRead["sequential"], perRead["random"], perRead["same"]))
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

// PrefetchProxy is task 013's stand-in for prefetch coverage where only
// cachegrind measures: 1 − (seq − same)/(random − same), the LL data
// misses per read that reading in storage order avoids, of those random
// order makes, after the misses every read makes (same: one memory read
// over and over) are taken off. Cachegrind simulates no prefetcher, so it
// is the share of misses a sequential prefetcher has to hide, not the
// share it hides.
func PrefetchProxy(seq, random, same float64) instrument.Figure {
	const name = "prefetch_coverage_proxy"
	if random-same <= 0 {
		return instrument.NotMeasured(name, fmt.Sprintf("random reads missed no more than reads of one memory (%.1f vs %.1f LL misses per read): the working set fits the simulated cache", random, same))
	}
	f := instrument.Measured(name, 1-max(seq-same, 0)/(random-same), "", instrument.SourceCachegrind)
	f.Proxy = true
	f.Note = fmt.Sprintf("1 − (sequential − same)/(random − same) LL data misses per read (%.1f, %.1f, %.1f); cachegrind simulates no prefetcher: the share of random access's misses that storage order avoids, not coverage", seq, random, same)
	return f
}
