package tasks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
)

// BreakingConfig is task 005: the rate raised step by step until the
// target breaks.
type BreakingConfig struct {
	// Scenario holds the workload (operations, data), the staircase
	// ([arrival] pattern = "steps") and the limits ([validation]
	// expected_p99_latency_ms, max_error_rate, expected_throughput_ops_sec).
	Scenario string
	// From, Step, Max and StepDuration override the scenario's staircase
	// when non-zero.
	From, Step, Max float64
	StepDuration    time.Duration
	// Runs is how many times the search is repeated, for the spread.
	Runs int
	// Pause between runs, for queues at the target to drain.
	Pause  time.Duration
	Warmup time.Duration
	Nodes  int
	// P99LimitMs, MaxErrorRate and Expected override the scenario's
	// [validation] when non-zero (defaults 100 ms, 5 %, none).
	P99LimitMs   float64
	MaxErrorRate float64
	Expected     float64
	// MaxSpread is the largest relative spread (max − min) / mean of the
	// breaking point across runs (the milestone's < 10 %).
	MaxSpread float64
	// Limits on the load generator's schedule slip; zero = load.DefaultLimits
	// (late beyond 10 ms for more than 1 % of sends fails the run).
	Limits load.Limits
}

// BreakingBudget returns task 005's configuration: pr climbs 400 → 1000
// ops/s in 1.5 s steps, twice (about 25 s: it shows the target carries the
// expected 1000 ops/s, and finds a breaking point only below that); nightly 100 → 5000 in 30 s
// steps, three times; full the milestone's 60 s steps up to 20 000 ops/s,
// three times.
func BreakingBudget(b Budget) BreakingConfig {
	c := BreakingConfig{Scenario: "tasks/005_breaking_point", Step: 100, Runs: 2, Pause: 2 * time.Second,
		Warmup: 2 * time.Second, Nodes: 1000, MaxSpread: 0.10}
	switch b {
	case BudgetNightly:
		c.From, c.Max, c.StepDuration, c.Runs, c.Nodes, c.Pause = 100, 5000, 30*time.Second, 3, 10_000, 10*time.Second
	case BudgetFull:
		c.From, c.Max, c.StepDuration, c.Runs, c.Nodes, c.Pause = 100, 20_000, 60*time.Second, 3, 100_000, 30*time.Second
	default:
		c.From, c.Max, c.StepDuration = 400, 1000, 1500*time.Millisecond
	}
	return c
}

// BreakingReport is task 005's section (Document.Tasks["005"]).
type BreakingReport struct {
	Budget       string  `json:"budget"`
	P99LimitMs   float64 `json:"p99_limit_ms"`
	MaxErrorRate float64 `json:"max_error_rate"`
	StepRate     float64 `json:"step_ops_sec"`
	StepSeconds  float64 `json:"step_seconds"`
	// ExpectedRate is the rate the target is expected to carry (0 = none);
	// Headroom is BreakingPoint / ExpectedRate − 1.
	ExpectedRate float64 `json:"expected_rate_ops_sec"`
	// BreakingPoint is the mean over runs of the last good rate (the
	// highest rate the target carried within the limits); Spread is
	// (max − min) / mean across runs.
	BreakingPoint float64 `json:"breaking_point_ops_sec"`
	// Censored is true when no climb broke the target: BreakingPoint is
	// then a lower bound (the highest rate tried).
	Censored bool                `json:"censored"`
	Headroom float64             `json:"headroom"`
	Spread   float64             `json:"spread"`
	Runs     []BreakingRunResult `json:"runs"`
}

// BreakingRunResult is one climb.
type BreakingRunResult struct {
	// LastGood is the last rate within the limits; FirstBad the first
	// beyond them (0 when none was: the climb reached Max, and LastGood is
	// a lower bound).
	LastGood float64 `json:"last_good_ops_sec"`
	FirstBad float64 `json:"first_bad_ops_sec"`
	// Reason is why the climb stopped: "p99", "errors", "generator" (the
	// load generator slipped: not the target's breaking point) or "max".
	Reason string       `json:"reason"`
	Steps  []StepResult `json:"steps"`
	// Note says when good steps were judged on a quantile below p99 (too
	// few requests for their p99): LastGood is then the last rate whose
	// judged quantile stayed within the p99 limit, an upper bound of the
	// rate at which the p99 itself passes it.
	Note string `json:"note,omitempty"`
}

// StepResult is one step.
type StepResult struct {
	Rate     float64 `json:"rate_ops_sec"`
	Achieved float64 `json:"achieved_ops_sec"`
	// P99Ms runs from the intended send, ServiceP99Ms from the actual send.
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	ServiceP99Ms float64 `json:"service_p99_ms"`
	ErrorRate    float64 `json:"error_rate"`
	LagP99Ms     float64 `json:"schedule_lag_p99_ms"`
	// Requests is how many the step completed. JudgedOn is the quantile
	// compared with the p99 limit (judgeStep): "p99" when the step holds
	// MinSamplesFor(0.99) requests, else the highest of p95, p90, p50 it
	// holds enough for, "" for none; JudgedMs and ServiceJudgedMs are its
	// values, Judgement says which and why.
	Requests        uint64  `json:"requests"`
	JudgedOn        string  `json:"judged_on"`
	JudgedMs        float64 `json:"judged_ms"`
	ServiceJudgedMs float64 `json:"service_judged_ms"`
	Judgement       string  `json:"judgement"`
	// Verdict is "ok", "p99", "errors" or "generator" (see stepVerdict).
	Verdict string `json:"verdict"`
	// Generator is the generator's slip at this step, if it slipped (also
	// when the verdict is the target's).
	Generator string `json:"generator,omitempty"`
	// Unconfirmed marks a step beyond the limits that a repeat at the same
	// rate (Climb.Confirm) found within them: a hiccup of the machine, not
	// the breaking point. The repeat follows it in the list.
	Unconfirmed bool `json:"unconfirmed,omitempty"`
}

// BreakingPoint runs task 005.
func BreakingPoint(ctx context.Context, env Env, cfg BreakingConfig) (*Outcome, error) {
	sc, err := taskScenario(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	a := sc.Arrival
	from, step, top, stepDur := cfg.From, cfg.Step, cfg.Max, cfg.StepDuration
	if a.Pattern == "steps" {
		from, step, top = cmp.Or(from, a.FromRate), cmp.Or(step, a.StepRate), cmp.Or(top, a.MaxRate)
		if stepDur == 0 {
			stepDur = time.Duration(a.StepSec * float64(time.Second))
		}
	}
	if env.Rate > 0 {
		from = env.Rate
	}
	if env.Duration > 0 {
		stepDur = env.Duration
	}
	if from <= 0 || step <= 0 || top < from || stepDur <= 0 {
		return nil, fmt.Errorf("%w: task 005 needs a start rate > 0, a step > 0, a top ≥ start and a step duration > 0 (got %g, %g, %g, %v)", load.ErrConfig, from, step, top, stepDur)
	}
	rep := &BreakingReport{Budget: string(env.Budget), StepRate: step, StepSeconds: stepDur.Seconds(),
		P99LimitMs: 100, MaxErrorRate: 0.05, ExpectedRate: cfg.Expected}
	if v := sc.Validation.ExpectedP99LatencyMs; v != nil {
		rep.P99LimitMs = *v
	}
	if v := sc.Validation.MaxErrorRate; v != nil {
		rep.MaxErrorRate = *v
	}
	if v := sc.Validation.ExpectedThroughputOpsSec; v != nil && rep.ExpectedRate == 0 {
		rep.ExpectedRate = *v
	}
	rep.P99LimitMs = cmp.Or(cfg.P99LimitMs, rep.P99LimitMs)
	rep.MaxErrorRate = cmp.Or(cfg.MaxErrorRate, rep.MaxErrorRate)
	runs := max(cfg.Runs, 1)

	start := time.Now()
	rig, err := startRig(ctx, env, ServerParams{}, sc, cfg.Nodes, inFlightFor(top, requestTimeout))
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	rig.limits = cfg.Limits
	seq, err := rig.warm(ctx, from, cfg.Warmup, 0)
	if err != nil {
		return nil, err
	}
	var phases []measuredPhase
	var bottleneck error
	for run := 0; run < runs; run++ {
		if run > 0 && cfg.Pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(cfg.Pause):
			}
		}
		rr, ph, next, slip, err := rig.climb(ctx, Climb{From: from, Step: step, Max: top, StepDuration: stepDur, Spacing: a.Spacing,
			P99LimitMs: rep.P99LimitMs, MaxErrorRate: rep.MaxErrorRate, Limits: cfg.Limits, Label: fmt.Sprintf("005 run %d", run+1)},
			env.Seed+uint64(run*10_000)*0x9e3779b97f4a7c15, seq)
		if err != nil {
			return nil, err
		}
		seq = next
		phases = append(phases, ph...)
		if slip != nil && bottleneck == nil {
			bottleneck = slip
		}
		rep.Runs = append(rep.Runs, rr)
		if ctx.Err() != nil {
			break
		}
	}
	if len(phases) == 0 {
		return nil, fmt.Errorf("%w: task 005 measured nothing", load.ErrInterrupted)
	}
	var points []float64
	rep.Censored = true
	for _, r := range rep.Runs {
		if r.Reason != "generator" {
			points = append(points, r.LastGood)
		}
		if r.FirstBad > 0 && r.Reason != "generator" {
			rep.Censored = false
		}
	}
	if len(points) > 0 {
		lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
		for _, p := range points {
			lo, hi, sum = min(lo, p), max(hi, p), sum+p
		}
		rep.BreakingPoint = sum / float64(len(points))
		if rep.BreakingPoint > 0 {
			rep.Spread = (hi - lo) / rep.BreakingPoint
		}
	}
	if rep.ExpectedRate > 0 {
		rep.Headroom = rep.BreakingPoint/rep.ExpectedRate - 1
	}

	doc, err := rig.document(cfg.Scenario, result.RunConfig{Rate: from, Arrival: "steps", DurationSeconds: stepDur.Seconds(),
		WarmupSeconds: cfg.Warmup.Seconds(), Repetitions: len(phases)}, start, phases)
	if err != nil {
		return nil, err
	}
	doc.Tasks["005"] = rep
	var checks []result.Check
	var skipped []string
	if rep.ExpectedRate > 0 && len(points) > 0 {
		c := check("005/breaking_point_ops_sec", rep.BreakingPoint, "≥", rep.ExpectedRate, " ops/s")
		c.Message += fmt.Sprintf(" (headroom %+.0f%%)", 100*rep.Headroom)
		if rep.Censored {
			c.Message += fmt.Sprintf("; no climb broke the target up to %g ops/s, so this is a lower bound", top)
		}
		checks = append(checks, c)
	}
	if len(points) >= 2 {
		checks = append(checks, check("005/spread", rep.Spread, "<", cfg.MaxSpread, ""))
	} else {
		skipped = append(skipped, fmt.Sprintf("005: spread needs at least 2 runs that the target (not the generator) ended; had %d", len(points)))
	}
	out := &Outcome{Document: doc, Checks: checks, Skipped: skipped}
	doc.Validation = &result.Validation{Passed: out.Passed(), Checks: checks}
	if ctx.Err() != nil {
		return out, fmt.Errorf("%w: task 005", load.ErrInterrupted)
	}
	if bottleneck != nil && !errors.Is(bottleneck, load.ErrGeneratorBottleneck) {
		bottleneck = fmt.Errorf("%w: %v", load.ErrGeneratorBottleneck, bottleneck)
	}
	return out, bottleneck
}

// Climb is one breaking-point search: the rate raised from From by Step
// up to Max, StepDuration at each, until a step passes the p99 limit or
// the error limit. Task 005 repeats it; task 007 runs it at each thread
// count.
type Climb struct {
	From, Step, Max float64
	StepDuration    time.Duration
	// Spacing is "poisson" for exponential gaps, else regular.
	Spacing      string
	P99LimitMs   float64
	MaxErrorRate float64
	// Limits on the generator's schedule slip (zero = load.DefaultLimits).
	Limits load.Limits
	// Label prefixes progress lines and phase names ("005 run 1").
	Label string
	// Confirm repeats a step beyond the limits once at the same rate; the
	// climb stops only when the repeat is beyond them too. On a shared
	// machine a short step's p99 is its slowest few requests, which one
	// stall of the machine decides.
	Confirm bool
}

// climb runs c from sequence number seq. It returns the climb's steps,
// the measured phases, the next sequence number, and the generator's slip
// (ErrGeneratorBottleneck) when a step's verdict was "generator". A step
// interrupted by ctx ends the climb without a verdict.
func (r *rig) climb(ctx context.Context, c Climb, seed, seq uint64) (BreakingRunResult, []measuredPhase, uint64, error, error) {
	rr := BreakingRunResult{Reason: "max"}
	var phases []measuredPhase
	var slip error
	repeated := false
	for k := 0; ; k++ {
		rate := c.From + float64(k)*c.Step
		if rate > c.Max*(1+1e-9) || ctx.Err() != nil {
			break
		}
		sd := seed + uint64(k+1)*0x9e3779b97f4a7c15
		var pacer arrival.Pacer = arrival.Regular{Shape: arrival.Flat(rate)}
		if c.Spacing == "poisson" {
			pacer = arrival.NewPoisson(arrival.Flat(rate), sd)
		}
		res, err := r.engine(r.workload(), nil).Run(ctx, load.Phase{Name: fmt.Sprintf("%s %.6g ops/s", c.Label, rate),
			Pacer: pacer, Mix: r.mix(sd), Duration: c.StepDuration, MaxRequests: uint64(rate*c.StepDuration.Seconds()*1.5) + 1000, FirstSeq: seq})
		if err != nil {
			return rr, phases, seq, slip, err
		}
		seq = res.NextSeq
		if res.Interrupted {
			break
		}
		phases = append(phases, measuredPhase{res: res})
		_, all, err := res.Recorder.Stats(res.Elapsed())
		if err != nil {
			return rr, phases, seq, slip, err
		}
		sr := StepResult{Rate: rate, Achieved: all.Throughput, P50Ms: all.Latency.P50, P99Ms: all.Latency.P99, ServiceP99Ms: all.Service.P99,
			ErrorRate: all.ErrorRate, LagP99Ms: res.Generator.P99LagMs}
		judgeStep(&sr, all.Count, all.Latency, all.Service, c.P99LimitMs)
		gerr := res.Check(limitsOr(c.Limits))
		if gerr != nil {
			sr.Generator = gerr.Error()
		}
		sr.Verdict = stepVerdict(sr, gerr != nil, c.P99LimitMs, c.MaxErrorRate)
		r.progressf("%s: %6.0f ops/s → %6.0f achieved, %d requests, %s %8.2f ms (service %8.2f), errors %5.2f%%, lag p99 %.2f ms: %s\n",
			c.Label, rate, sr.Achieved, sr.Requests, cmp.Or(sr.JudgedOn, "p99 (not judged)"), sr.JudgedMs, sr.ServiceJudgedMs, 100*sr.ErrorRate, sr.LagP99Ms, sr.Verdict)
		if sr.Verdict != "ok" && c.Confirm && !repeated {
			// Repeat this rate once; the slip, if any, is kept.
			sr.Unconfirmed, repeated = true, true
			rr.Steps = append(rr.Steps, sr)
			k--
			continue
		}
		if repeated && len(rr.Steps) > 0 && rr.Steps[len(rr.Steps)-1].Rate == rate && sr.Verdict != "ok" {
			rr.Steps[len(rr.Steps)-1].Unconfirmed = false // confirmed
		}
		repeated = false
		if sr.Verdict == "generator" && slip == nil {
			slip = fmt.Errorf("%s at %.6g ops/s: %w", c.Label, rate, gerr)
		}
		rr.Steps = append(rr.Steps, sr)
		if sr.Verdict != "ok" {
			rr.FirstBad, rr.Reason = rate, sr.Verdict
			break
		}
		rr.LastGood = rate
	}
	below := 0
	for _, st := range rr.Steps {
		if st.Verdict == "ok" && st.JudgedOn != "p99" {
			below++
		}
	}
	if below > 0 {
		rr.Note = fmt.Sprintf("%d good step(s) held fewer than %d requests and were judged on a lower quantile against the p99 limit (see each step's judgement): the last good rate is an upper bound of the rate where the p99 passes the limit; longer steps judge the p99 itself",
			below, MinSamplesFor(0.99))
	}
	return rr, phases, seq, slip, nil
}

// stepQuantiles are the quantiles a step may be judged on, highest first.
var stepQuantiles = []struct {
	name string
	q    float64
	of   func(result.Latency) float64
}{
	{"p99", 0.99, func(l result.Latency) float64 { return l.P99 }},
	{"p95", 0.95, func(l result.Latency) float64 { return l.P95 }},
	{"p90", 0.90, func(l result.Latency) float64 { return l.P90 }},
	{"p50", 0.50, func(l result.Latency) float64 { return l.P50 }},
}

// judgeStep chooses what a step of n requests is judged on against the
// p99 limit, with the sampling error the rule tolerates: its p99 when it
// holds MinSamplesFor(0.99) requests (task 006's rule: about ten beyond
// the quantile, so that the estimate is not one or two requests, whose
// count beyond it is Poisson, ±1/√10 ≈ ±32 % at one standard error), else
// the highest lower quantile it holds MinSamplesFor of, else none. A lower
// quantile over the p99 limit puts the p99 over it too, so too few
// requests never call a step broken; a step passing on a lower quantile
// has not shown its p99 within the limit, and Judgement says so.
func judgeStep(s *StepResult, n uint64, lat, svc result.Latency, limit float64) {
	s.Requests = n
	s.JudgedOn, s.JudgedMs, s.ServiceJudgedMs = "", 0, 0
	for _, sq := range stepQuantiles {
		if n >= MinSamplesFor(sq.q) {
			s.JudgedOn, s.JudgedMs, s.ServiceJudgedMs = sq.name, sq.of(lat), sq.of(svc)
			break
		}
	}
	switch {
	case s.JudgedOn == "p99":
		s.Judgement = fmt.Sprintf("p99 judged: %d requests ≥ %d (about ten beyond it)", n, MinSamplesFor(0.99))
	case s.JudgedOn != "":
		s.Judgement = fmt.Sprintf("p99 not judged: %d requests < %d; judged on %s %.2f ms against the %.6g ms p99 limit (over it, the p99 is over it too; within it, the p99 is not shown within it)",
			n, MinSamplesFor(0.99), s.JudgedOn, s.JudgedMs, limit)
	default:
		s.Judgement = fmt.Sprintf("latency not judged: %d requests < %d, too few for any quantile; errors and the generator only", n, MinSamplesFor(0.5))
	}
}

// stepVerdict judges one step: "errors" or "p99" when the target passed
// a limit, "generator" when the load generator slipped (its figures then
// describe the generator), else "ok". Latency is judged on the quantile
// judgeStep chose (none: latency is not judged). A slip does not hide a
// target that broke anyway: when the service-time quantile (from the
// actual send, so without the generator's lateness) exceeds the p99 limit
// by more than the generator's p99 lag — the most its catch-up clumps can
// add to a queue at the target — the verdict is "p99".
func stepVerdict(s StepResult, slipped bool, p99Limit, maxErrorRate float64) string {
	judged := s.JudgedOn != ""
	switch {
	case slipped && judged && s.ServiceJudgedMs > p99Limit+s.LagP99Ms:
		return "p99"
	case slipped:
		return "generator"
	case s.ErrorRate > maxErrorRate:
		return "errors"
	case judged && s.JudgedMs > p99Limit:
		return "p99"
	}
	return "ok"
}
