package tasks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/fit"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
)

// ThreadsConfig is task 007: the target limited to k threads, its
// breaking point at each k, and Gunther's USL fitted to them.
type ThreadsConfig struct {
	// Scenario holds the mix, the data, the p99 and error limits and the
	// first climb's staircase (k = 1).
	Scenario string
	// Threads are the thread counts k, ascending, from 1. Counts beyond
	// what the target can be limited to on this runner are skipped with
	// the reason (see the report's LimitedBy).
	Threads []int
	// Work is the reference target's simulated waiting per request when
	// Env.TargetOptions.Work is 0 (its Workers is set to k): waiting, not
	// CPU, so its throughput can grow past the runner's cores.
	Work time.Duration
	// From, Step and StepDuration override the scenario's first climb
	// (k = 1) when non-zero.
	From, Step   float64
	StepDuration time.Duration
	// Each climb after the first starts at StartFraction of the rate
	// predicted for k (the previous k's, scaled linearly) and steps by
	// StepFraction of it, up to MaxFraction of it: the same relative grid
	// at every k, so that a linear scaling reads as one.
	StartFraction, StepFraction, MaxFraction float64
	// LoadFraction is the fraction of X(k) at which p50 and p99 are
	// measured, for LoadDuration.
	LoadFraction float64
	LoadDuration time.Duration
	Warmup       time.Duration
	Nodes        int
	// P99LimitMs and MaxErrorRate override the scenario's when non-zero.
	P99LimitMs, MaxErrorRate float64
	// Criteria: efficiency ≥ LinearEfficiency at 16 ("linear speedup to
	// 16"), > MinEfficiency32 at 32.
	LinearEfficiency, MinEfficiency32 float64
	// Predict are the thread counts whose efficiency the USL predicts.
	Predict []int
	Limits  load.Limits
}

// threadLadder is the thread counts a budget may step through: powers of
// two with the midpoints 3, 6, 12, … so that a USL fit has points to
// spare even on a small runner.
var threadLadder = []int{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128}

func laddersUpTo(n int) []int {
	var out []int
	for _, k := range threadLadder {
		if k <= n {
			out = append(out, k)
		}
	}
	return out
}

// ThreadsBudget returns task 007's configuration: pr steps k = 1–4 in
// 2 s steps, the first climb from 14 ops/s by 2 under a 250 ms p99 (about
// 50 s with the reference target, whose requests wait 50 ms: slow enough
// that a loaded 2-core machine's scheduling stalls are small against
// them); nightly to 32 in 10 s steps; full to 128 in 30 s steps, both
// with the scenario's staircase and limits. A target started by command is
// stepped only to the runner's CPUs.
func ThreadsBudget(b Budget) ThreadsConfig {
	c := ThreadsConfig{Scenario: "tasks/007_threads", Work: 10 * time.Millisecond,
		StartFraction: 0.7, StepFraction: 0.1, MaxFraction: 1.6, LoadFraction: 0.7,
		Warmup: time.Second, Nodes: 200, LinearEfficiency: 0.9, MinEfficiency32: 0.8, Predict: []int{16, 32, 128}}
	switch b {
	case BudgetNightly:
		c.Threads, c.StepDuration, c.LoadDuration, c.Nodes = laddersUpTo(32), 10*time.Second, 10*time.Second, 10_000
	case BudgetFull:
		c.Threads, c.StepDuration, c.LoadDuration, c.Nodes, c.Warmup = laddersUpTo(128), 30*time.Second, 30*time.Second, 100_000, 10*time.Second
	default:
		c.Threads, c.StepDuration, c.LoadDuration = laddersUpTo(4), 2*time.Second, 2*time.Second
		c.Work, c.From, c.Step, c.P99LimitMs, c.Nodes = 50*time.Millisecond, 14, 2, 250, 20
		c.Limits = load.Limits{LateAfter: 100 * time.Millisecond, DropAfter: 2 * time.Second, MaxLateFraction: 0.05, MaxDroppedFraction: 0.01}
	}
	return c
}

// ThreadsReport is task 007's section (Document.Tasks["007"]).
type ThreadsReport struct {
	Budget string `json:"budget"`
	// LimitedBy says how the target was held to k threads: "workers" (the
	// reference target's worker pool, Options.Workers = k),
	// "threads-placeholder" ({threads} in the target command),
	// "cpu-affinity" (the started target pinned to k CPUs) or
	// "threads-placeholder+cpu-affinity".
	LimitedBy string `json:"limited_by"`
	// RunnerCPUs is the number of CPUs this process may use.
	RunnerCPUs   int     `json:"runner_cpus"`
	P99LimitMs   float64 `json:"p99_limit_ms"`
	MaxErrorRate float64 `json:"max_error_rate"`
	LoadFraction float64 `json:"load_fraction"`
	// Points are the thread counts measured, ascending.
	Points []ThreadPoint `json:"points"`
	// USL is the fit to the points' throughputs that the predictions use
	// (absent with fewer than two points or when the fit failed; FitError
	// says why); Model says which: "usl", or "amdahl" (κ fixed at 0) when
	// the small-sample Akaike criterion (AICc) does not favour the κ term
	// — always below 5 thread counts, where the two terms trade off and a
	// plateau reads as some σ and some κ. USLFull is the full fit.
	USL      *USLReport `json:"usl,omitempty"`
	Model    string     `json:"model,omitempty"`
	USLFull  *USLReport `json:"usl_full,omitempty"`
	FitError string     `json:"fit_error,omitempty"`
	// Predicted is the USL's efficiency at the Predict counts.
	Predicted []PredictedEfficiency `json:"predicted"`
	Skipped   []string              `json:"skipped,omitempty"`
}

// USLReport is a fit.USL as the result records it: a standard error that
// is unknown (no degrees of freedom left) is absent.
type USLReport struct {
	Lambda      float64  `json:"lambda"`
	Sigma       float64  `json:"sigma"`
	Kappa       float64  `json:"kappa"`
	LambdaSE    *float64 `json:"lambda_se,omitempty"`
	SigmaSE     *float64 `json:"sigma_se,omitempty"`
	KappaSE     *float64 `json:"kappa_se,omitempty"`
	N           int      `json:"n"`
	DOF         int      `json:"dof"`
	RMSRelative float64  `json:"rms_relative"`
}

func uslReport(u fit.USL) *USLReport {
	se := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return &USLReport{Lambda: u.Lambda, Sigma: u.Sigma, Kappa: u.Kappa, LambdaSE: se(u.LambdaSE), SigmaSE: se(u.SigmaSE), KappaSE: se(u.KappaSE),
		N: u.N, DOF: u.DOF, RMSRelative: u.RMSRelative}
}

// ThreadPoint is one thread count.
type ThreadPoint struct {
	Threads int `json:"threads"`
	// CPUs are the CPUs a started target was pinned to (none otherwise).
	CPUs []int `json:"cpus,omitempty"`
	// Command is the expanded target command (empty for the built-in one).
	Command string `json:"command,omitempty"`
	// Throughput is X(k): the climb's last good rate; FirstBad the first
	// beyond the limits (0: the climb reached its top, and X is a lower
	// bound); Reason why the climb stopped (as task 005's).
	Throughput float64 `json:"throughput_ops_sec"`
	FirstBad   float64 `json:"first_bad_ops_sec"`
	Reason     string  `json:"reason"`
	// Note is the climb's (task 005's): set when good steps were judged
	// on a quantile below p99, so that X(k) is an upper bound.
	Note       string  `json:"note,omitempty"`
	Speedup    float64 `json:"speedup"`
	Efficiency float64 `json:"efficiency"`
	// At LoadFraction × Throughput: the rate sent and p50/p99.
	LoadRate float64      `json:"load_rate_ops_sec"`
	P50Ms    float64      `json:"p50_ms"`
	P99Ms    float64      `json:"p99_ms"`
	Steps    []StepResult `json:"steps"`
}

// PredictedEfficiency is the USL's efficiency at one thread count, with
// its standard error (NaN-free: -1 when unknown). Extrapolated is true
// beyond the largest count measured.
type PredictedEfficiency struct {
	Threads      int     `json:"threads"`
	Efficiency   float64 `json:"efficiency"`
	SE           float64 `json:"se"`
	Extrapolated bool    `json:"extrapolated"`
	Note         string  `json:"note,omitempty"`
}

// Threads runs task 007.
func Threads(ctx context.Context, env Env, cfg ThreadsConfig) (*Outcome, error) {
	sc, err := taskScenario(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	if env.Endpoint != "" && env.TargetCommand == "" {
		return nil, fmt.Errorf("%w: task 007 limits the target to k threads, which it cannot do to a server it did not start: give --target-command (with {threads}, or --affinity) instead of --endpoint, or neither for the reference target", load.ErrConfig)
	}
	a := sc.Arrival
	from, step, stepDur := cmp.Or(cfg.From, a.FromRate), cmp.Or(cfg.Step, a.StepRate), time.Duration(a.StepSec*float64(time.Second))
	if env.Rate > 0 {
		from = env.Rate
	}
	stepDur = cmp.Or(cfg.StepDuration, stepDur)
	if env.Duration > 0 {
		stepDur = env.Duration
	}
	if from <= 0 || step <= 0 || stepDur <= 0 || len(cfg.Threads) == 0 || cfg.Threads[0] != 1 {
		return nil, fmt.Errorf("%w: task 007 needs a first rate, a step and a step duration > 0 and thread counts from 1 (got %g, %g, %v, %v)", load.ErrConfig, from, step, stepDur, cfg.Threads)
	}
	rep := &ThreadsReport{Budget: string(env.Budget), RunnerCPUs: runtime.GOMAXPROCS(0), LoadFraction: cfg.LoadFraction, P99LimitMs: 100, MaxErrorRate: 0.05}
	if v := sc.Validation.ExpectedP99LatencyMs; v != nil {
		rep.P99LimitMs = *v
	}
	if v := sc.Validation.MaxErrorRate; v != nil {
		rep.MaxErrorRate = *v
	}
	rep.P99LimitMs = cmp.Or(cfg.P99LimitMs, rep.P99LimitMs)
	rep.MaxErrorRate = cmp.Or(cfg.MaxErrorRate, rep.MaxErrorRate)
	placeholder := strings.Contains(env.TargetCommand, "{threads}")
	switch {
	case env.TargetCommand == "":
		rep.LimitedBy = "workers"
	case placeholder && env.Affinity:
		rep.LimitedBy = "threads-placeholder+cpu-affinity"
	case placeholder:
		rep.LimitedBy = "threads-placeholder"
	case env.Affinity:
		rep.LimitedBy = "cpu-affinity"
	default:
		return nil, fmt.Errorf("%w: task 007 --target-command %q has no {threads} placeholder and --affinity is off: put {threads} where your server takes its thread count, or give --affinity to pin it to k CPUs", load.ErrConfig, env.TargetCommand)
	}
	if env.TargetCommand == "" && (env.TargetOptions.Workers != 0 || env.TargetOptions.SharedWorkers) {
		return nil, fmt.Errorf("%w: task 007 sets the reference target's workers to each thread count; leave --target-workers and --target-shared-workers out", load.ErrConfig)
	}
	cpus, err := allowedCPUs()
	if err != nil && env.Affinity {
		return nil, fmt.Errorf("task 007: %w", err)
	}

	start := time.Now()
	var phases []measuredPhase
	var slip error
	var seq uint64
	var last *rig // the document's target figures are the last one's
	prevK, prevX := 0, 0.0
	for _, k := range cfg.Threads {
		if ctx.Err() != nil {
			break
		}
		// A started server gets real CPUs: k beyond the runner's is not a
		// measurement of k threads.
		if env.TargetCommand != "" && k > len(cpus) && len(cpus) > 0 {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%d threads: the runner has %d CPUs", k, len(cpus)))
			continue
		}
		p := ServerParams{Values: map[string]string{"threads": strconv.Itoa(k)}}
		if env.Affinity {
			p.CPUs = cpus[:k]
		}
		if env.TargetCommand == "" {
			o := env.TargetOptions
			o.Workers = k
			if o.Work == 0 {
				o.Work = cfg.Work
			}
			p.Options = &o
		}
		rig, err := startRig(ctx, env, p, sc, cfg.Nodes, inFlightFor(max(from, prevX*float64(k)), requestTimeout))
		if err != nil {
			return nil, fmt.Errorf("task 007 at %d threads: %w", k, err)
		}
		pt, ph, next, s, err := threadPoint(ctx, rig, cfg, k, prevK, prevX, from, step, stepDur, rep, seq)
		rig.Close()
		last = rig
		if err != nil {
			return nil, err
		}
		seq = next
		if s != nil && slip == nil {
			slip = s
		}
		phases = append(phases, ph...)
		if pt.Throughput <= 0 {
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("%d threads: no rate was within the limits (%s)", k, pt.Reason))
			rep.Points = append(rep.Points, pt)
			continue
		}
		rep.Points = append(rep.Points, pt)
		prevK, prevX = k, pt.Throughput
	}
	if len(phases) == 0 || last == nil {
		return nil, fmt.Errorf("%w: task 007 measured nothing", load.ErrInterrupted)
	}
	var ks, xs []float64
	var x1 float64
	for _, pt := range rep.Points {
		if pt.Threads == 1 {
			x1 = pt.Throughput
		}
	}
	maxK := 0
	for i := range rep.Points {
		pt := &rep.Points[i]
		if pt.Throughput > 0 && x1 > 0 {
			pt.Speedup = pt.Throughput / x1
			pt.Efficiency = pt.Speedup / float64(pt.Threads)
			ks, xs = append(ks, float64(pt.Threads)), append(xs, pt.Throughput)
			maxK = max(maxK, pt.Threads)
		}
	}
	if u, err := chooseFit(ks, xs, rep); err != nil {
		rep.FitError = err.Error()
	} else {
		for _, k := range cfg.Predict {
			e, se := u.Efficiency(float64(k))
			pe := PredictedEfficiency{Threads: k, Efficiency: e, SE: se, Extrapolated: k > maxK}
			if math.IsNaN(se) || math.IsInf(se, 0) {
				pe.SE = -1
			}
			if pe.Extrapolated {
				pe.Note = fmt.Sprintf("extrapolated: measured to %d threads on a runner with %d CPUs", maxK, rep.RunnerCPUs)
			}
			rep.Predicted = append(rep.Predicted, pe)
		}
	}

	if u := rep.USL; u != nil {
		se := func(v *float64) string {
			if v == nil {
				return "?"
			}
			return fmt.Sprintf("%.2g", *v)
		}
		progressf(env, "007 %s fit over k ≤ %d: λ = %.1f ops/s, σ = %.3f ± %s, κ = %.4f ± %s (relative RMS %.1f%%)\n",
			map[string]string{"usl": "USL", "amdahl": "USL with κ = 0 (Amdahl: by AICc the κ term does not earn its place)"}[rep.Model],
			maxK, u.Lambda, u.Sigma, se(u.SigmaSE), u.Kappa, se(u.KappaSE), 100*u.RMSRelative)
		for _, p := range rep.Predicted {
			progressf(env, "007 predicted efficiency at %3d threads: %.2f%s\n", p.Threads, p.Efficiency, map[bool]string{true: " (extrapolated)", false: ""}[p.Extrapolated])
		}
	}
	doc, err := last.document(cfg.Scenario, result.RunConfig{Rate: from, Arrival: "steps",
		DurationSeconds: stepDur.Seconds(), WarmupSeconds: cfg.Warmup.Seconds(), Repetitions: len(phases)}, start, phases)
	if err != nil {
		return nil, err
	}
	doc.Tasks["007"] = rep
	checks, skipped := threadChecks(rep, cfg)
	out := &Outcome{Document: doc, Checks: checks, Skipped: append(slices.Clone(rep.Skipped), skipped...)}
	doc.Validation = &result.Validation{Passed: out.Passed(), Checks: checks}
	if ctx.Err() != nil {
		return out, fmt.Errorf("%w: task 007", load.ErrInterrupted)
	}
	if slip != nil && !errors.Is(slip, load.ErrGeneratorBottleneck) {
		slip = fmt.Errorf("%w: %v", load.ErrGeneratorBottleneck, slip)
	}
	return out, slip
}

// threadPoint measures one thread count on rig: the climb (from the
// scenario's staircase at k = 1, else on a grid relative to the rate
// predicted from the previous count), and p50/p99 at LoadFraction of the
// rate found.
func threadPoint(ctx context.Context, rig *rig, cfg ThreadsConfig, k, prevK int, prevX, from, step float64, stepDur time.Duration, rep *ThreadsReport, seq uint64) (ThreadPoint, []measuredPhase, uint64, error, error) {
	pt := ThreadPoint{Threads: k, Command: rig.srv.Command, CPUs: rig.srv.CPUs}
	rig.limits = cfg.Limits
	c := Climb{From: from, Step: step, Max: math.Inf(1), StepDuration: stepDur, P99LimitMs: rep.P99LimitMs,
		MaxErrorRate: rep.MaxErrorRate, Limits: cfg.Limits, Label: fmt.Sprintf("007 %d threads", k), Confirm: true}
	if prevK > 0 {
		guess := prevX * float64(k) / float64(prevK)
		c.From, c.Step, c.Max = cfg.StartFraction*guess, cfg.StepFraction*guess, cfg.MaxFraction*guess
	}
	seq, err := rig.warm(ctx, c.From/2, cfg.Warmup, seq)
	if err != nil {
		return pt, nil, seq, nil, err
	}
	seed := rig.env.Seed + uint64(k)*0x9e3779b97f4a7c15
	rr, phases, seq, slip, err := rig.climb(ctx, c, seed, seq)
	if err != nil {
		return pt, phases, seq, slip, err
	}
	if rr.LastGood == 0 && rr.Reason != "generator" && ctx.Err() == nil {
		// The first step was already too much (throughput fell with k, or
		// the first rate was too high): climb again from half of it, in
		// steps of a tenth of the first rate.
		c2 := c
		c2.From, c2.Step, c2.Max = c.From/2, c.From/10, c.From-c.From/20
		rr2, ph2, next, slip2, err := rig.climb(ctx, c2, seed^0xfeed, seq)
		if err != nil {
			return pt, phases, next, slip, err
		}
		seq, phases = next, append(phases, ph2...)
		rr.Steps = append(rr.Steps, rr2.Steps...)
		rr.LastGood, rr.Note = rr2.LastGood, cmp.Or(rr2.Note, rr.Note)
		if rr2.FirstBad > 0 {
			rr.FirstBad, rr.Reason = rr2.FirstBad, rr2.Reason
		}
		if slip == nil {
			slip = slip2
		}
	}
	pt.Throughput, pt.FirstBad, pt.Reason, pt.Note, pt.Steps = rr.LastGood, rr.FirstBad, rr.Reason, rr.Note, rr.Steps
	if pt.Throughput <= 0 || cfg.LoadFraction <= 0 || ctx.Err() != nil {
		return pt, phases, seq, slip, nil
	}
	pt.LoadRate = cfg.LoadFraction * pt.Throughput
	res, err := rig.engine(rig.workload(), nil).Run(ctx, load.Phase{Name: fmt.Sprintf("007 %d threads at %.0f%%", k, 100*cfg.LoadFraction),
		Pacer: arrival.Regular{Shape: arrival.Flat(pt.LoadRate)}, Mix: rig.mix(seed ^ 0x10ad), Duration: cfg.LoadDuration, FirstSeq: seq})
	if err != nil {
		return pt, phases, seq, slip, err
	}
	seq = res.NextSeq
	if !res.Interrupted {
		_, all, err := res.Recorder.Stats(res.Elapsed())
		if err != nil {
			return pt, phases, seq, slip, err
		}
		pt.P50Ms, pt.P99Ms = all.Latency.P50, all.Latency.P99
		phases = append(phases, measuredPhase{res: res})
	}
	rig.progressf("007 %d threads: X = %.0f ops/s (%s); at %.0f ops/s p50 %.2f ms, p99 %.2f ms\n", k, pt.Throughput, pt.Reason, pt.LoadRate, pt.P50Ms, pt.P99Ms)
	return pt, phases, seq, slip, nil
}

// chooseFit fits the USL to (ks, xs), records the full fit and the one
// the predictions use in rep (see ThreadsReport.Model), and returns the
// latter.
func chooseFit(ks, xs []float64, rep *ThreadsReport) (fit.USL, error) {
	full, err := fit.FitUSL(ks, xs)
	if err != nil {
		return full, err
	}
	chosen, model := full, "usl"
	if a, err := fit.FitAmdahl(ks, xs); err == nil && aicc(a, 2) <= aicc(full, 3) {
		chosen, model = a, "amdahl"
	}
	rep.USL, rep.Model, rep.USLFull = uslReport(chosen), model, uslReport(full)
	return chosen, nil
}

// aicc is the small-sample Akaike criterion (Hurvich and Tsai) of a fit
// with p parameters to its relative residuals: n·ln(SSR/n) + 2p +
// 2p(p+1)/(n−p−1), +Inf when n ≤ p+1 (too few points to afford p).
func aicc(u fit.USL, p int) float64 {
	n := float64(u.N)
	if n <= float64(p+1) {
		return math.Inf(1)
	}
	return n*math.Log(u.RMSRelative*u.RMSRelative) + 2*float64(p) + 2*float64(p*(p+1))/(n-float64(p)-1)
}

// threadChecks are task 007's criteria: efficiency at 16 and 32, measured
// where the runner reached them, else predicted by the USL (and said so).
func threadChecks(rep *ThreadsReport, cfg ThreadsConfig) ([]result.Check, []string) {
	var checks []result.Check
	var skipped []string
	for _, cr := range []struct {
		k   int
		rel string
		min float64
	}{{16, "≥", cfg.LinearEfficiency}, {32, ">", cfg.MinEfficiency32}} {
		name := fmt.Sprintf("007/efficiency_%d", cr.k)
		if i := slices.IndexFunc(rep.Points, func(p ThreadPoint) bool { return p.Threads == cr.k && p.Throughput > 0 }); i >= 0 {
			c := check(name, rep.Points[i].Efficiency, cr.rel, cr.min, "")
			c.Message += " (measured)"
			checks = append(checks, c)
			continue
		}
		i := slices.IndexFunc(rep.Predicted, func(p PredictedEfficiency) bool { return p.Threads == cr.k })
		if i < 0 {
			skipped = append(skipped, fmt.Sprintf("%s: neither measured nor predicted (%s)", name, cmp.Or(rep.FitError, "no USL fit")))
			continue
		}
		p := rep.Predicted[i]
		c := check(name, p.Efficiency, cr.rel, cr.min, "")
		if p.SE >= 0 {
			c.Message += fmt.Sprintf(" ± %.2g (1 SE)", p.SE)
		}
		if p.Extrapolated {
			c.Message += fmt.Sprintf(" (%s prediction, %s)", map[string]string{"usl": "USL", "amdahl": "Amdahl (USL, κ = 0)"}[rep.Model], p.Note)
		}
		// An extrapolation decides only when its ±2 SE interval lies on
		// one side of the criterion; otherwise it says what would.
		if p.Extrapolated && p.SE >= 0 {
			lo, hi := p.Efficiency-2*p.SE, p.Efficiency+2*p.SE
			pass := lo > cr.min || (cr.rel == "≥" && lo == cr.min)
			fail := hi < cr.min || (cr.rel == ">" && hi == cr.min)
			if !pass && !fail {
				skipped = append(skipped, fmt.Sprintf("%s: inconclusive: the prediction %.2f, ±2 SE %.2f … %.2f, straddles the criterion %s %.2f (%s); measuring to more threads would decide",
					name, p.Efficiency, lo, hi, cr.rel, cr.min, p.Note))
				continue
			}
			c = checkAs(name, p.Efficiency, cr.rel, cr.min, "", pass)
			c.Message += fmt.Sprintf(" ± %.2g (1 SE; ±2 SE %.2f … %.2f) (%s prediction, %s)", p.SE, lo, hi,
				map[string]string{"usl": "USL", "amdahl": "Amdahl (USL, κ = 0)"}[rep.Model], p.Note)
		}
		checks = append(checks, c)
	}
	return checks, skipped
}

// allowedCPUs are the CPUs this process may run on, ascending.
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var cpus []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// sharedMachineLimits are the generator's slip limits of the pr budgets of
// tasks 007–009: a shared 2-core machine delays some sends by 10–20 ms,
// which against their 50 ms p99 limits moves nothing, so a send may be late
// by up to 25 ms on 5 % of sends before a step counts as the generator's.
var sharedMachineLimits = load.Limits{LateAfter: 25 * time.Millisecond, DropAfter: time.Second, MaxLateFraction: 0.05, MaxDroppedFraction: 0.01}
