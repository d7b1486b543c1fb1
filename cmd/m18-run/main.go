// Command m18-run runs a workload scenario against an Engram-compatible
// target, open-loop, and writes an m18.result/v1 document.
//
// Without --endpoint it starts the built-in reference target in-process on
// loopback, so `go run ./cmd/m18-run --scenario ci/fast_regression_check`
// works on a fresh machine. See runners/README.md for the document format.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/internal/targetcmd"
	"github.com/engram/m18-gate/runners/hw"
	"github.com/engram/m18-gate/runners/live"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/result/merge"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/target"
)

// Exit codes.
const (
	exitOK          = 0
	exitValidation  = 1             // the scenario's [validation] failed
	exitInput       = cli.ExitUsage // bad input, target unreachable, preload failed
	exitGenerator   = 4             // the load generator was the bottleneck: figures invalid
	exitInterrupted = 130           // SIGINT/SIGTERM: partial result written to OUTPUT.partial
)

const usage = `m18-run runs a workload scenario open-loop against an Engram-compatible target
and writes an m18.result/v1 document (see runners/README.md).

Usage:
  m18-run --scenario NAME|FILE [flags]   run a scenario
  m18-run list                           list the built-in scenarios
  m18-run competitors                    list the competitor adapters and what each runs per operation
  m18-run check FILE|NAME...             validate scenario files without running them
  m18-run task ID|list [flags]           run an M18 task (001…) with its criteria (m18-run task --help)
  m18-run merge SHARD.json...            merge the documents of a sharded run (m18-run merge --help)
  m18-run ab [--slowdown 10]             the whole gate on this machine, as the action runs it: reference
                                         target against a slowed copy in pairs at once, compared; prints the verdict
  m18-run target [flags]                 the reference target in its own process, as m18-target (m18-run target --help)

Without --endpoint the built-in reference target is started in-process on
127.0.0.1; the --target-* flags set its knobs. With --competitor the same
scenario (dataset, seed, schedule) runs against a competitor through its
adapter, and the document records the competitor's name and version as the
target; a scenario with an operation the competitor cannot express is
refused (exit 3). See runners/README.md, "Competitors".

Flags:
`

const usageTail = `
Exit codes:
  0    ok
  1    the scenario's [validation] failed (the message says which check, by how much);
       m18-run ab: a regression; m18-run target: the server failed while running
  3    bad input, target unreachable, or preload failed (the message says how to fix it)
  4    the load generator, not the target, was the bottleneck (too many late or
       dropped sends): the result is written but does not describe the target
  130  interrupted: the partial result is written to OUTPUT.partial

Example:
  go run ./cmd/m18-run --scenario ci/fast_regression_check
  m18-run --scenario ci/smoke --endpoint http://127.0.0.1:7432 --repetitions 5 --output smoke.json
  m18-run --scenario ci/smoke --competitor postgres --competitor-url postgres://postgres@127.0.0.1:5432/postgres
  m18-run --scenario competitive/neo4j_traversal_100k --competitor neo4j   # [target.neo4j] of .github/m18-gate.toml
  m18-run --scenario ci/smoke --endpoint http://10.0.0.1:7432 --shard 0/2 --start-at 2026-12-06T08:00:00Z --output shard-0.json
`

type labels []string

func (l *labels) String() string     { return strings.Join(*l, ",") }
func (l *labels) Set(s string) error { *l = append(*l, s); return nil }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run runs a subcommand (list, check, task, merge, version) through a
// cli.Program, or else a scenario (m18-run --scenario …); either way the
// error it returns is printed and mapped to the exit code by exitCode.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &cli.Program{
		Name:     "m18-run",
		Usage:    usage,
		Commands: map[string]cli.Command{"list": list, "competitors": competitors, "ab": ab, "check": check, "task": task, "merge": mergeCmd, "target": serveTarget},
		Exit:     exitCode,
	}
	if len(args) > 0 {
		switch name := args[0]; {
		case p.Commands[name] != nil, name == "version", name == "--version", name == "-version":
			return p.Run(ctx, args, stdout, stderr)
		}
	}
	return cli.Finish("m18-run", measure(ctx, args, stdout, stderr), stderr, exitCode)
}

// exitCode maps the error of a command to the exit code: the one switch.
func exitCode(err error) int {
	switch {
	case errors.Is(err, load.ErrInterrupted):
		return exitInterrupted
	case errors.Is(err, load.ErrGeneratorBottleneck), errors.Is(err, merge.ErrSlipped):
		return exitGenerator
	case errors.Is(err, load.ErrValidation), errors.Is(err, verdict.ErrRegression), errors.Is(err, targetcmd.ErrFailed):
		return exitValidation
	case errors.Is(err, verdict.ErrCompetitiveRegression):
		return cli.ExitCompetitive
	}
	return exitInput
}

// measure runs a scenario: m18-run --scenario NAME|FILE [flags].
func measure(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("m18-run", stderr)
	var (
		scen        = fs.String("scenario", "", "scenario: a built-in `NAME` (m18-run list) or a TOML file path (required)")
		endpoint    = fs.String("endpoint", "", "target base `URL`, e.g. http://127.0.0.1:7432 (default: start the built-in reference target)")
		duration    = fs.Duration("duration", 0, "measured phase per repetition (default: the scenario's total_seconds)")
		warmup      = fs.String("warmup", "", "warm-up before each measured phase: a Go `duration` (5s); auto ends it once its windows' median latencies settle,\nat most the scenario's warm-up (10s when that is 0); auto:MAX at most MAX (auto:10s). See runners/README.md, \"Adaptive warm-up\" (default: the scenario's)")
		rate        = fs.Float64("rate", 0, "mean rate in ops/s, keeping the arrival pattern's shape (default: the scenario's)")
		reps        = fs.Int("repetitions", 1, "independent repetitions of warm-up + measured phase")
		seed        = fs.Uint64("seed", 0xDEADBEEF, "seed of every generated value")
		output      = fs.String("output", "result.json", "result document `FILE`")
		quiet       = fs.Bool("quiet", false, "no progress on stderr")
		maxInFlight = fs.Int("max-in-flight", 0, "cap on requests in flight (default: peak rate × timeout, within 1000…10000)")
		timeout     = fs.Duration("timeout", load.DefaultTimeout, "timeout of one request")
		nodes       = fs.Int("nodes", -1, "preload this many nodes instead of [data] num_nodes (0 = no preload)")
		cpuprofile  = fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
		metricsAddr = fs.String("metrics-addr", "", "serve live load metrics for Prometheus at http://`ADDR`/metrics while the run lasts, e.g. 127.0.0.1:9464 (default: off)")
		targetPID   = fs.Int("target-pid", 0, "`PID` of the target process (with --endpoint): each repetition records its CPU time per request (cpu_per_op),\n"+
			"and its CPU and memory are sampled for the dashboard\n"+
			"(default: none for --endpoint; this process for the built-in target, which then includes the load generator's CPU)")
		instr = fs.String("instructions", "", "count the target's instructions per request: `callgrind` (the --target-pid process, or the first of its\n"+
			"descendants that does, runs under valgrind --tool=callgrind --instr-atstart=no; a Go target with\n"+
			"GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off). Default: not counted")
		senders = fs.Bool("senders", false, "send from goroutines spread over every core instead of the one-core event loop (Linux): for rates beyond what one core sends")
		lbls    labels
		tOpts   target.Options
		comp    competitorFlags
	)
	builtinTargetFlags(fs, &lbls, &tOpts)
	comp.define(fs)
	applyShard := shardFlags(fs)
	fs.Usage = cli.Usage(fs, usage, usageTail)
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q (subcommands are list, competitors, check, task, merge, ab and target; flags start with --)", fs.Arg(0))
	}
	if *scen == "" {
		return cli.Usagef("--scenario is required: a built-in name (m18-run list) or a TOML file; e.g. --scenario ci/fast_regression_check")
	}
	sc, err := scenario.Load(*scen)
	if err != nil {
		return err
	}
	knobs := tOpts != (target.Options{})
	if *endpoint != "" && knobs {
		return cli.Usagef("the --target-* flags set the built-in target's knobs; they cannot apply to --endpoint (drop one or the other)")
	}
	adapter, compURL, err := comp.adapter()
	if err != nil {
		return cli.Usagef("%v", err)
	}
	if adapter != nil && (*endpoint != "" || knobs) {
		return cli.Usagef("--competitor runs against the competitor; drop --endpoint and the --target-* flags (they are Engram's)")
	}

	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	cfg := load.Config{
		Scenario: sc, Endpoint: *endpoint, Target: "external", Duration: *duration, Rate: *rate,
		Repetitions: *reps, Seed: *seed, MaxInFlight: *maxInFlight, Timeout: *timeout,
		Progress: progress, Labels: lbls, Senders: *senders, TargetPID: *targetPID,
		Instructions: *instr,
	}
	if *instr != "" && (*instr != load.InstructionsCallgrind || *targetPID == 0) {
		return cli.Usagef("--instructions %q: the only counter is callgrind, and it needs --target-pid of a target under valgrind --tool=callgrind --instr-atstart=no", *instr)
	}
	if err := applyShard(&cfg); err != nil {
		return cli.Usagef("%v", err)
	}
	if *warmup != "" {
		if cfg.Warmup, cfg.AutoWarmup, err = load.ParseWarmup(*warmup); err != nil {
			return cli.Usagef("--warmup %v", err)
		}
	}
	if *nodes >= 0 {
		cfg.Nodes = nodes
	}
	if adapter != nil {
		defer adapter.Close()
		cfg.Adapter, cfg.Endpoint = adapter, compURL
	}
	if *endpoint == "" && adapter == nil {
		tOpts.Seed = *seed
		inst, err := target.Start(tOpts)
		if err != nil {
			return err
		}
		defer inst.Close()
		cfg.Endpoint, cfg.Target = inst.URL(), "builtin"
		if cfg.TargetPID == 0 {
			cfg.TargetPID = os.Getpid()
		}
	}

	fp, err := hw.Probe(ctx, hw.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "m18-run: hardware probe: %v\n", err)
	}
	cfg.Hardware = fp
	cfg.Labels = append(hw.Labels(fp), cfg.Labels...)
	if v, err := gitInfo("."); err == nil {
		cfg.Commit, cfg.Ref, cfg.CommitTime = v.commit, v.ref, v.time
	} else if !*quiet {
		fmt.Fprintf(stderr, "m18-run: no git commit recorded: %v\n", err)
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	if *metricsAddr != "" {
		lm := live.New(sc.Ref)
		addr, err := lm.Serve(ctx, *metricsAddr)
		if err != nil {
			return cli.Usagef("--metrics-addr: %v", err)
		}
		fmt.Fprintf(stderr, "m18-run: live metrics at http://%s/metrics\n", addr)
		cfg.Observe = lm.Observe
	}
	pid := *targetPID
	if cfg.Target == "builtin" {
		pid = os.Getpid() // the built-in target shares this process with the load generator
	}
	var sampler *procstat.Sampler
	if pid > 0 {
		sampler = procstat.NewSampler(pid, time.Second)
		sampler.Start(ctx)
	}

	doc, runErr := load.Run(ctx, cfg)
	if sampler != nil {
		if s := procstat.Summarize(sampler.Stop()); doc != nil && s.Samples >= 2 {
			if doc.Tasks == nil {
				doc.Tasks = map[string]any{}
			}
			doc.Tasks["016"] = map[string]any{"target": s}
		}
	}
	if doc != nil {
		path, err := writeResult(*output, doc, runErr)
		if err != nil {
			return err
		}
		if err := load.WriteSummary(stdout, doc); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nresult written to %s\n", path)
	}
	if errors.Is(runErr, load.ErrValidation) {
		return fmt.Errorf("scenario %s: %w", sc.Ref, runErr)
	}
	return partial(runErr)
}

// builtinTargetFlags defines --label and the --target-* flags that set the
// knobs of the built-in reference target (target.KnobFlags, as m18-target
// defines them without the prefix).
func builtinTargetFlags(fs *flag.FlagSet, lbls *labels, o *target.Options) {
	fs.Var(lbls, "label", "runner label recorded in the result (repeatable)")
	target.KnobFlags(fs, "target-", o)
}

// writeResult writes doc to output, or to output.partial when the run was
// interrupted, and returns the path written.
func writeResult(output string, doc *result.Document, runErr error) (string, error) {
	path := output
	if errors.Is(runErr, load.ErrInterrupted) {
		path += ".partial"
	}
	if err := result.WriteFile(path, doc); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// partial says of an interrupted run that its result is partial.
func partial(err error) error {
	if errors.Is(err, load.ErrInterrupted) {
		return fmt.Errorf("%w (partial result, not a valid sample)", err)
	}
	return err
}

// serveTarget is m18-run target: m18-target's command, so that m18-run ab
// (and go run ./cmd/m18-run) need no other binary to run a target in its
// own process.
func serveTarget(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return targetcmd.Serve(ctx, "m18-run target", args, stdout, stderr)
}

func list(_ context.Context, _ []string, stdout, _ io.Writer) error {
	for _, b := range scenario.Builtins() {
		fmt.Fprintf(stdout, "%-38s %s\n", b.Name, b.Description)
	}
	return nil
}

// check validates each file (or built-in name) and lists every problem.
func check(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cli.Usagef("give one or more scenario files (or built-in names)")
	}
	bad := 0
	for _, ref := range args {
		if _, err := scenario.Load(ref); err != nil {
			bad++
			fmt.Fprintln(stderr, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", ref)
	}
	if bad > 0 {
		return cli.Usagef("%d of %d scenario files invalid", bad, len(args))
	}
	return nil
}
