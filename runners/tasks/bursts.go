package tasks

import (
	"context"
	"fmt"
	"math"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/window"
	"gonum.org/v1/gonum/stat/distuv"
)

// BurstRun is one burst_sequence scenario of task 003, with the budget's
// sizes (zero = the scenario's).
type BurstRun struct {
	Scenario string
	BaseRate float64
	BurstSec float64
	GapSec   float64
}

// BurstConfig is task 003: bursts, their recovery, errors and memory.
type BurstConfig struct {
	Runs   []BurstRun
	Warmup time.Duration
	Nodes  int
	// Window is the width of the windows recovery is read from (1 s).
	Window time.Duration
	// A burst has recovered at the first window after it whose requests
	// are, but for sampling error, back under max(Threshold × the
	// reference p99, reference p99 + NoiseFloorMs) (see analyzeBursts): at
	// sub-millisecond latencies 10 % is below a shared machine's jitter.
	Threshold    float64
	NoiseFloorMs float64
	// RecoveryAlpha is the chance that a recovered window is taken for
	// one still recovering (see analyzeBursts); 0 = 0.001.
	RecoveryAlpha float64
	// Criteria: every burst recovers within MaxRecovery (the milestone's
	// < 5 s after a 10× spike); errors in bursts at most MaxErrorRate (a
	// scenario's [validation] max_error_rate wins); target RSS below
	// MaxRSSRatio × its value before the bursts.
	MaxRecovery  time.Duration
	MaxErrorRate float64
	MaxRSSRatio  float64
	// Limits on the load generator's schedule slip; zero = load.DefaultLimits
	// (late beyond 10 ms for more than 1 % of sends fails the run).
	Limits load.Limits
}

// The task 003 scenario family.
var burstScenarios = []string{"tasks/003_bursts", "tasks/003_sustained", "tasks/003_oscillating"}

// BurstBudget returns task 003's configuration: pr runs the 2×/5×/10×
// sequence at 100 ops/s with 3 s bursts and 6 s gaps (33 s); nightly every
// variant at its scenario's sizes (200 ops/s base); full at the M17 rate
// of 1000 ops/s (10 000 ops/s at 10×) with minute-long gaps.
func BurstBudget(b Budget) BurstConfig {
	c := BurstConfig{Warmup: 2 * time.Second, Nodes: 1000, Window: time.Second, Threshold: 1.1, NoiseFloorMs: 0.5,
		MaxRecovery: 5 * time.Second, MaxErrorRate: 0.01, MaxRSSRatio: 2}
	switch b {
	case BudgetNightly:
		c.Nodes, c.Warmup = 10_000, 10*time.Second
		for _, s := range burstScenarios {
			c.Runs = append(c.Runs, BurstRun{Scenario: s})
		}
	case BudgetFull:
		c.Nodes, c.Warmup = 100_000, 30*time.Second
		for _, s := range burstScenarios {
			r := BurstRun{Scenario: s, BaseRate: 1000}
			if s == "tasks/003_bursts" {
				r.GapSec, r.BurstSec = 60, 30
			}
			c.Runs = append(c.Runs, r)
		}
	default:
		c.Runs = []BurstRun{{Scenario: "tasks/003_bursts", BaseRate: 100, BurstSec: 3, GapSec: 6}}
	}
	return c
}

// BurstReport is task 003's section (Document.Tasks["003"]).
type BurstReport struct {
	Budget string        `json:"budget"`
	Runs   []BurstResult `json:"runs"`
}

// BurstResult is one scenario's figures.
type BurstResult struct {
	Scenario      string  `json:"scenario"`
	BaseRate      float64 `json:"base_rate_ops_sec"`
	WindowSeconds float64 `json:"window_seconds"`
	// BaselineP99Ms is the p99 of the quiet lead-in; ThresholdMs the
	// latency derived from it (each burst's own threshold, from its
	// reference, is in BurstFacts).
	BaselineP99Ms float64      `json:"baseline_p99_ms"`
	ThresholdMs   float64      `json:"threshold_ms"`
	Bursts        []BurstFacts `json:"bursts"`
	// MaxRecoverySeconds is the longest recovery (a lower bound when a
	// burst never recovered before the next one).
	MaxRecoverySeconds float64 `json:"max_recovery_s"`
	AllRecovered       bool    `json:"all_recovered"`
	// RecoveryAlpha is the chance a recovered window was judged not yet
	// recovered by sampling error alone.
	RecoveryAlpha float64 `json:"recovery_alpha"`
	// Error rates of the requests sent inside and outside bursts.
	ErrorRateInBursts  float64 `json:"error_rate_in_bursts"`
	ErrorRateOutBursts float64 `json:"error_rate_out_of_bursts"`
	// RSS of the target before the bursts and at most during the run;
	// RSSRatio is their ratio (0 when the target's process is unknown).
	RSSBaselineMiB float64          `json:"rss_baseline_mib"`
	RSSMaxMiB      float64          `json:"rss_max_mib"`
	RSSRatio       float64          `json:"rss_ratio"`
	Windows        []window.Window  `json:"windows"`
	Generator      result.Generator `json:"generator"`
	GeneratorOK    bool             `json:"generator_ok"`
	Checks         []result.Check   `json:"checks"`

	phase *load.PhaseResult
}

// BurstFacts is one burst.
type BurstFacts struct {
	Multiplier   float64 `json:"multiplier"`
	StartSeconds float64 `json:"start_s"`
	EndSeconds   float64 `json:"end_s"`
	Rate         float64 `json:"rate_ops_sec"`
	// PreBurstP99Ms is the p99 of the second half of the gap before it.
	PreBurstP99Ms float64 `json:"pre_burst_p99_ms"`
	// P99Ms is the p99 of the requests sent during the burst; PeakP99Ms
	// the highest window p99 from its start to its recovery.
	P99Ms     float64 `json:"p99_ms"`
	PeakP99Ms float64 `json:"peak_window_p99_ms"`
	// RecoverySeconds runs from the end of the burst to the start of the
	// first window back under the threshold; Recovered is false when no
	// window was before the next burst (RecoverySeconds is then the gap, a
	// lower bound).
	RecoverySeconds float64 `json:"recovery_s"`
	Recovered       bool    `json:"recovered"`
	ErrorRate       float64 `json:"error_rate"`
	// ReferenceP99Ms is the p99 of the burst's reference (the lead-in, and
	// the second half of the gap before it when the previous burst had
	// recovered), ReferenceSeconds its length; ThresholdMs the latency a
	// request must be back under. SlowFraction is the share of reference
	// requests above it (at least 0.01); LeadInSpread the largest share
	// in one lead-in window. A window recovers when its slow requests are
	// at most the Binomial(n, SlowFraction) critical count at
	// BurstResult.RecoveryAlpha, or LeadInSpread × n if more: the sampling
	// error tolerated.
	ReferenceP99Ms   float64 `json:"reference_p99_ms"`
	ReferenceSeconds float64 `json:"reference_s"`
	ThresholdMs      float64 `json:"threshold_ms"`
	SlowFraction     float64 `json:"slow_fraction"`
	LeadInSpread     float64 `json:"lead_in_spread"`
	// RecoveryWindow is the first window judged recovered (nil when none).
	RecoveryWindow *RecoveryWindow `json:"recovery_window,omitempty"`
	// SettledSlowFraction is the share of requests over ThresholdMs in the
	// last third of the gap after the burst (SettledSeconds, whole windows,
	// at least one), SettledP99Ms their p99: where the target ended up.
	// Against SlowFraction it tells why a burst did not recover: nearly
	// every request slow is a queue still draining; a few more than before
	// is a level the target settled at — data the burst stored, which
	// later requests read, or a machine that stayed slower.
	SettledSeconds      float64 `json:"settled_s"`
	SettledSlowFraction float64 `json:"settled_slow_fraction"`
	SettledP99Ms        float64 `json:"settled_p99_ms"`
}

// RecoveryWindow is the window a burst was judged recovered in: its
// requests, how many were slower than the threshold, how many slow ones
// were tolerated as sampling error, and its p99 (for reading, not the
// criterion).
type RecoveryWindow struct {
	StartSeconds float64 `json:"start_s"`
	Requests     uint64  `json:"requests"`
	Slow         uint64  `json:"slow"`
	Tolerated    uint64  `json:"tolerated"`
	P99Ms        float64 `json:"p99_ms"`
}

// burstArrival applies a run's sizes to its scenario's arrival.
func burstArrival(sc *scenario.Scenario, r BurstRun, env Env) (scenario.Arrival, error) {
	a := sc.Arrival
	if a.Pattern != "burst_sequence" {
		return a, fmt.Errorf("%w: task 003 scenario %s: [arrival] pattern must be \"burst_sequence\" (got %q)", load.ErrConfig, sc.Ref, a.Pattern)
	}
	if r.BaseRate > 0 {
		a.BaseRate = r.BaseRate
	}
	if env.Rate > 0 {
		a.BaseRate = env.Rate
	}
	if r.BurstSec > 0 {
		a.BurstDurationSec = r.BurstSec
	}
	if r.GapSec > 0 {
		a.GapSec = r.GapSec
	}
	if a.GapSec < 2 {
		return a, fmt.Errorf("%w: task 003 scenario %s: [arrival] gap_sec must be ≥ 2 for a baseline and a recovery to be read (got %g)", load.ErrConfig, sc.Ref, a.GapSec)
	}
	return a, nil
}

// BurstTraffic runs task 003.
func BurstTraffic(ctx context.Context, env Env, cfg BurstConfig) (*Outcome, error) {
	if len(cfg.Runs) == 0 {
		return nil, fmt.Errorf("%w: task 003 has no runs", load.ErrConfig)
	}
	var scs []*scenario.Scenario
	var arrs []scenario.Arrival
	peak := 0.0
	for _, r := range cfg.Runs {
		sc, err := taskScenario(r.Scenario)
		if err != nil {
			return nil, err
		}
		a, err := burstArrival(sc, r, env)
		if err != nil {
			return nil, err
		}
		scs, arrs = append(scs, sc), append(arrs, a)
		peak = max(peak, a.PeakRate())
	}
	start := time.Now()
	rig, seq, err := startWarmRig(ctx, env, scs[0], cfg.Nodes, peak, cfg.Limits, arrs[0].BaseRate, cfg.Warmup)
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	rep := &BurstReport{Budget: string(env.Budget)}
	var phases []measuredPhase
	var results []*load.PhaseResult
	var checks []result.Check
	var skipped []string
	for i, sc := range scs {
		rig.sc = sc
		br, skip, err := burstRun(ctx, env, cfg, rig, sc, arrs[i], seq, uint64(i))
		if err != nil {
			return nil, err
		}
		skipped = append(skipped, skip...)
		seq = br.phase.NextSeq
		rep.Runs = append(rep.Runs, *br)
		phases = append(phases, measuredPhase{res: br.phase})
		results = append(results, br.phase)
		checks = append(checks, br.Checks...)
		for _, b := range br.Bursts {
			how := "not recovered: " + b.settled()
			if w := b.RecoveryWindow; w != nil {
				how = fmt.Sprintf("%d of %d requests over %.2f ms, %d tolerated", w.Slow, w.Requests, b.ThresholdMs, w.Tolerated)
			}
			rig.progressf("003 %s: %4.1f× burst at %5.1fs: p99 %8.2f ms (peak window %8.2f), recovered in %.0f s (%s), errors %.2f%%\n",
				path.Base(sc.Ref), b.Multiplier, b.StartSeconds, b.P99Ms, b.PeakP99Ms, b.RecoverySeconds, how, 100*b.ErrorRate)
		}
		if br.phase.Interrupted {
			break
		}
	}
	rig.sc = scs[0]
	doc, err := rig.document(runsRef("003", cfg.Runs[0].Scenario, len(cfg.Runs)), result.RunConfig{Rate: arrs[0].MeanRate(), Arrival: arrs[0].Pattern,
		DurationSeconds: rep.Runs[0].phase.Elapsed().Seconds(), WarmupSeconds: cfg.Warmup.Seconds(), Repetitions: len(rep.Runs)}, start, phases)
	if err != nil {
		return nil, err
	}
	return outcome("003", doc, rep, checks, skipped, results, cfg.Limits)
}

func burstRun(ctx context.Context, env Env, cfg BurstConfig, rig *rig, sc *scenario.Scenario, a scenario.Arrival, seq, index uint64) (*BurstResult, []string, error) {
	seqShape := arrival.SequenceOf(a)
	d := seqShape.Length()
	if env.Duration > 0 {
		d = env.Duration
	}
	seed := env.Seed + (index+1)*0x9e3779b97f4a7c15
	pacer, err := arrival.New(a, seed)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: scenario %s: %v", load.ErrConfig, sc.Ref, err)
	}
	width := cfg.Window
	if width <= 0 {
		width = time.Second
	}
	br := &BurstResult{Scenario: sc.Ref, BaseRate: a.BaseRate, WindowSeconds: width.Seconds()}
	var skipped []string
	var sampler *procstat.Sampler
	if rig.pid > 0 {
		if st, err := procstat.Read(rig.pid); err == nil {
			br.RSSBaselineMiB = st.RSSMiB()
			sampler = procstat.NewSampler(rig.pid, 200*time.Millisecond)
			sampler.Start(ctx)
		} else {
			skipped = append(skipped, fmt.Sprintf("003 %s: target RSS not sampled: %v", sc.Ref, err))
		}
	} else {
		skipped = append(skipped, fmt.Sprintf("003 %s: target RSS not sampled: an external target needs --target-pid", sc.Ref))
	}
	rig.progressf("003 %s: base %.0f ops/s, bursts %v× of %gs every %gs gap, %v\n", sc.Ref, a.BaseRate, a.Multipliers, a.BurstDurationSec, a.GapSec, d)
	phaseStart := time.Now()
	wins := window.New(width, phaseStart)
	lat := newWindowLatencies(width)
	observe := func(s load.Sample) { wins.Observe(s); lat.Observe(s) }
	res, err := rig.engine(rig.workload(), observe).Run(ctx, load.Phase{Name: "003 " + path.Base(sc.Ref), Pacer: pacer,
		Mix: rig.mix(seed), Duration: d, MaxRequests: uint64(a.PeakRate()*d.Seconds()*1.5) + 1000, FirstSeq: seq})
	if sampler != nil {
		for _, s := range sampler.Stop() {
			br.RSSMaxMiB = max(br.RSSMaxMiB, s.RSSMiB())
		}
	}
	if err != nil {
		return nil, nil, err
	}
	br.phase = res
	br.Generator = res.Generator
	br.GeneratorOK = res.Check(limitsOr(cfg.Limits)) == nil
	br.Windows = wins.Windows()
	if br.RSSBaselineMiB > 0 {
		br.RSSRatio = br.RSSMaxMiB / br.RSSBaselineMiB
	}
	analyzeBursts(br, wins, lat, a, d, cfg)

	maxErr := cfg.MaxErrorRate
	if v := sc.Validation.MaxErrorRate; v != nil {
		maxErr = *v
	}
	name := path.Base(sc.Ref)
	rc := check(name+"/recovery_max_s", br.MaxRecoverySeconds, "≤", cfg.MaxRecovery.Seconds(), " s")
	if !br.AllRecovered {
		rc.Passed = false
		rc.Message = fmt.Sprintf("%s FAILED: a burst had not recovered %.4g s after it ended (before the next burst or the end of the run), expected ≤ %.4g s",
			rc.Name, br.MaxRecoverySeconds, cfg.MaxRecovery.Seconds())
		for _, b := range br.Bursts {
			if !b.Recovered {
				rc.Message += fmt.Sprintf("; the %g× burst's %s", b.Multiplier, b.settled())
			}
		}
	}
	br.Checks = []result.Check{rc, check(name+"/error_rate_in_bursts", br.ErrorRateInBursts, "≤", maxErr, "")}
	switch {
	case br.RSSRatio > 0 && rig.kind() == "builtin" && env.TargetPID == 0:
		skipped = append(skipped, fmt.Sprintf("003 %s: RSS %.0f → %.0f MiB measured but not checked: the built-in target shares this process with the load generator, whose in-flight requests it would count; run the target apart (--endpoint with --target-pid) to check RSS < %g× baseline",
			sc.Ref, br.RSSBaselineMiB, br.RSSMaxMiB, cfg.MaxRSSRatio))
	case br.RSSRatio > 0:
		br.Checks = append(br.Checks, check(name+"/rss_ratio", br.RSSRatio, "<", cfg.MaxRSSRatio, "×"))
	}
	return br, skipped, nil
}

// settled says where the target stood at the end of the gap after the
// burst, against its reference, and how to read it.
func (f BurstFacts) settled() string {
	return fmt.Sprintf("last %.0f s of the gap had %.1f %% of requests over %.2f ms, the reference %.1f %% "+
		"(nearly all: a queue still draining; a few more: a level the target settled at — data the burst stored that later requests read, or a machine that stayed slower)",
		f.SettledSeconds, 100*f.SettledSlowFraction, f.ThresholdMs, 100*f.SlowFraction)
}

// analyzeBursts fills the baseline, per-burst figures and recovery.
//
// A window after a burst has recovered when few enough of its requests
// are slower than the threshold or failed: a p99 of the hundred-odd
// requests of one window is its slowest request or two, so judging it
// alone would judge noise. Each burst's threshold comes from its reference — the quiet
// lead-in (less its first window) and, when the previous burst had
// recovered before it, the second half of the gap before the burst — as
// max(Threshold × its p99, its p99 + NoiseFloorMs). At most a fraction p0
// of reference requests are slower than that (p0 = the reference's own
// fraction, at least 1 %, the p99's share). A recovered window of n
// requests then holds a Binomial(n, p0) count of slower ones; it is judged
// recovered when its count is at most the one that Binomial exceeds with
// probability RecoveryAlpha, or the largest fraction of slow requests any
// lead-in window of the same width held (the machine's own spread), if
// that is more. A queue makes nearly every request slower, far above
// either.
func analyzeBursts(br *BurstResult, wins *window.Recorder, lat *windowLatencies, a scenario.Arrival, d time.Duration, cfg BurstConfig) {
	gap := time.Duration(a.GapSec * float64(time.Second))
	dur := time.Duration(a.BurstDurationSec * float64(time.Second))
	width := wins.Width()
	// The lead-in, less its first window (connections settling).
	from := time.Duration(0)
	if gap >= 2*width {
		from = width
	}
	br.BaselineP99Ms = wins.Span(from, gap).P99
	thr := cfg.Threshold
	if thr <= 0 {
		thr = 1.1
	}
	alpha := cfg.RecoveryAlpha
	if alpha <= 0 {
		alpha = 0.001
	}
	br.ThresholdMs = max(thr*br.BaselineP99Ms, br.BaselineP99Ms+cfg.NoiseFloorMs)
	br.RecoveryAlpha = alpha
	leadIn := lat.span(from, gap)
	ws := br.Windows
	var inN, inE, allN, allE uint64
	br.AllRecovered = true
	prevRecoveredAt := time.Duration(-1) // when the previous burst recovered; -1 = none yet
	for i, m := range a.Multipliers {
		start := gap + time.Duration(i)*(dur+gap)
		end := start + dur
		if start >= d {
			break
		}
		next := min(end+gap, d)
		span := wins.Span(start, end)
		f := BurstFacts{Multiplier: m, StartSeconds: start.Seconds(), EndSeconds: end.Seconds(), Rate: a.BaseRate * m,
			PreBurstP99Ms: wins.Span(start-gap/2, start).P99, P99Ms: span.P99, ErrorRate: span.ErrorRate}
		inN += span.Count
		inE += span.Errors
		ref := leadIn
		if i > 0 && prevRecoveredAt >= 0 && prevRecoveredAt <= start-gap/2 {
			ref = append(slices.Clone(leadIn), lat.span(start-gap/2, start)...)
			f.ReferenceSeconds = (gap - from + gap/2).Seconds()
		} else {
			f.ReferenceSeconds = (gap - from).Seconds()
		}
		refP99 := quantile32(ref, 0.99)
		f.ReferenceP99Ms = refP99
		f.ThresholdMs = max(thr*refP99, refP99+cfg.NoiseFloorMs)
		f.SlowFraction = max(fractionAbove(ref, f.ThresholdMs), 0.01)
		for k := from; k+width <= gap; k += width {
			w := lat.span(k, k+width)
			if len(w) > 0 {
				f.LeadInSpread = max(f.LeadInSpread, fractionAbove(w, f.ThresholdMs))
			}
		}
		f.RecoverySeconds = (next - end).Seconds()
		for _, w := range ws {
			if w.Start < start || w.Start >= next {
				continue
			}
			f.PeakP99Ms = max(f.PeakP99Ms, w.P99)
			if w.Start < end || w.Count == 0 {
				continue
			}
			ls := lat.span(w.Start, w.End)
			n := uint64(len(ls))
			slow := uint64(n) - uint64(countAtMost(ls, f.ThresholdMs))
			tol := max(binomialCritical(n, f.SlowFraction, alpha), uint64(math.Ceil(f.LeadInSpread*float64(n))))
			if n > 0 && slow <= tol {
				f.RecoverySeconds, f.Recovered = (w.Start - end).Seconds(), true
				f.RecoveryWindow = &RecoveryWindow{StartSeconds: w.StartSeconds, Requests: n, Slow: slow, Tolerated: tol, P99Ms: w.P99}
				prevRecoveredAt = w.Start
				break
			}
		}
		settled := max(end, (next-max(width, (next-end)/3))/width*width)
		if ls := lat.span(settled, next); len(ls) > 0 {
			f.SettledSeconds = (next - settled).Seconds()
			f.SettledSlowFraction, f.SettledP99Ms = fractionAbove(ls, f.ThresholdMs), quantile32(ls, 0.99)
		}
		if !f.Recovered {
			br.AllRecovered = false
			prevRecoveredAt = -1
		}
		br.MaxRecoverySeconds = max(br.MaxRecoverySeconds, f.RecoverySeconds)
		br.Bursts = append(br.Bursts, f)
	}
	for _, w := range ws {
		allN += w.Count
		allE += w.Errors
	}
	if inN > 0 {
		br.ErrorRateInBursts = float64(inE) / float64(inN)
	}
	if out := allN - inN; out > 0 {
		br.ErrorRateOutBursts = float64(allE-inE) / float64(out)
	}
}

// binomialCritical is the smallest k with P(X > k) ≤ alpha for X ~
// Binomial(n, p): the most slow requests a recovered window of n holds
// but with probability alpha.
func binomialCritical(n uint64, p, alpha float64) uint64 {
	if n == 0 || p <= 0 {
		return 0
	}
	if p >= 1 {
		return n
	}
	b := distuv.Binomial{N: float64(n), P: p}
	for k := uint64(0); k < n; k++ {
		if 1-b.CDF(float64(k)) <= alpha {
			return k
		}
	}
	return n
}

// windowLatencies keeps every request's latency (ms, as float32: 4 bytes
// a request) by the window of its intended send, for counts above a
// threshold decided after the run. A failed request is kept as +Inf: it
// is over every threshold (a target answering errors fast has not
// recovered), and quantile32 leaves it out. Safe for concurrent use.
type windowLatencies struct {
	width time.Duration
	mu    sync.Mutex
	ms    map[int64][]float32
}

func newWindowLatencies(width time.Duration) *windowLatencies {
	return &windowLatencies{width: width, ms: map[int64][]float32{}}
}

// Observe records s; it has the signature of load.Engine.Observe.
func (l *windowLatencies) Observe(s load.Sample) {
	k := int64(s.Intended / l.width)
	v := float32(s.Latency.Seconds() * 1000)
	if !s.Outcome.OK() {
		v = float32(math.Inf(1))
	}
	l.mu.Lock()
	l.ms[k] = append(l.ms[k], v)
	l.mu.Unlock()
}

// span returns the latencies of the windows overlapping [from, to), a copy.
func (l *windowLatencies) span(from, to time.Duration) []float32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []float32
	for k := int64(from / l.width); time.Duration(k)*l.width < to; k++ {
		out = append(out, l.ms[k]...)
	}
	return out
}

// quantile32 is the q-quantile of the finite values of xs (the value at
// rank ⌈q·n⌉, as an HDR histogram reports it): of the requests served,
// not failed; 0 for none.
func quantile32(xs []float32, q float64) float64 {
	s := slices.DeleteFunc(slices.Clone(xs), func(x float32) bool { return math.IsInf(float64(x), 1) })
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return float64(s[min(max(i, 0), len(s)-1)])
}

func countAtMost(xs []float32, v float64) int {
	n := 0
	for _, x := range xs {
		if float64(x) <= v {
			n++
		}
	}
	return n
}

func fractionAbove(xs []float32, v float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return 1 - float64(countAtMost(xs, v))/float64(len(xs))
}
