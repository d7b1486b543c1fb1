package tasks

import (
	"context"
	"fmt"
	"time"

	"github.com/engram/m18-gate/runners/instrument"
)

// CacheLineConfig is how task 012 measures cache hit rates and line
// bouncing. CacheLineBudget returns each budget's; callers may adjust a
// copy.
type CacheLineConfig struct {
	// HotNodes memories form the hot set (recalled over and over);
	// LargeNodes the large working set, whose embeddings (3 KiB each)
	// exceed the last-level cache. Recalls of K are sent to each.
	HotNodes, LargeNodes, Recalls, K int
	// Sim is the simulated cache geometry (cachegrind, without counters).
	Sim CacheSimConfig
	// PerfDuration is how long perf counts each workload, and perf c2c
	// records (with counters).
	PerfDuration time.Duration
	// Criteria: hot-set hit rate > MinHotHitRate; HITM share of misses
	// < MaxHITMShare.
	MinHotHitRate, MaxHITMShare float64
}

// CacheLineBudget returns task 012's configuration for a budget.
func CacheLineBudget(b Budget) CacheLineConfig {
	c := CacheLineConfig{HotNodes: 8, K: 10, MinHotHitRate: 0.95, MaxHITMShare: 0.01}
	switch b {
	case BudgetNightly:
		c.LargeNodes, c.Recalls, c.PerfDuration = 20_000, 200, 20*time.Second
	case BudgetFull:
		c.LargeNodes, c.Recalls, c.PerfDuration = 100_000, 1000, time.Minute
	default:
		// 256 × 3 KiB = 768 KiB of embeddings: 3× the simulated LL.
		c.LargeNodes, c.Recalls, c.PerfDuration, c.Sim = 256, 30, 5*time.Second, SmallCaches
	}
	return c
}

// CacheLineReport is task 012's section of the result document. Its
// Runs are the hot and large workloads'; its Figures hot_hit_rate,
// large_hit_rate and hitm_share.
type CacheLineReport struct {
	CacheSection
	HotNodes   int `json:"hot_nodes"`
	LargeNodes int `json:"large_nodes"`
	Recalls    int `json:"recalls"`
}

// CacheLines runs task 012: recalls over a hot set (a memory space of a
// few memories, recalled over and over) and over a large working set (a
// space whose embeddings exceed the last-level cache), measuring each
// one's cache hit rate with perf where the runner has counters, else with
// cachegrind; and line bouncing (the HITM share of misses, perf c2c) where
// it has counters.
func CacheLines(ctx context.Context, env Env, cfg CacheLineConfig) (*Outcome, error) {
	start := time.Now()
	rep := &CacheLineReport{CacheSection: CacheSection{Budget: string(env.Budget)}, HotNodes: cfg.HotNodes, LargeNodes: cfg.LargeNodes, Recalls: cfg.Recalls}
	skips := HardwareSkips(env.Hardware, onPath)
	rep.Skipped = skipsOf(skips, "012")
	ienv, why := instrumentedEnv(env)
	if why != "" {
		rep.Skipped = append(rep.Skipped, "cache hit rates: "+why)
		rep.Figures = []instrument.Figure{instrument.NotMeasured("hot_hit_rate", why), instrument.NotMeasured("hitm_share", why)}
		return &Outcome{Document: hwDocument(env, "012", "Cache-line alignment", start, rep), Skipped: rep.Skipped}, nil
	}
	data := hwData(env.Seed, cfg.HotNodes+cfg.LargeNodes)
	preload := func(ctx context.Context, c *hwClient) error {
		if err := c.store(ctx, "m18-hot", 0, cfg.HotNodes); err != nil {
			return err
		}
		return c.store(ctx, "m18-large", cfg.HotNodes, cfg.LargeNodes)
	}
	recalls := func(space string, first, n int) func(context.Context, *hwClient) (int, error) {
		return func(ctx context.Context, c *hwClient) (int, error) {
			for i := range cfg.Recalls {
				if _, err := c.recall(ctx, space, uint64(first+(i*7919)%n), cfg.K); err != nil {
					return i, err
				}
			}
			return cfg.Recalls, nil
		}
	}
	wls := []cacheWorkload{{name: "hot", send: recalls("m18-hot", 0, cfg.HotNodes)}, {name: "large", send: recalls("m18-large", cfg.HotNodes, cfg.LargeNodes)}}

	if env.Hardware.PerfCounters {
		rep.Source = instrument.SourcePerf
		srv, c, evs, err := perfTarget(ctx, ienv, data, preload)
		if err != nil {
			return nil, fmt.Errorf("task 012: %w", err)
		}
		defer srv.Close()
		defer c.close()
		counts, err := perfWorkloads(ctx, env, srv.PID, instrument.ChooseEvents(evs, instrument.CacheEvents), cfg.PerfDuration, c, wls)
		if err != nil {
			return nil, fmt.Errorf("task 012: %w", err)
		}
		rep.Figures = append(rep.Figures, perfHitRate("hot_hit_rate", counts["hot"]), perfHitRate("large_hit_rate", counts["large"]))
		dir, err := outputDir(env)
		if err != nil {
			return nil, err
		}
		hitm := instrument.NotMeasured("hitm_share", "")
		done := make(chan struct{})
		go func() {
			defer close(done)
			c2c, err := instrument.Perf{}.C2C(ctx, srv.PID, cfg.PerfDuration, dir)
			if err != nil {
				hitm.Note = err.Error()
				return
			}
			if s, ok := c2c.HITMShare(); ok {
				hitm = instrument.Measured("hitm_share", s, "", instrument.SourceC2C)
			} else {
				hitm.Note = "perf c2c sampled no loads that missed L1"
			}
		}()
		for waiting := true; waiting; {
			select {
			case <-done:
				waiting = false
			default:
				if _, err := wls[0].send(ctx, c); err != nil {
					<-done
					return nil, fmt.Errorf("task 012: %w", err)
				}
			}
		}
		rep.Figures = append(rep.Figures, hitm)
	} else if why, ok := skipReason(skips, "012", "cache hit rates"); ok {
		rep.Figures = []instrument.Figure{instrument.NotMeasured("hot_hit_rate", why), instrument.NotMeasured("hitm_share", instrument.NoCounters)}
	} else {
		rep.Source = instrument.SourceCachegrind
		runs, geom, err := simulateCaches(ctx, ienv, "012", cfg.Sim, data, preload, wls)
		if err != nil {
			return nil, err
		}
		rep.Runs, rep.Geometry = runs, geom
		for _, r := range runs {
			v, ok := r.sim.DataHitRate()
			f := instrument.Measured(r.Workload+"_hit_rate", v, "", instrument.SourceCachegrind)
			if !ok {
				f = instrument.NotMeasured(r.Workload+"_hit_rate", "no data references beyond the baseline")
			}
			f.Note = "data references served by L1 or LL (1 − LL data misses / data references), simulated " + geom
			rep.Figures = append(rep.Figures, f)
		}
		rep.Figures = append(rep.Figures, instrument.NotMeasured("hitm_share", instrument.NoCounters))
	}
	for _, f := range rep.Figures {
		switch {
		case f.Name == "hot_hit_rate" && f.Measured:
			rep.Checks = append(rep.Checks, check("hot_set_hit_rate", f.Value, ">", cfg.MinHotHitRate, ""))
			rep.Checks[len(rep.Checks)-1].Message += " (" + f.Source + ")"
		case f.Name == "hitm_share" && f.Measured:
			rep.Checks = append(rep.Checks, check("hitm_share_of_misses", f.Value, "<", cfg.MaxHITMShare, ""))
			rep.Checks[len(rep.Checks)-1].Message += " (" + f.Source + ")"
		}
		progressf(env, "012 %s\n", f)
	}
	return &Outcome{Document: hwDocument(env, "012", "Cache-line alignment", start, rep), Checks: rep.Checks, Skipped: rep.Skipped}, nil
}
