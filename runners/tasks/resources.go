package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/target"
)

// resourceTasks returns tasks 002 (soak), 004 (dataset scaling) and 006
// (tail latency).
func resourceTasks() []Task {
	return []Task{
		{
			ID:    "002",
			Title: "Soak: leaks and drift",
			Description: "Sustained read load for minutes (pr) to 24 h (full) with the target's RSS, threads, fds and CPU sampled from /proc; " +
				"a leak is an RSS slope above the threshold with R² > 0.8, drift a per-window p99 slope above 2 %/h with R² > 0.7; " +
				"checkpoints in --dir; aborts early on max RSS, p99 or error rate.",
			Run: budgeted(Soak, SoakBudget),
		},
		{
			ID:    "004",
			Title: "Dataset scaling",
			Description: "Preloads a fresh target to each size (pr 1K/5K/10K, nightly 10K/100K/1M, full 100K/1M/10M; sizes that do not fit this machine are skipped with the reason), " +
				"measures saturation throughput and p99 at each, fits memory against N and against N·(768·4+128) bytes, and reports throughput degradation.",
			Run: budgeted(Scaling, ScalingBudget),
		},
		{
			ID:    "006",
			Title: "Tail latency",
			Description: "Open-loop load long enough for the budget's deepest quantile; each tail quantile is marked unreliable below 10/(1−q) samples; " +
				"the slowest requests are kept with their operation, intended send time, schedule lag and the requests in flight when they were sent.",
			Run: budgeted(Tails, TailsBudget),
		},
	}
}

// resTarget is the target a resource task measures: the built-in reference
// target started in this process, or an external one.
type resTarget struct {
	URL string
	// PID is the process whose resources are sampled; 0 = none.
	PID int
	// Kind is "builtin" or "external", as result.Run.Target records it.
	Kind string
	inst *target.Instance
}

// resStartTarget starts the built-in target with o unless env names an
// endpoint; the built-in target's pid is this process.
func resStartTarget(env Env, o target.Options) (*resTarget, error) {
	if env.Endpoint != "" {
		return &resTarget{URL: env.Endpoint, PID: env.TargetPID, Kind: "external"}, nil
	}
	inst, err := target.Start(o)
	if err != nil {
		return nil, err
	}
	pid := env.TargetPID
	if pid == 0 {
		pid = os.Getpid()
	}
	return &resTarget{URL: inst.URL(), PID: pid, Kind: "builtin", inst: inst}, nil
}

// Close stops a built-in target and returns its memory to the OS, so that
// the next reading of this process's RSS does not count it.
func (t *resTarget) Close() error {
	if t.inst == nil {
		return nil
	}
	err := t.inst.Close()
	t.inst = nil
	resReleaseMemory()
	return err
}

// resReleaseMemory runs the garbage collector and returns freed memory to the
// OS, so that RSS shows live memory rather than garbage awaiting collection.
func resReleaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// resScenario loads the built-in scenario tasks/NAME.
func resScenario(name string) (*scenario.Scenario, error) {
	sc, err := scenario.Load("tasks/" + name)
	if err != nil {
		return nil, fmt.Errorf("task scenario tasks/%s: %w", name, err)
	}
	return sc, nil
}

// resLoadConfig is the load.Config every resource task starts from. It
// carries one HTTP client for all of the task's runs, so the connections a
// warm-up opens are the ones the measurement uses (a new client per run
// would open new connections mid-measurement, and their buffers would
// show as memory growth of an in-process target). maxInFlight caps the
// requests in flight, and so the connections; 0 = peak rate × the request
// timeout, within [1000, 10000].
func resLoadConfig(env Env, sc *scenario.Scenario, t *resTarget, maxInFlight int) load.Config {
	if maxInFlight <= 0 {
		peak := max(sc.Arrival.PeakRate(), env.Rate)
		maxInFlight = int(min(max(peak*load.DefaultTimeout.Seconds(), 1000), 10000))
	}
	return load.Config{
		Client:      load.NewClient(maxInFlight, load.DefaultTimeout),
		MaxInFlight: maxInFlight,
		Scenario:    sc,
		Endpoint:    t.URL,
		Target:      t.Kind,
		Seed:        env.Seed,
		Hardware:    env.Hardware,
		Labels:      env.Labels,
	}
}

// resLoad is how a resource task loads its target: the measured run's
// rate (0 = the scenario's) and in-flight cap (0 = resLoadConfig's
// default), and the unrecorded warm-up before it.
type resLoad struct {
	Rate        float64
	MaxInFlight int
	Warmup      time.Duration
}

// resPrepare makes a resource task ready to measure: it starts the target
// (unless env names one), builds the load configuration l asks for and runs
// the unrecorded warm-up at its rate. The warm-up preloads the scenario's nodes, so the returned configuration
// says they are there (load.Config.PreloadedNodes): the measured run sends
// the same reads and stores without preloading again, and leaves no
// preload garbage in the target's memory. The caller closes the target.
//
// With the built-in target this process is the target: memory freed by
// earlier work (and by the warm-up) is returned to the OS first, or the
// background scavenger returns it during the measurement and RSS falls for
// reasons that are not the target's.
func resPrepare(ctx context.Context, env Env, sc *scenario.Scenario, id, label string, l resLoad) (*resTarget, load.Config, error) {
	builtin := env.Endpoint == ""
	if builtin {
		resReleaseMemory()
	}
	tgt, err := resStartTarget(env, env.TargetOptions)
	if err != nil {
		return nil, load.Config{}, fmt.Errorf("task %s: %w", id, err)
	}
	base := resLoadConfig(env, sc, tgt, l.MaxInFlight)
	base.Rate = l.Rate
	noWarmup := time.Duration(0)
	base.Warmup = &noWarmup
	if l.Warmup <= 0 {
		return tgt, base, nil
	}
	resProgressf(env, "%s %s: warm-up %v (not recorded)\n", id, label, l.Warmup)
	wc := base
	wc.Duration = l.Warmup
	wdoc, err := load.Run(ctx, wc)
	if _, fatal := resRunErr(wdoc, err); fatal != nil {
		tgt.Close()
		return nil, load.Config{}, fmt.Errorf("task %s warm-up: %w", id, fatal)
	}
	if builtin {
		resReleaseMemory()
	}
	base.PreloadedNodes = max(sc.Data.NumNodes, 0)
	return tgt, base, nil
}

// resRunErr sorts load.Run's error: a document with a failed [validation]
// or a generator bottleneck is still a measurement (the task's checks say
// so); anything else is returned.
func resRunErr(doc *result.Document, err error) (generatorOK bool, fatal error) {
	switch {
	case err == nil:
		return true, nil
	case doc != nil && errors.Is(err, load.ErrValidation):
		return true, nil
	case doc != nil && errors.Is(err, load.ErrGeneratorBottleneck):
		return false, nil
	}
	return true, err
}

// resDir returns the directory a task writes its files into.
func resDir(env Env) string {
	if env.Dir == "" {
		return "."
	}
	return env.Dir
}

// resWriteJSON writes v as indented JSON to path atomically: to a temporary
// file in the same directory, synced, then renamed over path, so a reader
// (or a crash) sees either the previous file or the new one, never half.
func resWriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // make the rename durable where the OS allows it
		d.Close()
	}
	return nil
}

// resAppendLine appends one JSON line to path and syncs it.
func resAppendLine(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// resProgressf writes a progress line when env asks for progress.
func resProgressf(env Env, format string, args ...any) {
	if env.Progress != nil {
		fmt.Fprintf(env.Progress, format, args...)
	}
}

// resCheck builds a check with a message saying what was measured against
// what, and by how much it missed.
func resCheck(name string, measured float64, rel string, expected float64, unit string, passed bool) result.Check {
	verdict := "ok"
	if !passed {
		verdict = "FAILED"
	}
	return result.Check{
		Name: name, Expected: expected, Measured: measured, Passed: passed,
		Message: fmt.Sprintf("%s %s: measured %.4g%s, expected %s %.4g%s", name, verdict, measured, unit, rel, expected, unit),
	}
}

// resEnsureTasks makes doc.Tasks usable.
func resEnsureTasks(doc *result.Document) {
	if doc.Tasks == nil {
		doc.Tasks = map[string]any{}
	}
}
