package tasks

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/window"
)

// SoakConfig is how task 002 soaks a target. SoakBudget returns the
// configuration of each budget; callers may adjust a copy.
type SoakConfig struct {
	// Scenario is the built-in task scenario (under tasks/) giving the mix,
	// arrival and data. Its mix is read-only on purpose: stores grow the
	// dataset, and growth from data cannot be told from a leak by RSS.
	Scenario string
	// Duration is the measured soak; Warmup runs first, unsampled, so that
	// the heap's growth to its working size is not mistaken for a leak.
	Duration, Warmup time.Duration
	// Settle is the start of the measured soak left out of the leak fit
	// (its samples are still reported): the run's first seconds allocate
	// its recorders and may open connections. (The warm-up preloads, so
	// the measured run does not; without a warm-up it does, and its
	// garbage is returned to the OS within the settle period.)
	Settle time.Duration
	// Rate overrides the scenario's mean rate when > 0.
	Rate float64
	// MaxInFlight caps the requests in flight, and with them the
	// connections the load holds open (0 = the load's default, thousands).
	// Each connection costs the target memory, and an uncapped pool grows
	// in steps whenever latency spikes (a shared machine's hiccup, a
	// collector pause): steps that a short soak would fit as a leak. The
	// cap keeps that growth to the first spikes; a longer spike makes the
	// generator late, which its check reports.
	MaxInFlight int
	// SampleEvery is the resource sampling interval; Window the width of the
	// latency windows whose p99s the drift is fitted to; CheckpointEvery the
	// interval of checkpoint files; DriftWindow how much of the end of the
	// run the drift is fitted over (the milestone's "last 4 h").
	SampleEvery, Window, CheckpointEvery, DriftWindow time.Duration
	// MinWindowCount is the fewest requests a window needs for its p99 to be
	// fitted or to trigger an abort.
	MinWindowCount uint64
	// LeakMBPerHour and LeakMinR2: a leak is an RSS slope above the first
	// with R² above the second.
	LeakMBPerHour, LeakMinR2 float64
	// DriftPctPerHour and DriftMinR2: drift is a p99 slope above the first
	// (percent of the mean p99 per hour) with R² above the second.
	DriftPctPerHour, DriftMinR2 float64
	// Drift24hPct is the milestone's goal for the drift over 24 hours; the
	// projection is reported against it (and checked at the full budget).
	Drift24hPct float64
	// Abort conditions, 0 = off: the soak stops early when the target's RSS
	// exceeds MaxRSSMB, or a complete window's p99 exceeds MaxP99Ms or its
	// error rate MaxErrorRate.
	MaxRSSMB, MaxP99Ms, MaxErrorRate float64
}

// SoakBudget returns task 002's configuration for a budget.
//
// The leak threshold of the pr budget is 3000 MB/h (50 MB/min) rather than
// the milestone's 10 MB/h: in 30 s a 10 MB/h leak retains 0.08 MB, while a
// clean Go process's RSS moves by megabytes as its heap and connection
// pool settle (measured here: clean in-process pr soaks fitted up to about
// 2000 MB/h, though never steadily). A 30-s soak can only resolve strong
// leaks; the milestone's threshold applies from the nightly budget on.
func SoakBudget(b Budget) SoakConfig {
	c := SoakConfig{
		LeakMBPerHour: 10, LeakMinR2: 0.8,
		DriftPctPerHour: 2, DriftMinR2: 0.7, Drift24hPct: 1,
		MaxRSSMB: 16 << 10, MaxP99Ms: 1000, MaxErrorRate: 0.05,
	}
	switch b {
	case BudgetNightly:
		c.Scenario = "002_soak_nightly"
		c.Duration, c.Warmup, c.Settle = 30*time.Minute, time.Minute, time.Minute
		c.SampleEvery, c.Window, c.CheckpointEvery = time.Second, 10*time.Second, time.Minute
		c.DriftWindow, c.MinWindowCount, c.MaxInFlight = 30*time.Minute, 500, 128
	case BudgetFull:
		c.Scenario = "002_soak_full"
		c.Duration, c.Warmup, c.Settle = 24*time.Hour, 5*time.Minute, 5*time.Minute
		c.SampleEvery, c.Window, c.CheckpointEvery = 5*time.Second, time.Minute, 5*time.Minute
		c.DriftWindow, c.MinWindowCount, c.MaxInFlight = 4*time.Hour, 1000, 256
	default:
		c.Scenario = "002_soak_pr"
		c.Duration, c.Warmup, c.Settle = 30*time.Second, 5*time.Second, 3*time.Second
		c.SampleEvery, c.Window, c.CheckpointEvery = 200*time.Millisecond, 2*time.Second, 5*time.Second
		c.DriftWindow, c.MinWindowCount, c.MaxInFlight = 30*time.Second, 200, 64
		c.LeakMBPerHour = 3000
	}
	return c
}

// SoakReport is task 002's section of the result document
// (Document.Tasks["002"]).
type SoakReport struct {
	Budget string `json:"budget"`
	// Target is "builtin" or "external"; TargetPID the process sampled (0 =
	// none).
	Target    string `json:"target"`
	TargetPID int    `json:"target_pid"`
	// PlannedSeconds is the soak asked for, RanSeconds what ran (less when
	// aborted or interrupted); WarmupSeconds the unsampled warm-up.
	PlannedSeconds float64 `json:"planned_s"`
	RanSeconds     float64 `json:"ran_s"`
	WarmupSeconds  float64 `json:"warmup_s"`
	// SettleSeconds is the start of the soak left out of the leak fit.
	SettleSeconds float64 `json:"settle_s"`
	RateOpsSec    float64 `json:"rate_ops_sec"`
	// Aborted is true when an abort condition stopped the soak; AbortReason
	// says which, with the numbers.
	Aborted     bool   `json:"aborted"`
	AbortReason string `json:"abort_reason,omitempty"`
	// Interrupted is true when the caller's context ended the soak.
	Interrupted bool            `json:"interrupted,omitempty"`
	Leak        LeakFinding     `json:"leak"`
	Drift       DriftFinding    `json:"drift"`
	Resources   ResourceSummary `json:"resources"`
	// Windows are the latency windows of the measured soak.
	Windows []window.Window `json:"windows"`
	// Samples are the resource readings, thinned evenly to at most 512.
	Samples []procstat.Stats `json:"samples"`
	// Checkpoints is how many checkpoint files were written, into
	// CheckpointFile (the latest, replaced atomically) and CheckpointLog
	// (one summary line per checkpoint).
	Checkpoints    int    `json:"checkpoints"`
	CheckpointFile string `json:"checkpoint_file,omitempty"`
	CheckpointLog  string `json:"checkpoint_log,omitempty"`
	// Thresholds applied, as configured.
	Config soakSettings `json:"config"`
	// Checks are the task's criteria, measured.
	Checks []result.Check `json:"checks"`
	Notes  []string       `json:"notes,omitempty"`
}

type soakSettings struct {
	SampleEverySeconds     float64 `json:"sample_every_s"`
	WindowSeconds          float64 `json:"window_s"`
	CheckpointEverySeconds float64 `json:"checkpoint_every_s"`
	DriftWindowSeconds     float64 `json:"drift_window_s"`
	MinWindowCount         uint64  `json:"min_window_count"`
	MaxRSSMB               float64 `json:"max_rss_mb"`
	MaxP99Ms               float64 `json:"max_p99_ms"`
	MaxErrorRate           float64 `json:"max_error_rate"`
}

// SoakCheckpoint is one checkpoint file: the soak's figures so far.
type SoakCheckpoint struct {
	Sequence int       `json:"sequence"`
	At       time.Time `json:"at"`
	// Final is true for the checkpoint written when the soak ended.
	Final  bool       `json:"final"`
	Report SoakReport `json:"report"`
}

// checkpointLine is one line of the checkpoint log.
type checkpointLine struct {
	Sequence    int       `json:"sequence"`
	At          time.Time `json:"at"`
	ElapsedS    float64   `json:"elapsed_s"`
	RSSMB       float64   `json:"rss_mb"`
	LeakSlope   float64   `json:"leak_slope_mb_per_hour"`
	LeakR2      float64   `json:"leak_r2"`
	DriftPct    float64   `json:"drift_pct_per_hour"`
	DriftR2     float64   `json:"drift_r2"`
	LastP99Ms   float64   `json:"last_p99_ms"`
	Requests    uint64    `json:"requests"`
	Errors      uint64    `json:"errors"`
	Final       bool      `json:"final"`
	AbortReason string    `json:"abort_reason,omitempty"`
}

// Soak checkpoint file names in Env.Dir.
const (
	SoakCheckpointFile = "002-soak-checkpoint.json"
	SoakCheckpointLog  = "002-soak-checkpoints.jsonl"
)

// soakRun is the live state of a soak, shared by the load's Observe hook
// and the monitor.
type soakRun struct {
	cfg SoakConfig
	// release: return the preload's garbage to the OS at the first sample
	// (the measured run preloaded into this process, the built-in target's).
	release bool
	rec     *window.Recorder
	sampler *procstat.Sampler
	started sync.Once
	phase   atomic.Int64 // phase start, unix nanoseconds; 0 = not started
	ctx     context.Context

	mu     sync.Mutex
	abort  string
	cancel context.CancelFunc
}

// observe records a sample; the first one marks the start of the measured
// phase (after load.Run's preload) and starts resource sampling, so neither
// the preload nor the warm-up is in the soak's figures.
func (r *soakRun) observe(s load.Sample) {
	r.started.Do(func() {
		// A sample completes at phase start + Intended + Latency.
		r.phase.Store(time.Now().Add(-s.Intended - s.Latency).UnixNano())
		if r.release {
			// load.Run's preload just left garbage in this process, the
			// target's. Return it to the OS now, within the settle period;
			// left alone, the background scavenger returns it over minutes
			// and RSS falls through the fit, hiding a slow leak.
			go releaseMemory()
		}
		if r.sampler != nil {
			r.sampler.Start(r.ctx)
		}
	})
	r.rec.Observe(s)
}

func (r *soakRun) elapsed() time.Duration {
	p := r.phase.Load()
	if p == 0 {
		return 0
	}
	return time.Since(time.Unix(0, p))
}

func (r *soakRun) stop(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.abort == "" {
		r.abort = reason
		r.cancel()
	}
}

func (r *soakRun) abortReason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.abort
}

// checkAbort applies the abort conditions to the latest figures.
func (r *soakRun) checkAbort() {
	c := r.cfg
	if r.sampler != nil && c.MaxRSSMB > 0 {
		if s, ok := r.sampler.Last(); ok && s.RSSMiB() > c.MaxRSSMB {
			r.stop(fmt.Sprintf("target RSS %.0f MB exceeded the maximum %.0f MB", s.RSSMiB(), c.MaxRSSMB))
			return
		}
	}
	w, ok := r.lastComplete()
	if !ok {
		return
	}
	switch {
	case c.MaxP99Ms > 0 && w.P99 > c.MaxP99Ms:
		r.stop(fmt.Sprintf("p99 %.1f ms in the window at %.0f–%.0f s exceeded the maximum %.1f ms", w.P99, w.StartSeconds, w.EndSeconds, c.MaxP99Ms))
	case c.MaxErrorRate > 0 && w.ErrorRate > c.MaxErrorRate:
		r.stop(fmt.Sprintf("error rate %.1f%% in the window at %.0f–%.0f s exceeded the maximum %.1f%%", 100*w.ErrorRate, w.StartSeconds, w.EndSeconds, 100*c.MaxErrorRate))
	}
}

// lastComplete returns the latest window that ended more than a second ago
// (its requests have had time to complete) and holds enough requests.
func (r *soakRun) lastComplete() (window.Window, bool) {
	el := r.elapsed()
	ws := r.rec.Windows()
	for i := len(ws) - 1; i >= 0; i-- {
		if ws[i].End <= el-time.Second && ws[i].Count >= r.cfg.MinWindowCount {
			return ws[i], true
		}
	}
	return window.Window{}, false
}

// Soak runs task 002: a warm-up, then a sustained load of cfg.Duration with
// the target's resources sampled, checkpoints written into env.Dir, and the
// leak and drift criteria applied at the end. An abort condition stops the
// soak early; the outcome then says why and its checks fail.
func Soak(ctx context.Context, env Env, cfg SoakConfig) (*Outcome, error) {
	if env.Duration > 0 {
		cfg.Duration = env.Duration
	}
	if env.Rate > 0 {
		cfg.Rate = env.Rate
	}
	if cfg.Duration <= 0 || cfg.Window <= 0 || cfg.SampleEvery <= 0 || cfg.CheckpointEvery <= 0 {
		return nil, fmt.Errorf("task 002: duration, window, sample and checkpoint intervals must be > 0 (got %v, %v, %v, %v)",
			cfg.Duration, cfg.Window, cfg.SampleEvery, cfg.CheckpointEvery)
	}
	sc, err := taskScenario(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	builtin := env.Endpoint == "" && env.TargetCommand == ""
	tgt, base, err := prepareRun(ctx, env, sc, "002", "soak", runLoad{Rate: cfg.Rate, MaxInFlight: cfg.MaxInFlight, Warmup: cfg.Warmup})
	if err != nil {
		return nil, err
	}
	defer tgt.Close()

	// Without a warm-up the measured run preloads, and leaves the preload's
	// garbage in the built-in target's process.
	run := &soakRun{cfg: cfg, release: builtin && base.PreloadedNodes == 0, rec: window.New(cfg.Window, time.Now())}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	run.cancel = cancel
	run.ctx = runCtx
	if tgt.PID > 0 {
		run.sampler = procstat.NewSampler(tgt.PID, cfg.SampleEvery)
	}
	rep := &SoakReport{
		Budget: string(env.Budget), Target: tgt.Kind, TargetPID: tgt.PID,
		PlannedSeconds: cfg.Duration.Seconds(), WarmupSeconds: cfg.Warmup.Seconds(), SettleSeconds: cfg.Settle.Seconds(),
		Config: soakSettings{
			SampleEverySeconds: cfg.SampleEvery.Seconds(), WindowSeconds: cfg.Window.Seconds(),
			CheckpointEverySeconds: cfg.CheckpointEvery.Seconds(), DriftWindowSeconds: cfg.DriftWindow.Seconds(),
			MinWindowCount: cfg.MinWindowCount, MaxRSSMB: cfg.MaxRSSMB, MaxP99Ms: cfg.MaxP99Ms, MaxErrorRate: cfg.MaxErrorRate,
		},
	}
	if tgt.PID == 0 {
		rep.Notes = append(rep.Notes, "no target pid: resources not sampled and no leak verdict; pass --target-pid for an external target")
	}
	if tgt.Kind == "builtin" {
		rep.Notes = append(rep.Notes, "built-in target: the sampled process also runs the load generator, whose memory is bounded (fixed-size histograms, compacted windows)")
	}
	dir, err := outputDir(env)
	if err != nil {
		return nil, fmt.Errorf("task 002: %w", err)
	}
	rep.CheckpointFile = filepath.Join(dir, SoakCheckpointFile)
	rep.CheckpointLog = filepath.Join(dir, SoakCheckpointLog)

	// The monitor: aborts, window compaction, checkpoints.
	monDone := make(chan struct{})
	var monWG sync.WaitGroup
	var ckErr error
	monWG.Add(1)
	go func() {
		defer monWG.Done()
		tick := time.NewTicker(min(time.Second, cfg.Window))
		defer tick.Stop()
		next := cfg.CheckpointEvery
		for {
			select {
			case <-monDone:
				return
			case <-tick.C:
			}
			run.checkAbort()
			el := run.elapsed()
			// Keep histograms only for windows that may still change.
			run.rec.Compact(el - 30*time.Second)
			if el >= next {
				next += cfg.CheckpointEvery
				snap := run.report(*rep, el, false)
				if err := writeSoakCheckpoint(snap, false); err != nil && ckErr == nil {
					ckErr = err
				}
				rep.Checkpoints = snap.Checkpoints
			}
		}
	}()

	mc := base
	mc.Duration = cfg.Duration
	mc.Observe = run.observe
	mc.Progress = env.Progress
	progressf(env, "002 soak: %v at the scenario's rate, resources every %v, checkpoints every %v into %s\n",
		cfg.Duration, cfg.SampleEvery, cfg.CheckpointEvery, dir)
	doc, runErr := load.Run(runCtx, mc)
	close(monDone)
	monWG.Wait()

	reason := run.abortReason()
	generatorOK, fatal := sortRunErr(doc, runErr)
	if errors.Is(runErr, load.ErrInterrupted) && doc != nil {
		fatal = nil
	}
	if fatal != nil {
		return nil, fmt.Errorf("task 002: %w", fatal)
	}
	final := run.report(*rep, run.elapsed(), true)
	final.Aborted = reason != ""
	final.AbortReason = reason
	final.Interrupted = reason == "" && ctx.Err() != nil
	if doc != nil {
		final.RanSeconds = doc.ElapsedSeconds
		final.RateOpsSec = doc.Run.Config.Rate
	}
	final.Checks = soakChecks(cfg, final, generatorOK, env.Budget)
	if err := writeSoakCheckpoint(final, true); err != nil && ckErr == nil {
		ckErr = err
	}
	if ckErr != nil {
		final.Notes = append(final.Notes, "checkpoint write failed: "+ckErr.Error())
		final.Checks = append(final.Checks, result.Check{Name: "checkpoints_written", Expected: 1, Measured: 0, Message: "checkpoints_written FAILED: " + ckErr.Error()})
	}
	if doc == nil {
		return nil, fmt.Errorf("task 002: nothing measured (%v)", runErr)
	}
	ensureTasks(doc)
	doc.Tasks["002"] = final
	progressf(env, "002 soak: leak: %s; drift: %s\n", final.Leak.Reason, final.Drift.Reason)
	return &Outcome{Document: doc, Checks: final.Checks}, nil
}

// report builds the soak's figures so far (a copy of base filled in).
func (r *soakRun) report(base SoakReport, el time.Duration, final bool) *SoakReport {
	rep := base
	var samples []procstat.Stats
	if r.sampler != nil {
		if final {
			samples = r.sampler.Stop()
		} else {
			samples = r.sampler.Samples()
		}
	}
	ws := r.rec.Windows()
	end := el
	if final && len(ws) > 0 {
		// The last window is complete only if the run covered it.
		end = min(el, ws[len(ws)-1].End)
	}
	rep.RanSeconds = el.Seconds()
	settled := r.settled(samples)
	rep.Leak = AnalyzeLeak(settled, r.cfg.LeakMBPerHour, r.cfg.LeakMinR2)
	if len(settled) == 0 && len(samples) > 0 {
		rep.Leak.Reason = fmt.Sprintf("not judged: the soak ended within its %v settle period (%d resource samples, none after it)", r.cfg.Settle, len(samples))
	}
	rep.Drift = AnalyzeDrift(ws, end, r.cfg.DriftWindow, r.cfg.MinWindowCount, r.cfg.DriftPctPerHour, r.cfg.DriftMinR2)
	rep.Resources = SummarizeResources(samples)
	rep.Windows = ws
	rep.Samples = thinStats(samples, 512)
	rep.Checkpoints = base.Checkpoints + 1
	rep.AbortReason = r.abortReason()
	rep.Aborted = rep.AbortReason != ""
	return &rep
}

// settled returns the samples taken after the settle period.
func (r *soakRun) settled(ss []procstat.Stats) []procstat.Stats {
	p := r.phase.Load()
	if p == 0 || r.cfg.Settle <= 0 {
		return ss
	}
	from := time.Unix(0, p).Add(r.cfg.Settle)
	for i, s := range ss {
		if !s.At.Before(from) {
			return ss[i:]
		}
	}
	return nil
}

// writeSoakCheckpoint replaces the checkpoint file and appends a line to
// the checkpoint log.
func writeSoakCheckpoint(rep *SoakReport, final bool) error {
	now := time.Now().UTC()
	if err := resWriteJSON(rep.CheckpointFile, SoakCheckpoint{Sequence: rep.Checkpoints, At: now, Final: final, Report: *rep}); err != nil {
		return err
	}
	line := checkpointLine{
		Sequence: rep.Checkpoints, At: now, ElapsedS: rep.RanSeconds, RSSMB: rep.Resources.RSSEndMB,
		LeakSlope: rep.Leak.SlopeMBPerHour, LeakR2: rep.Leak.R2, DriftPct: rep.Drift.SlopePctPerHour, DriftR2: rep.Drift.R2,
		Final: final, AbortReason: rep.AbortReason,
	}
	for _, w := range rep.Windows {
		line.Requests += w.Count
		line.Errors += w.Errors
		if w.Count > 0 {
			line.LastP99Ms = w.P99
		}
	}
	return resAppendLine(rep.CheckpointLog, line)
}

// soakChecks encodes task 002's criteria.
func soakChecks(cfg SoakConfig, rep *SoakReport, generatorOK bool, b Budget) []result.Check {
	var cs []result.Check
	ran := 0.0
	if rep.PlannedSeconds > 0 {
		ran = rep.RanSeconds / rep.PlannedSeconds
	}
	c := checkAs("soak_completed", ran, "≥", 0.95, " of planned", !rep.Aborted && !rep.Interrupted && ran >= 0.95)
	if rep.Aborted {
		c.Message += " (aborted: " + rep.AbortReason + ")"
	}
	cs = append(cs, c)
	if rep.Leak.Measured {
		c := checkAs("no_memory_leak", rep.Leak.SlopeMBPerHour, "≤", cfg.LeakMBPerHour, " MB/h", !rep.Leak.Leak)
		c.Message += fmt.Sprintf(" (R² %.2f; a leak needs R² > %.2f)", rep.Leak.R2, cfg.LeakMinR2)
		cs = append(cs, c)
	}
	dc := checkAs("no_latency_drift", rep.Drift.SlopePctPerHour, "≤", cfg.DriftPctPerHour, " %/h", !rep.Drift.Drift)
	dc.Message += fmt.Sprintf(" (R² %.2f; drift needs R² > %.2f; %s)", rep.Drift.R2, cfg.DriftMinR2, rep.Drift.Reason)
	cs = append(cs, dc)
	if b == BudgetFull && rep.Drift.Windows >= minDriftWindows {
		cs = append(cs, checkAs("drift_24h_pct", rep.Drift.Projected24hPct, "≤", cfg.Drift24hPct, " %", rep.Drift.Projected24hPct <= cfg.Drift24hPct))
	}
	gc := checkAs("generator_kept_schedule", b2f(generatorOK), "=", 1, "", generatorOK)
	if !generatorOK {
		gc.Message += ": the load generator could not keep its schedule; the latency figures describe the generator"
	}
	cs = append(cs, gc)
	return cs
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
