package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/hw"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/target"
	"github.com/engram/m18-gate/runners/tasks"
)

const taskUsage = `m18-run task runs one M18 task (a family of scenarios with its criteria as
checks) and writes an m18.result/v1 document whose tasks.ID section holds the
task's figures.

Usage:
  m18-run task ID [flags]   run task ID (001, 1 and task001 all name task 001)
  m18-run task list         list the catalogue

Without --endpoint the built-in reference target is started in-process on
127.0.0.1; the --target-* flags set its knobs. --target-command starts your
own server instead, once per target a task needs, through sh -c with the
step's parameters filled in: {port} and {addr} (a free loopback port),
{seed}, {dir}, and per task {threads} (007), {nodes} (004), {simd} (011: on
or off) and {instrument} (010, 012, 013: the numactl policy, or the
valgrind cachegrind (012) or callgrind (013) command, the task puts in
front of the server; put it where the server's own command starts). It
must answer GET /health/alive within 30 s (3 min under valgrind); it is
stopped with SIGTERM after the step.
Task 007 holds the target to k threads through {threads}, through
--affinity (the started target pinned to k CPUs), or both; the reference
target through its worker pool (--target-workers is set per step).
The reference target's concurrency knobs (--target-work, --target-serial,
--target-key-lock, --target-workers, --target-shared-workers) are what
tasks 007-009 show their effects with.

Flags:
`

const taskUsageTail = `
Exit codes:
  0    every criterion passed
  1    a criterion failed (the summary says which, measured against expected)
  3    bad input, unknown task, target unreachable, or preload failed
  4    the load generator, not the target, was the bottleneck: the result is
       written but its figures do not describe the target
  130  interrupted: the partial result is written to OUTPUT.partial

Example:
  go run ./cmd/m18-run task 003 --budget pr
  m18-run task 005 --target-capacity 800 --output breaking.json
  m18-run task 007 --target-command 'engram start --port {port} --threads {threads}'
  m18-run task 007 --target-serial 0.8          # the reference target, 80 % serialised
  m18-run task 008 --target-key-lock            # one lock per memory space
  m18-run task 009 --target-workers 10 --target-shared-workers
`

// task runs `m18-run task …`.
func task(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "list" {
		for _, t := range tasks.Catalogue() {
			fmt.Fprintf(stdout, "%s  %-28s %s\n", t.ID, t.Title, t.Description)
		}
		return nil
	}
	fs := cli.NewFlagSet("m18-run task", stderr)
	var (
		budget   = fs.String("budget", "pr", "`BUDGET`: pr (minutes at most), nightly or full (the milestone's sizes)")
		endpoint = fs.String("endpoint", "", "target base `URL` (default: start the built-in reference target)")
		command  = fs.String("target-command", "", "start the target with shell `COMMAND` per step, e.g. 'engram start --port {port} --threads {threads}'")
		affinity = fs.Bool("affinity", false, "007: pin the target started by --target-command to k CPUs at the step of k threads")
		pid      = fs.Int("target-pid", 0, "`PID` of the target process, for resource sampling (default: this process when the target is built in)")
		duration = fs.Duration("duration", 0, "override the budget's run or step duration (007 step, 008 measurement, 009 phase)")
		rate     = fs.Float64("rate", 0, "override the budget's rate: 001 mean rate, 003 base rate, 005 and 007 start rate, 009 victim rate (ops/s)")
		seed     = fs.Uint64("seed", 0xDEADBEEF, "seed of every generated value")
		output   = fs.String("output", "", "result document `FILE` (default task-ID.json)")
		dir      = fs.String("dir", "", "`DIR` for side files (timelines, checkpoints; default: beside --output)")
		quiet    = fs.Bool("quiet", false, "no progress on stderr")
		jsonOut  = fs.Bool("json", false, "print the task's section as JSON instead of the summary")
		lbls     labels
		compare  labels
		env      tasks.Env
	)
	builtinTargetFlags(fs, &lbls, &env.TargetOptions)
	fs.Var(&compare, "compare", "result `FILE` of another machine to compare with (011: cross-architecture report; repeatable)")
	fs.Usage = cli.Usage(fs, taskUsage, taskUsageTail)
	// The task id may come before or after the flags.
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if id == "" {
		return cli.Usagef("give a task id (m18-run task list), e.g. m18-run task 001 --budget pr")
	}
	t, err := tasks.Lookup(id)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	b, err := tasks.ParseBudget(*budget)
	if err != nil {
		return cli.Usagef("--budget: %v", err)
	}
	if (*endpoint != "" || *command != "") && env.TargetOptions != (target.Options{}) {
		return cli.Usagef("the --target-* knob flags set the built-in target; they cannot apply to --endpoint or --target-command (drop one or the other)")
	}
	if err := env.TargetOptions.Validate(); err != nil {
		return cli.Usagef("%v", err)
	}
	if *duration < 0 || *rate < 0 {
		return cli.Usagef("--duration and --rate must be ≥ 0")
	}
	out := *output
	if out == "" {
		out = "task-" + t.ID + ".json"
	}
	env.Budget, env.Endpoint, env.TargetPID, env.Seed = b, *endpoint, *pid, *seed
	env.TargetCommand, env.Affinity = *command, *affinity
	if self, err := os.Executable(); err == nil {
		env.ReferenceTarget = []string{self, "target"} // m18-run target, when m18-target is not at hand
	}
	env.Compare = compare
	if *affinity && *command == "" {
		return cli.Usagef("--affinity pins a target started by --target-command; give one")
	}
	env.Duration, env.Rate, env.Dir = *duration, *rate, *dir
	if env.Dir == "" {
		env.Dir = filepath.Dir(out)
	}
	if !*quiet {
		env.Progress = stderr
	}

	fp, err := hw.Probe(ctx, hw.Options{})
	if err != nil && !*quiet {
		fmt.Fprintf(stderr, "m18-run task: hardware probe: %v\n", err)
	}
	env.Hardware = fp
	env.Labels = append(hw.Labels(fp), lbls...)

	started := time.Now()
	o, runErr := t.Run(ctx, env)
	if o != nil && o.Document != nil {
		// The commit under test, as m18-run records it for scenarios: the
		// history branch files and labels task documents by it.
		if v, err := gitInfo("."); err == nil {
			o.Document.Run.Commit, o.Document.Run.Ref, o.Document.Run.CommitTime = v.commit, v.ref, v.time
		} else if !*quiet {
			fmt.Fprintf(stderr, "m18-run task: no git commit recorded: %v\n", err)
		}
		path, err := writeResult(out, o.Document, runErr)
		if err != nil {
			return err
		}
		if *jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(o.Document.Tasks[t.ID])
		} else {
			writeTaskSummary(stdout, t, b, o, time.Since(started))
		}
		fmt.Fprintf(stdout, "result written to %s\n", path)
	}
	switch {
	case runErr == nil && o != nil && o.Passed():
		return nil
	case runErr == nil:
		return fmt.Errorf("task %s: %w: a criterion failed (the summary says which)", t.ID, load.ErrValidation)
	case errors.Is(runErr, load.ErrInterrupted), errors.Is(runErr, load.ErrGeneratorBottleneck):
		return partial(runErr)
	}
	return fmt.Errorf("task %s: %w", t.ID, runErr)
}

// writeTaskSummary prints the load table and the task's checks.
func writeTaskSummary(w io.Writer, t tasks.Task, b tasks.Budget, o *tasks.Outcome, took time.Duration) {
	fmt.Fprintf(w, "task %s — %s (budget %s, %.0fs)\n\n", t.ID, t.Title, b, took.Seconds())
	if d := o.Document; d != nil && d.TotalOperations > 0 {
		cp := *d
		cp.Validation = nil // the checks are listed below
		_ = load.WriteSummary(w, &cp)
		fmt.Fprintln(w)
	}
	verdict := "passed"
	switch {
	case !o.Passed():
		verdict = "FAILED"
	case len(o.Checks) == 0:
		verdict = "not measured on this runner (see skipped)"
	}
	fmt.Fprintf(w, "criteria %s\n", verdict)
	for _, c := range o.Checks {
		fmt.Fprintf(w, "  %s\n", c.Message)
	}
	for _, s := range o.Skipped {
		fmt.Fprintf(w, "  skipped: %s\n", s)
	}
}
