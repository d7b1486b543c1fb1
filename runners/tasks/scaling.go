package tasks

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram/m18-gate/runners/dataset"
	"github.com/engram/m18-gate/runners/fit"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
)

// NodeBytes is the milestone's raw size of one node: a 768-float32
// embedding and 128 bytes of the rest. Memory overhead is measured memory
// over N·NodeBytes.
const NodeBytes = 768*4 + 128

// ScalingConfig is how task 004 scales the dataset. ScalingBudget returns
// each budget's; callers may adjust a copy.
type ScalingConfig struct {
	// Scenario is the built-in task scenario (under tasks/): mix, arrival,
	// data distribution. Its num_nodes is replaced by each size.
	Scenario string
	// Sizes are the node counts, ascending. Required lists those that must
	// be measured (others may be skipped when they do not fit).
	Sizes, Required []int
	// Warmup and Measure are the open-loop latency phase at each size;
	// Capacity the closed-loop saturation phase after it.
	Warmup, Measure, Capacity time.Duration
	// Rate is the latency phase's rate (0 = the scenario's); it is lowered
	// to MaxRateFraction of the capacity predicted for the size (the
	// previous size's, scaled as if cost were linear in N; measured here
	// the reference target lost more than that, so the fraction is 0.25),
	// so that p99 describes service, not an overload's queue. Workers is the
	// closed-loop concurrency (0 = 2 × GOMAXPROCS).
	Rate            float64
	MaxRateFraction float64
	Workers         int
	// OverheadAssumed estimates memory (N·NodeBytes·overhead) before any
	// size has been measured; MemoryHeadroom is the fraction of available
	// memory a size may need; MaxSizeTime the longest one size may take.
	OverheadAssumed float64
	MemoryHeadroom  float64
	MaxSizeTime     time.Duration
	// Criteria: memory overhead ≤ MaxOverhead; memory linear in N (R² ≥
	// MinMemoryR2); throughput degradation ≤ MaxDegradationPct (checked when
	// > 0); p99 ≤ P99LimitMs[N] and capacity ≥ MinThroughput[N] at the sizes
	// named; error rate ≤ MaxErrorRate at every size.
	MaxOverhead       float64
	MinMemoryR2       float64
	MaxDegradationPct float64
	P99LimitMs        map[int]float64
	MinThroughput     map[int]float64
	MaxErrorRate      float64
}

// ScalingBudget returns task 004's configuration for a budget. The
// milestone's criteria (p99 < 1 ms at 100K, < 5 ms at 1M, < 15 ms at 10M;
// ≥ 500 ops/s and < 20 % degradation at 10M) are checked at nightly and
// full, at the sizes those budgets reach; pr checks what its small sizes
// can show (linear memory, overhead, errors) and reports degradation.
func ScalingBudget(b Budget) ScalingConfig {
	c := ScalingConfig{
		MaxRateFraction: 0.25, OverheadAssumed: 2.5, MemoryHeadroom: 0.8,
		MaxOverhead: 2, MinMemoryR2: 0.95, MaxErrorRate: 0.01,
	}
	milestoneP99 := map[int]float64{100_000: 1, 1_000_000: 5, 10_000_000: 15}
	switch b {
	case BudgetNightly:
		c.Scenario = "004_scaling_nightly"
		c.Sizes, c.Required = []int{10_000, 100_000, 1_000_000}, []int{10_000, 100_000, 1_000_000}
		c.Warmup, c.Measure, c.Capacity = 5*time.Second, 30*time.Second, 15*time.Second
		c.MaxSizeTime = 30 * time.Minute
		c.MaxDegradationPct, c.P99LimitMs = 20, milestoneP99
	case BudgetFull:
		c.Scenario = "004_scaling_full"
		c.Sizes, c.Required = []int{100_000, 1_000_000, 10_000_000}, []int{100_000, 1_000_000}
		c.Warmup, c.Measure, c.Capacity = 10*time.Second, 60*time.Second, 30*time.Second
		c.MaxSizeTime = 6 * time.Hour
		c.MaxDegradationPct, c.P99LimitMs = 20, milestoneP99
		c.MinThroughput = map[int]float64{10_000_000: 500}
	default:
		c.Scenario = "004_scaling_pr"
		c.Sizes, c.Required = []int{1_000, 5_000, 10_000}, []int{1_000, 5_000, 10_000}
		c.Warmup, c.Measure, c.Capacity = time.Second, 4*time.Second, 3*time.Second
		c.MaxSizeTime = 2 * time.Minute
		c.MinMemoryR2 = 0.9
	}
	return c
}

// ScalingPoint is what one dataset size measured.
type ScalingPoint struct {
	Nodes int `json:"nodes"`
	// Skipped is true when the size did not fit; SkipReason says why, with
	// the estimate.
	Skipped    bool   `json:"skipped"`
	SkipReason string `json:"skip_reason,omitempty"`
	// Preload figures.
	PreloadSeconds float64 `json:"preload_s"`
	PreloadRate    float64 `json:"preload_nodes_per_sec"`
	// RSSBytes is the target process's resident size after the preload and
	// a garbage collection; TargetBytes the part the dataset accounts for
	// (RSS minus the process's RSS before the target started, for the
	// built-in target; RSS for an external one). Overhead is TargetBytes
	// over Nodes·NodeBytes.
	RSSBytes    uint64  `json:"rss_bytes"`
	TargetBytes int64   `json:"target_bytes"`
	Overhead    float64 `json:"overhead"`
	// CapacityOpsSec is the closed-loop saturation throughput;
	// CapacityErrorRate its error rate.
	CapacityOpsSec    float64 `json:"capacity_ops_sec"`
	CapacityErrorRate float64 `json:"capacity_error_rate"`
	// RateOpsSec is the latency phase's open-loop rate; RateLowered says it
	// was lowered below the configured rate to stay under capacity.
	RateOpsSec  float64 `json:"rate_ops_sec"`
	RateLowered bool    `json:"rate_lowered,omitempty"`
	// Overloaded says the rate turned out above 80 % of the capacity
	// measured after it: the p99 then describes a queue.
	Overloaded bool `json:"overloaded,omitempty"`
	// Latency phase figures (from the intended send time).
	P50Ms            float64 `json:"p50_ms"`
	P99Ms            float64 `json:"p99_ms"`
	ThroughputOpsSec float64 `json:"throughput_ops_sec"`
	ErrorRate        float64 `json:"error_rate"`
	// Seconds is the wall time the size took, preload included.
	Seconds float64 `json:"seconds"`
}

// ScalingReport is task 004's section of the result document
// (Document.Tasks["004"]).
type ScalingReport struct {
	Budget string         `json:"budget"`
	Target string         `json:"target"`
	Points []ScalingPoint `json:"points"`
	// MemoryFit is TargetBytes against Nodes: its slope is bytes per node.
	MemoryFit    fit.Line `json:"memory_fit"`
	BytesPerNode float64  `json:"bytes_per_node"`
	// OverheadFit is TargetBytes against Nodes·NodeBytes: its slope is the
	// memory overhead over the raw data.
	OverheadFit fit.Line `json:"overhead_fit"`
	Overhead    float64  `json:"overhead"`
	// DegradationPct is the loss of capacity from the smallest to the
	// largest measured size, percent.
	DegradationPct float64 `json:"throughput_degradation_pct"`
	// AvailableBytes is the memory available when the task started.
	AvailableBytes uint64         `json:"available_bytes"`
	Checks         []result.Check `json:"checks"`
	Notes          []string       `json:"notes,omitempty"`
}

// FitScaling fills the report's fits and degradation from its measured
// points.
func (r *ScalingReport) FitScaling() {
	var n, raw, mem []float64
	var first, last *ScalingPoint
	for i := range r.Points {
		p := &r.Points[i]
		if p.Skipped {
			continue
		}
		if first == nil {
			first = p
		}
		last = p
		n = append(n, float64(p.Nodes))
		raw = append(raw, float64(p.Nodes)*NodeBytes)
		mem = append(mem, float64(p.TargetBytes))
	}
	r.MemoryFit = fit.Linear(n, mem)
	r.BytesPerNode = r.MemoryFit.Slope
	r.OverheadFit = fit.Linear(raw, mem)
	r.Overhead = r.OverheadFit.Slope
	if first != nil && last != first && first.CapacityOpsSec > 0 {
		r.DegradationPct = 100 * (1 - last.CapacityOpsSec/first.CapacityOpsSec)
	}
}

// Scaling runs task 004: for each size a fresh built-in target (or, with
// env.Endpoint, the one external target preloaded cumulatively), the
// preload, an open-loop latency phase, a memory reading and a closed-loop
// capacity phase; then the fits. The result document is the largest
// measured size's latency run, with every size in Tasks["004"].
func Scaling(ctx context.Context, env Env, cfg ScalingConfig) (*Outcome, error) {
	if env.Duration > 0 {
		cfg.Measure = env.Duration
	}
	if env.Rate > 0 {
		cfg.Rate = env.Rate
	}
	if len(cfg.Sizes) == 0 || cfg.Measure <= 0 || cfg.Capacity <= 0 {
		return nil, fmt.Errorf("task 004: need sizes and measure/capacity durations > 0 (got %v, %v, %v)", cfg.Sizes, cfg.Measure, cfg.Capacity)
	}
	sc, err := taskScenario(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = 2 * runtime.GOMAXPROCS(0)
	}
	rep := &ScalingReport{Budget: string(env.Budget), Target: "builtin"}
	switch {
	case env.TargetCommand != "":
		rep.Target = "command"
		rep.Notes = append(rep.Notes, "target command: a fresh target per size, started with {nodes} set to the size")
	case env.Endpoint != "":
		rep.Target = "external"
		rep.Notes = append(rep.Notes, "external target: one target serves every size, preloaded cumulatively (ids are deterministic, so a size re-stores the smaller sizes' nodes); start it fresh for a clean curve, and pass --target-pid for memory")
	}
	avail, availErr := availableMemory()
	rep.AvailableBytes = avail
	if availErr != nil {
		rep.Notes = append(rep.Notes, "available memory unknown ("+availErr.Error()+"): sizes are not skipped for memory")
	}
	var (
		outDoc      *result.Document
		outcomeOK   = true
		lastRate    float64 // preload nodes/s of the previous size
		lastCap     float64
		lastNodes   int
		maxOverhead float64
		skipped     []string
	)
	var ext *Server
	if env.Endpoint != "" && env.TargetCommand == "" {
		ext, _ = StartServer(ctx, env, ServerParams{})
	}
	for _, n := range cfg.Sizes {
		if ctx.Err() != nil {
			break
		}
		pt := ScalingPoint{Nodes: n}
		// Will it fit? Before two sizes are measured, assume the configured
		// overhead (or the one measured); after, extrapolate the fitted
		// marginal overhead. Either way with 25 % to spare.
		ov := cfg.OverheadAssumed
		if maxOverhead > 0 {
			ov = max(1, 1.25*maxOverhead)
		}
		if sofar := (&ScalingReport{Points: rep.Points}); measuredCount(rep.Points) >= 2 {
			sofar.FitScaling()
			if sofar.Overhead > 0 {
				ov = max(1, 1.25*sofar.Overhead)
			}
		}
		need := float64(n) * NodeBytes * ov
		if avail > 0 && need > cfg.MemoryHeadroom*float64(avail) {
			pt.Skipped = true
			pt.SkipReason = fmt.Sprintf("needs about %.1f GiB (%d × %d B × overhead %.2f, the measured overhead with 25%% to spare), more than %.0f%% of the %.1f GiB available",
				need/(1<<30), n, NodeBytes, ov, 100*cfg.MemoryHeadroom, float64(avail)/(1<<30))
		} else if lastRate > 0 {
			est := time.Duration(float64(n)/lastRate*float64(time.Second)) + cfg.Warmup + cfg.Measure + cfg.Capacity
			if cfg.MaxSizeTime > 0 && est > cfg.MaxSizeTime {
				pt.Skipped = true
				pt.SkipReason = fmt.Sprintf("estimated %v (preload at the measured %.0f nodes/s plus %v of measurement), more than the budget's %v per size",
					est.Round(time.Second), lastRate, cfg.Warmup+cfg.Measure+cfg.Capacity, cfg.MaxSizeTime)
			}
		}
		if pt.Skipped {
			skipped = append(skipped, fmt.Sprintf("%d nodes: %s", n, pt.SkipReason))
			progressf(env, "004 scaling: %d nodes skipped: %s\n", n, pt.SkipReason)
			rep.Points = append(rep.Points, pt)
			continue
		}
		// Rate: under the capacity predicted from the previous size,
		// assuming cost linear in N (pessimistic for an indexed store).
		rate := cfg.Rate
		if rate <= 0 {
			rate = sc.Arrival.MeanRate()
		}
		if lastCap > 0 {
			pred := lastCap * float64(lastNodes) / float64(n)
			if lim := cfg.MaxRateFraction * pred; rate > lim {
				rate, pt.RateLowered = max(lim, 1), true
			}
		}
		pt.RateOpsSec = rate
		t0 := time.Now()
		doc, generatorOK, err := scalingSize(ctx, env, cfg, sc, ext, n, rate, workers, &pt)
		if err != nil {
			return nil, fmt.Errorf("task 004 at %d nodes: %w", n, err)
		}
		outDoc = doc
		outcomeOK = outcomeOK && generatorOK
		if pt.CapacityOpsSec > 0 && pt.RateOpsSec > 0.8*pt.CapacityOpsSec {
			pt.Overloaded = true
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d nodes: p99 was measured at %.1f ops/s, above 80%% of the %.1f ops/s capacity measured after it: it describes a queue, not service time",
				n, pt.RateOpsSec, pt.CapacityOpsSec))
		}
		pt.Seconds = time.Since(t0).Seconds()
		progressf(env, "004 scaling: %d nodes: preload %.1fs (%.0f/s), RSS %.1f MB (target %.1f MB, overhead %.2f), capacity %.0f ops/s, p99 %.2f ms at %.0f ops/s\n",
			n, pt.PreloadSeconds, pt.PreloadRate, float64(pt.RSSBytes)/(1<<20), float64(pt.TargetBytes)/(1<<20), pt.Overhead, pt.CapacityOpsSec, pt.P99Ms, pt.RateOpsSec)
		if pt.PreloadRate > 0 {
			lastRate = pt.PreloadRate
		}
		lastCap, lastNodes = pt.CapacityOpsSec, n
		if pt.Overhead > 0 {
			maxOverhead = max(maxOverhead, pt.Overhead)
		}
		rep.Points = append(rep.Points, pt)
	}
	if outDoc == nil {
		return nil, fmt.Errorf("task 004: no size was measured (%v)", strings.Join(skipped, "; "))
	}
	rep.FitScaling()
	rep.Checks = scalingChecks(cfg, rep, outcomeOK)
	ensureTasks(outDoc)
	outDoc.Tasks["004"] = rep
	progressf(env, "004 scaling: %.0f bytes/node (R² %.3f), overhead %.2f× of %d B/node, capacity degradation %.1f%%\n",
		rep.BytesPerNode, rep.MemoryFit.R2, rep.Overhead, NodeBytes, rep.DegradationPct)
	return &Outcome{Document: outDoc, Checks: rep.Checks, Skipped: skipped}, nil
}

// scalingSize measures one size into pt and returns the latency run's
// document; generatorOK is false when the generator could not keep the
// latency phase's schedule (the document is kept; a check says so).
func scalingSize(ctx context.Context, env Env, cfg ScalingConfig, sc *scenario.Scenario, ext *Server, n int, rate float64, workers int, pt *ScalingPoint) (doc *result.Document, generatorOK bool, err error) {
	tgt := ext
	var baseline uint64
	if tgt == nil {
		builtin := env.TargetCommand == ""
		if builtin {
			releaseMemory()
			if s, err := procstat.Read(os.Getpid()); err == nil {
				baseline = s.RSSBytes
			}
		}
		// A fresh target per size: built in, or the command with {nodes}.
		tgt, err = StartServer(ctx, env, ServerParams{Values: map[string]string{"nodes": strconv.Itoa(n)}})
		if err != nil {
			return nil, false, err
		}
		defer tgt.Close()
	}
	lc := runConfig(env, sc, tgt, 0)
	lc.Nodes = &n
	lc.Rate = rate
	lc.Duration = cfg.Measure
	lc.Warmup = &cfg.Warmup
	lc.Progress = env.Progress
	doc, err = load.Run(ctx, lc)
	generatorOK, fatal := sortRunErr(doc, err)
	if fatal != nil {
		return nil, false, fatal
	}
	if doc.Preload != nil {
		pt.PreloadSeconds, pt.PreloadRate = doc.Preload.DurationSeconds, doc.Preload.RatePerSecond
	}
	pt.P50Ms, pt.P99Ms = doc.P50LatencyMs, doc.P99LatencyMs
	pt.ThroughputOpsSec, pt.ErrorRate = doc.OverallThroughput, doc.OverallErrorRate

	if tgt.PID > 0 {
		if tgt.Kind == "builtin" {
			releaseMemory()
		}
		if s, err := procstat.Read(tgt.PID); err == nil {
			pt.RSSBytes = s.RSSBytes
			pt.TargetBytes = int64(s.RSSBytes) - int64(baseline)
			pt.Overhead = float64(pt.TargetBytes) / (float64(n) * NodeBytes)
		}
	}
	data := sc.Data
	data.NumNodes = n
	pt.CapacityOpsSec, pt.CapacityErrorRate, err = measureCapacity(ctx, tgt.URL, sc, data, env.Seed, workers, cfg.Capacity)
	if err != nil {
		return nil, false, err
	}
	return doc, generatorOK, nil
}

// measureCapacity sends the scenario's mix closed-loop from workers
// goroutines (each sends its next request when the previous one returns)
// for a short unmeasured warm-up and then d, and returns completed requests
// per second and the error rate over d: the target's saturation
// throughput. Bounded by time and by 50 million requests.
func measureCapacity(ctx context.Context, base string, sc *scenario.Scenario, data scenario.Data, seed uint64, workers int, d time.Duration) (float64, float64, error) {
	u, err := url.Parse(base)
	if err != nil {
		return 0, 0, err
	}
	wl := &load.Engram{Base: u, Data: dataset.New(data, seed), Dim: data.EmbeddingDim, NumNodes: uint64(data.NumNodes)}
	if wl.Dim <= 0 {
		wl.Dim = 768
	}
	client := load.NewClient(workers, load.DefaultTimeout)
	defer client.CloseIdleConnections()
	// The first tenth (at most 2 s) opens connections and is not counted.
	warm := min(d/10, 2*time.Second)
	ctx, cancel := context.WithTimeout(ctx, warm+d)
	defer cancel()
	const maxRequests = 50_000_000
	var done, failed atomic.Uint64
	var wg sync.WaitGroup
	start := time.Now().Add(warm)
	for w := 0; w < workers; w++ {
		mix, err := load.NewMix(load.Weights(sc.Weights()), seed^uint64(w+1)*0x9e3779b97f4a7c15)
		if err != nil {
			return 0, 0, err
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := wl.NewSender()
			// Sequence numbers disjoint per worker and from the latency phase.
			seq := uint64(w+1) << 40
			for ctx.Err() == nil && done.Load() < maxRequests {
				seq++
				req, err := s.Request(ctx, mix.Pick(), seq)
				if err != nil {
					continue
				}
				resp, err := client.Do(req)
				if ctx.Err() != nil {
					if err == nil {
						resp.Body.Close()
					}
					return // cut by the deadline: not a measurement
				}
				ok := err == nil && resp.StatusCode/100 == 2
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if time.Now().Before(start) {
					continue // warming up
				}
				done.Add(1)
				if !ok {
					failed.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	n := done.Load()
	if n == 0 || el <= 0 {
		return 0, 0, nil
	}
	return float64(n) / el, float64(failed.Load()) / float64(n), nil
}

func measuredCount(ps []ScalingPoint) int {
	n := 0
	for _, p := range ps {
		if !p.Skipped {
			n++
		}
	}
	return n
}

// availableMemory returns MemAvailable from /proc/meminfo, in bytes.
func availableMemory() (uint64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != "MemAvailable" {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			break
		}
		kb, err := strconv.ParseUint(fs[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/meminfo: MemAvailable %q: %w", fs[0], err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("/proc/meminfo: no MemAvailable line")
}

// scalingChecks encodes task 004's criteria.
func scalingChecks(cfg ScalingConfig, rep *ScalingReport, generatorOK bool) []result.Check {
	var cs []result.Check
	measured := map[int]*ScalingPoint{}
	nMeasured := 0
	maxErr := 0.0
	for i := range rep.Points {
		p := &rep.Points[i]
		if !p.Skipped {
			measured[p.Nodes] = p
			nMeasured++
			maxErr = max(maxErr, p.ErrorRate, p.CapacityErrorRate)
		}
	}
	missing := 0
	var missed []string
	for _, n := range cfg.Required {
		if measured[n] == nil {
			missing++
			missed = append(missed, strconv.Itoa(n))
		}
	}
	c := checkAs("required_sizes_measured", float64(len(cfg.Required)-missing), "=", float64(len(cfg.Required)), " sizes", missing == 0)
	if missing > 0 {
		c.Message += " (missing: " + strings.Join(missed, ", ") + ")"
	}
	cs = append(cs, c)
	if nMeasured >= 3 {
		cs = append(cs, checkAs("memory_linear_r2", rep.MemoryFit.R2, "≥", cfg.MinMemoryR2, "", rep.MemoryFit.R2 >= cfg.MinMemoryR2))
	}
	if nMeasured >= 2 && rep.Overhead > 0 {
		cs = append(cs, checkAs("memory_overhead", rep.Overhead, "≤", cfg.MaxOverhead, "×", rep.Overhead <= cfg.MaxOverhead))
	}
	if cfg.MaxDegradationPct > 0 && nMeasured >= 2 {
		cs = append(cs, checkAs("throughput_degradation_pct", rep.DegradationPct, "≤", cfg.MaxDegradationPct, " %", rep.DegradationPct <= cfg.MaxDegradationPct))
	}
	for _, n := range cfg.Sizes {
		p := measured[n]
		if p == nil {
			continue
		}
		if lim, ok := cfg.P99LimitMs[n]; ok {
			cs = append(cs, checkAs(fmt.Sprintf("p99_ms_at_%d", n), p.P99Ms, "≤", lim, " ms", p.P99Ms <= lim))
		}
		if lim, ok := cfg.MinThroughput[n]; ok {
			cs = append(cs, checkAs(fmt.Sprintf("throughput_at_%d", n), p.CapacityOpsSec, "≥", lim, " ops/s", p.CapacityOpsSec >= lim))
		}
	}
	cs = append(cs, checkAs("max_error_rate", maxErr, "≤", cfg.MaxErrorRate, "", maxErr <= cfg.MaxErrorRate))
	gc := checkAs("generator_kept_schedule", b2f(generatorOK), "=", 1, "", generatorOK)
	if !generatorOK {
		gc.Message += " at some size: its latency figures describe the generator"
	}
	return append(cs, gc)
}
