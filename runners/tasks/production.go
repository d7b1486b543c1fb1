package tasks

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/window"
)

// ProductionRun is one scenario of task 001 and how long it runs.
type ProductionRun struct {
	// Scenario is a built-in name ("tasks/001_production") or a file.
	Scenario string
	// Duration of the measured phase. A daily cycle (diurnal cycle_sec)
	// and a ramp (ramp_sec) are compressed to it, so that one run is one
	// whole day or one whole ramp.
	Duration time.Duration
}

// ProductionConfig is task 001: production-like traffic, followed shape
// and correlated operations.
type ProductionConfig struct {
	Runs   []ProductionRun
	Warmup time.Duration
	// Nodes preloaded before the first run.
	Nodes       int
	Correlation Correlation
	// Criteria: per-window χ²/dof of the realised counts against the shape
	// at most MaxShapeChi2 (Poisson noise gives about 1, regular spacing
	// about 0); total sends within MaxRateDeviation of the shape's
	// integral (the milestone's "< 3 % variance"); realised correlation at
	// least MinCorrelationRatio of the target; errors at most MaxErrorRate
	// (a scenario's [validation] max_error_rate wins).
	MaxShapeChi2        float64
	MaxRateDeviation    float64
	MinCorrelationRatio float64
	MaxErrorRate        float64
	// Timeline writes the CSV operation timeline of each run into Env.Dir.
	Timeline bool
	// Limits on the load generator's schedule slip; zero = load.DefaultLimits
	// (late beyond 10 ms for more than 1 % of sends fails the run).
	Limits load.Limits
}

// The task 001 scenario family.
var productionScenarios = []string{
	"tasks/001_constant", "tasks/001_poisson", "tasks/001_diurnal",
	"tasks/001_bursts", "tasks/001_ramp", "tasks/001_production",
}

// ProductionBudget returns task 001's configuration for a budget: pr runs
// the composite production scenario (a day compressed into 24 s, bursts on
// top); nightly every pattern for 5 minutes; full every pattern for an
// hour and the composite over a real 24-hour day.
func ProductionBudget(b Budget) ProductionConfig {
	c := ProductionConfig{
		Warmup: 2 * time.Second, Nodes: 1000, Correlation: DefaultCorrelation,
		MaxShapeChi2: 2, MaxRateDeviation: 0.03, MinCorrelationRatio: 0.8, MaxErrorRate: 0.01, Timeline: true,
	}
	switch b {
	case BudgetNightly:
		c.Nodes, c.Warmup = 10_000, 10*time.Second
		for _, s := range productionScenarios {
			c.Runs = append(c.Runs, ProductionRun{s, 5 * time.Minute})
		}
	case BudgetFull:
		c.Nodes, c.Warmup = 100_000, 30*time.Second
		for _, s := range productionScenarios {
			d := time.Hour
			if s == "tasks/001_production" {
				d = 24 * time.Hour
			}
			c.Runs = append(c.Runs, ProductionRun{s, d})
		}
	default:
		c.Runs = []ProductionRun{{"tasks/001_production", 24 * time.Second}}
	}
	return c
}

// ProductionReport is task 001's section of the result document
// (Document.Tasks["001"]).
type ProductionReport struct {
	Budget      string             `json:"budget"`
	Correlation Correlation        `json:"correlation"`
	Runs        []ProductionResult `json:"runs"`
}

// ProductionResult is one scenario's figures.
type ProductionResult struct {
	Scenario        string  `json:"scenario"`
	Pattern         string  `json:"pattern"`
	Spacing         string  `json:"spacing"`
	DurationSeconds float64 `json:"duration_seconds"`
	WindowSeconds   float64 `json:"window_seconds"`
	MeanRate        float64 `json:"mean_rate_ops_sec"`
	// Expected is the shape's integral over the run; Sent the requests that
	// completed; RateDeviation |Sent − Expected| / Expected.
	Expected      float64 `json:"expected_sends"`
	Sent          uint64  `json:"sent"`
	RateDeviation float64 `json:"rate_deviation"`
	// ShapeChi2PerDOF compares the per-window counts with the shape;
	// FlatChi2PerDOF the same counts with the flat mean rate (how far the
	// shape is from flat: a shape flattened to its mean would score about
	// 1 there and high against its shape).
	ShapeChi2PerDOF float64           `json:"shape_chi2_per_dof"`
	FlatChi2PerDOF  float64           `json:"flat_chi2_per_dof"`
	Windows         []ShapeWindow     `json:"windows"`
	Correlation     CorrelationResult `json:"correlation"`
	P99Ms           float64           `json:"p99_ms"`
	ErrorRate       float64           `json:"error_rate"`
	Generator       result.Generator  `json:"generator"`
	GeneratorOK     bool              `json:"generator_ok"`
	Timeline        string            `json:"timeline,omitempty"`
	// Checks are this run's criteria (also in the Outcome).
	Checks []result.Check `json:"checks"`

	phase *load.PhaseResult
	rec   *load.Recorder
}

// ShapeWindow is one window: the sends the shape asks for and those made.
type ShapeWindow struct {
	StartS   float64 `json:"start_s"`
	Expected float64 `json:"expected"`
	Count    uint64  `json:"count"`
	P99Ms    float64 `json:"p99_ms"`
	Errors   uint64  `json:"errors"`
}

// Compress returns the arrival with its daily cycle and ramp stretched or
// compressed to d (parts of a composite too).
func Compress(a scenario.Arrival, d time.Duration) scenario.Arrival {
	switch a.Pattern {
	case "diurnal":
		a.CycleSec = d.Seconds()
	case "ramp":
		a.RampSec = d.Seconds()
	case "composite":
		parts := make([]scenario.Arrival, len(a.Parts))
		for i, p := range a.Parts {
			parts[i] = Compress(p, d)
		}
		a.Parts = parts
	}
	return a
}

// Production runs task 001.
func Production(ctx context.Context, env Env, cfg ProductionConfig) (*Outcome, error) {
	if len(cfg.Runs) == 0 {
		return nil, fmt.Errorf("%w: task 001 has no runs", load.ErrConfig)
	}
	var scs []*scenario.Scenario
	for _, r := range cfg.Runs {
		sc, err := taskScenario(r.Scenario)
		if err != nil {
			return nil, err
		}
		scs = append(scs, sc)
	}
	peak := 0.0
	for i, sc := range scs {
		a := sc.Arrival
		if env.Rate > 0 {
			a = arrival.WithMeanRate(a, env.Rate)
		}
		peak = max(peak, Compress(a, cfg.Runs[i].Duration).PeakRate())
	}
	start := time.Now()
	rig, seq, err := startWarmRig(ctx, env, scs[0], cfg.Nodes, peak, cfg.Limits, arrival.MeanRate(scs[0].Arrival), cfg.Warmup)
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	rep := &ProductionReport{Budget: string(env.Budget), Correlation: cfg.Correlation}
	var phases []measuredPhase
	var results []*load.PhaseResult
	var checks []result.Check
	for i, r := range cfg.Runs {
		d := r.Duration
		if env.Duration > 0 {
			d = env.Duration
		}
		rig.sc = scs[i]
		pr, err := productionRun(ctx, env, cfg, rig, scs[i], d, seq, uint64(i))
		if err != nil {
			return nil, err
		}
		seq = pr.phase.NextSeq
		rep.Runs = append(rep.Runs, *pr)
		phases = append(phases, measuredPhase{rec: pr.rec, res: pr.phase})
		results = append(results, pr.phase)
		checks = append(checks, pr.Checks...)
		rig.progressf("001 %s: %d sent (shape %.0f, %+.2f%%), χ²/dof %.2f (flat %.1f), correlation %.3f of %.2f, p99 %.2f ms\n",
			pr.Scenario, pr.Sent, pr.Expected, 100*(float64(pr.Sent)-pr.Expected)/pr.Expected, pr.ShapeChi2PerDOF, pr.FlatChi2PerDOF,
			pr.Correlation.Realised, pr.Correlation.Target, pr.P99Ms)
		if pr.phase.Interrupted {
			break
		}
	}
	rig.sc = scs[0]
	doc, err := rig.document(runsRef("001", cfg.Runs[0].Scenario, len(cfg.Runs)), result.RunConfig{
		Rate: arrival.MeanRate(scs[0].Arrival), Arrival: scs[0].Arrival.Pattern,
		DurationSeconds: rep.Runs[0].DurationSeconds, WarmupSeconds: cfg.Warmup.Seconds(), Repetitions: len(rep.Runs),
	}, start, phases)
	if err != nil {
		return nil, err
	}
	return outcome("001", doc, rep, checks, nil, results, cfg.Limits)
}

// productionRun runs one scenario of task 001.
func productionRun(ctx context.Context, env Env, cfg ProductionConfig, rig *rig, sc *scenario.Scenario, d time.Duration, seq, index uint64) (*ProductionResult, error) {
	a := sc.Arrival
	if env.Rate > 0 {
		a = arrival.WithMeanRate(a, env.Rate)
	}
	a = Compress(a, d)
	seed := env.Seed + (index+1)*0x9e3779b97f4a7c15
	pacer, err := arrival.New(a, seed)
	if err != nil {
		return nil, fmt.Errorf("%w: scenario %s: %v", load.ErrConfig, sc.Ref, err)
	}
	shape, err := arrival.ShapeOf(a, seed)
	if err != nil {
		return nil, fmt.Errorf("%w: scenario %s: %v", load.ErrConfig, sc.Ref, err)
	}
	weights := load.Weights(sc.Weights())
	chain, err := newOpChain(cfg.Correlation, weights, seed^0x7f4a7c15)
	if err != nil {
		return nil, fmt.Errorf("%w: task 001 correlation: %v", load.ErrConfig, err)
	}
	cor := &correlated{pacer: pacer, inner: rig.workload(), chain: chain, first: seq}

	nWin := int(min(60, max(1, d/time.Second)))
	width := d / time.Duration(nWin)
	phaseStart := time.Now()
	wins := window.New(width, phaseStart)
	rec := load.NewRecorder()
	var recMu sync.Mutex
	var tl *timeline
	pr := &ProductionResult{Scenario: sc.Ref, Pattern: a.Pattern, Spacing: a.Spacing, DurationSeconds: d.Seconds(),
		WindowSeconds: width.Seconds(), MeanRate: arrival.MeanRate(a)}
	if pr.Spacing == "" {
		pr.Spacing = map[bool]string{true: "poisson", false: "regular"}[a.Pattern == "poisson" || a.Pattern == "exponential"]
	}
	if cfg.Timeline {
		name, err := sideFile(env, "001-"+path.Base(sc.Ref)+"-timeline.csv")
		if err != nil {
			return nil, err
		}
		if tl, err = newTimeline(name); err != nil {
			return nil, err
		}
		pr.Timeline = name
	}
	observe := func(s load.Sample) {
		s = cor.relabel(s)
		wins.Observe(s)
		recMu.Lock()
		rec.Record(s)
		recMu.Unlock()
		if tl != nil {
			tl.write(s)
		}
	}
	rig.progressf("001 %s: %s (%s spacing), mean %.0f ops/s for %v\n", sc.Ref, a.Pattern, pr.Spacing, pr.MeanRate, d)
	eng := rig.engine(cor, observe)
	res, err := eng.Run(ctx, load.Phase{Name: "001 " + path.Base(sc.Ref), Pacer: cor, Mix: rig.mix(seed), Duration: d,
		MaxRequests: uint64(a.PeakRate()*d.Seconds()*1.5) + 1000, FirstSeq: seq})
	if tl != nil {
		if cerr := tl.close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, err
	}
	pr.phase, pr.rec = res, rec
	pr.Generator = res.Generator
	pr.GeneratorOK = res.Check(limitsOr(cfg.Limits)) == nil

	// The shape, window by window.
	ws := wins.Windows()
	byStart := map[time.Duration]window.Window{}
	for _, w := range ws {
		byStart[w.Start] = w
	}
	total := shape.Cum(d)
	var chi2, flat2 float64
	dof := 0
	for k := 0; k < nWin; k++ {
		s, e := time.Duration(k)*width, time.Duration(k+1)*width
		want := shape.Cum(e) - shape.Cum(s)
		w := byStart[s]
		pr.Windows = append(pr.Windows, ShapeWindow{StartS: s.Seconds(), Expected: want, Count: w.Count, P99Ms: w.P99, Errors: w.Errors})
		pr.Sent += w.Count
		if want >= 5 { // the usual validity rule of the χ² test
			c := float64(w.Count)
			chi2 += (c - want) * (c - want) / want
			flat := total / float64(nWin)
			flat2 += (c - flat) * (c - flat) / flat
			dof++
		}
	}
	pr.Expected = total
	if total > 0 {
		pr.RateDeviation = math.Abs(float64(pr.Sent)-total) / total
	}
	if dof > 0 {
		pr.ShapeChi2PerDOF, pr.FlatChi2PerDOF = chi2/float64(dof), flat2/float64(dof)
	}
	pr.Correlation, err = MeasureCorrelation(cfg.Correlation, weights, cor.sent())
	if err != nil {
		return nil, err
	}
	_, all, err := rec.Stats(res.Elapsed())
	if err != nil {
		return nil, err
	}
	pr.P99Ms, pr.ErrorRate = all.Latency.P99, all.ErrorRate

	maxErr := cfg.MaxErrorRate
	if v := sc.Validation.MaxErrorRate; v != nil {
		maxErr = *v
	}
	name := path.Base(sc.Ref)
	pr.Checks = []result.Check{
		check(name+"/shape_chi2_per_dof", pr.ShapeChi2PerDOF, "≤", cfg.MaxShapeChi2, ""),
		check(name+"/rate_deviation", pr.RateDeviation, "≤", cfg.MaxRateDeviation, ""),
		check(name+"/correlation_ratio", pr.Correlation.Ratio, "≥", cfg.MinCorrelationRatio, ""),
		check(name+"/error_rate", pr.ErrorRate, "≤", maxErr, ""),
	}
	return pr, nil
}

// timeline writes the operation timeline CSV: one row per request, in the
// order requests completed (sort by intended_ms for send order).
type timeline struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	buf []byte
}

func newTimeline(name string) (*timeline, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	t := &timeline{f: f, w: bufio.NewWriterSize(f, 1<<16)}
	_, err = t.w.WriteString("intended_ms,sent_ms,op,status,latency_ms,service_ms\n")
	return t, err
}

func (t *timeline) write(s load.Sample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf[:0]
	ms := func(d time.Duration) { b = strconv.AppendFloat(b, float64(d)/1e6, 'f', 3, 64) }
	ms(s.Intended)
	b = append(b, ',')
	ms(s.Intended + s.Lag)
	b = append(b, ',')
	b = append(b, s.Op.String()...)
	b = append(b, ',')
	switch {
	case s.Outcome == load.OutcomeTimeout:
		b = append(b, "timeout"...)
	case s.Outcome == load.OutcomeConnection:
		b = append(b, "connection"...)
	default:
		b = strconv.AppendInt(b, int64(s.Outcome), 10)
	}
	b = append(b, ',')
	ms(s.Latency)
	b = append(b, ',')
	ms(s.Service)
	b = append(b, '\n')
	_, _ = t.w.Write(b)
	t.buf = b
}

func (t *timeline) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.w.Flush()
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	return err
}
