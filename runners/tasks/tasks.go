// Package tasks is the M18 task catalogue: the milestone's workloads
// (production traffic, soak, bursts, dataset scaling, breaking point, tail
// latency, …) as runnable tasks, each a family of scenario files with its
// success criteria encoded as checks and three budgets.
//
// Its opinion: a task states its criteria as numbers it measures and checks,
// never as prose for a human to interpret, and a budget that does not fit
// the machine is skipped with the reason rather than run badly.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/target"
)

// Budget is how much time and size a task may take.
type Budget string

// The three budgets every task offers.
const (
	// BudgetPR fits a pull request's gate: well under 2 minutes on a 2-core
	// machine (each task aims at under a minute).
	BudgetPR Budget = "pr"
	// BudgetNightly fits a nightly job on a tier runner: tens of minutes.
	BudgetNightly Budget = "nightly"
	// BudgetFull is the milestone's real sizes and durations (24 h soak,
	// 10M nodes, …).
	BudgetFull Budget = "full"
)

// ParseBudget parses a budget name.
func ParseBudget(s string) (Budget, error) {
	switch b := Budget(s); b {
	case BudgetPR, BudgetNightly, BudgetFull:
		return b, nil
	}
	return "", fmt.Errorf("unknown budget %q: want pr, nightly or full", s)
}

// Env is what a task runs with.
type Env struct {
	Budget Budget
	// Endpoint is the target's base URL; empty starts the built-in reference
	// target in-process with TargetOptions (a task that needs its own target
	// per step, such as dataset scaling, starts its own).
	Endpoint      string
	TargetOptions target.Options
	// TargetCommand, when set, starts the target as a process for each
	// target a task needs: a shell command line whose {name} placeholders
	// are filled with the step's parameters ({port}, {addr}, {seed}, {dir},
	// and per task {threads}, {nodes}, …; see ExpandCommand). It must serve
	// on {port} or {addr}, or on Endpoint when that is given.
	TargetCommand string
	// ReferenceTarget is a command line that runs the reference target as
	// a process of its own, m18-target's flags to follow (m18-run sets it
	// to "m18-run target"): what tasks 010, 012 and 013 run the built-in
	// target under their instrument with when m18-target is neither on
	// PATH nor beside this program. Empty: m18-target only.
	ReferenceTarget []string
	// Affinity pins a target started from TargetCommand to as many CPUs as
	// the step's thread count (task 007), with or without a {threads}
	// placeholder.
	Affinity bool
	// TargetPID is the process whose resources are sampled (RSS, threads,
	// fds, CPU); 0 = this process when the target is built in, else none.
	TargetPID int
	Seed      uint64
	// Duration and Rate override the budget's defaults when non-zero.
	Duration time.Duration
	Rate     float64
	// Dir is where a task writes files besides the result (checkpoints,
	// timelines); "" = the current directory.
	Dir string
	// Progress receives human-readable progress; nil = none.
	Progress io.Writer
	// Compare names result documents of other machines that a task
	// compares this machine with (011: the cross-architecture report).
	Compare []string
	// Hardware and Labels are recorded in the result.
	Hardware result.Fingerprint
	Labels   []string

	// ended collects the command targets that ended on their own during
	// one task (set by the catalogue's Run).
	ended *endedTargets
}

// Outcome is what a task produced.
type Outcome struct {
	// Document is the result document; its Tasks[ID] holds the task's
	// section.
	Document *result.Document
	// Checks are the task's success criteria, measured.
	Checks []result.Check
	// Skipped lists parts not run on this machine or budget, with reasons.
	Skipped []string
}

// Passed reports whether every check passed.
func (o *Outcome) Passed() bool {
	for _, c := range o.Checks {
		if !c.Passed {
			return false
		}
	}
	return true
}

// Task is one entry of the catalogue.
type Task struct {
	// ID is the milestone's task number, "001" … "016".
	ID          string
	Title       string
	Description string
	// Run runs the task.
	Run func(ctx context.Context, env Env) (*Outcome, error)
}

// budgeted makes a catalogue entry's Run from a task's function and its
// budget's configuration: the task runs with the configuration of
// env.Budget.
//
// A command target that ended on its own while the task ran — it crashed
// or exited — makes the task's error say so (ErrTargetEnded: how it ended
// and what its stderr began and ended with), whatever the task made of its failed
// requests; the outcome, with what was measured, is returned all the same.
func budgeted[C any](run func(context.Context, Env, C) (*Outcome, error), budget func(Budget) C) func(context.Context, Env) (*Outcome, error) {
	return func(ctx context.Context, env Env) (*Outcome, error) {
		env.ended = &endedTargets{}
		o, err := run(ctx, env, budget(env.Budget))
		if e := env.ended.err(); e != nil {
			err = errors.Join(err, e)
		}
		return o, err
	}
}

// Catalogue returns every task, in ID order. The IDs are the milestone's
// task numbers; the code is named for what each task measures.
func Catalogue() []Task {
	return append([]Task{
		{ID: "001", Title: "Production workload",
			Description: "diurnal, bursty, ramping and composite arrivals followed window by window, with correlated operations (store→recall, recall→search, search→recall) and a CSV timeline",
			Run:         budgeted(Production, ProductionBudget)},
		{ID: "002", Title: "Soak: leaks and drift",
			Description: "Sustained read load for minutes (pr) to 24 h (full) with the target's RSS, threads, fds and CPU sampled from /proc; " +
				"a leak is an RSS slope above the threshold with R² > 0.8, drift a per-window p99 slope above 2 %/h with R² > 0.7; " +
				"checkpoints in --dir; aborts early on max RSS, p99 or error rate.",
			Run: budgeted(Soak, SoakBudget)},
		{ID: "003", Title: "Burst traffic",
			Description: "2×, 5× and 10× bursts, sustained and oscillating: per-second p99, recovery time after each burst, errors in and out of bursts, target RSS",
			Run:         budgeted(BurstTraffic, BurstBudget)},
		{ID: "004", Title: "Dataset scaling",
			Description: "Preloads a fresh target to each size (pr 1K/5K/10K, nightly 10K/100K/1M, full 100K/1M/10M; sizes that do not fit this machine are skipped with the reason), " +
				"measures saturation throughput and p99 at each, fits memory against N and against N·(768·4+128) bytes, and reports throughput degradation.",
			Run: budgeted(Scaling, ScalingBudget)},
		{ID: "005", Title: "Throughput breaking point",
			Description: "the rate raised step by step (+100 ops/s) until p99 passes its limit or errors pass 5 %: breaking point, headroom over the expected rate, spread across runs",
			Run:         budgeted(BreakingPoint, BreakingBudget)},
		{ID: "006", Title: "Tail latency",
			Description: "Open-loop load long enough for the budget's deepest quantile; each tail quantile is marked unreliable below 10/(1−q) samples; " +
				"the slowest requests are kept with their operation, intended send time, schedule lag and the requests in flight when they were sent.",
			Run: budgeted(Tails, TailsBudget)},
		{ID: "007", Title: "Thread scalability",
			Description: "The target limited to k threads ({threads} in --target-command, --affinity, or the reference target's workers), k = 1, 2, 3, 4, … to the runner's CPUs (pr 4, full 128): " +
				"task 005's breaking-point search at each k, p50/p99 at 70 % of it, speedup and efficiency, Gunther's USL (σ, κ with standard errors) and the efficiency it predicts at 16, 32 and 128 (marked extrapolated beyond the counts measured); " +
				"criteria: efficiency ≥ 90 % at 16, > 80 % at 32.",
			Run: budgeted(Threads, ThreadsBudget)},
		{ID: "008", Title: "Hot-spot contention",
			Description: "Closed-loop writers (stores, and recalls of hot memories) over 64 memory spaces by Zipf popularity (s = 1: the celebrity space gets 21 %) against uniformly, writers swept 1 → 128 (pr 1, 4, 16): " +
				"loss = 1 − throughput(Zipf)/throughput(uniform) with a bootstrap interval from repeated runs, hot and cold spaces' latency apart; criterion: loss < 10 % at the largest writer count.",
			Run: budgeted(Hotspots, HotspotsBudget)},
		{ID: "009", Title: "Multi-tenant isolation",
			Description: "A victim tenant (its own memory space) at a steady rate while an aggressor in another space switches 10× the load on and off in interleaved phases: " +
				"the change of the victim's per-phase p50 and p99 decided with the gate's statistics (bootstrap interval of the ratio of medians, Mann–Whitney) as \"no interference beyond ±1 %\", a measured interference with its interval, or inconclusive with the phases that would settle it; " +
				"data isolation: the victim's recalls and searches never return the aggressor's memories.",
			Run: budgeted(Isolation, IsolationBudget)},
	}, hardwareTasks()...)
}

// Lookup returns the task with this ID ("1", "001" and "task001" all name
// task 001).
func Lookup(id string) (Task, error) {
	want := normalizeID(id)
	var ids []string
	for _, t := range Catalogue() {
		if t.ID == want {
			return t, nil
		}
		ids = append(ids, t.ID)
	}
	return Task{}, fmt.Errorf("no task %q (known: %v)", id, ids)
}

func normalizeID(id string) string {
	for len(id) > 0 && (id[0] < '0' || id[0] > '9') {
		id = id[1:]
	}
	var n int
	if _, err := fmt.Sscanf(id, "%d", &n); err != nil {
		return id
	}
	return fmt.Sprintf("%03d", n)
}
