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

	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/internal/version"
	"github.com/engram/m18-gate/runners/hw"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
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
  m18-run check FILE|NAME...             validate scenario files without running them
  m18-run task ID|list [flags]           run an M18 task (001…) with its criteria (m18-run task --help)
  m18-run merge SHARD.json...            merge the documents of a sharded run (m18-run merge --help)
  m18-run ab [--slowdown 30]             the whole gate on this machine: reference target against
                                         a slowed copy, interleaved, compared; prints the verdict

Without --endpoint the built-in reference target is started in-process on
127.0.0.1; the --target-* flags set its knobs.

Flags:
`

const usageTail = `
Exit codes:
  0    ok
  1    the scenario's [validation] failed (the message says which check, by how much)
  3    bad input, target unreachable, or preload failed (the message says how to fix it)
  4    the load generator, not the target, was the bottleneck (too many late or
       dropped sends): the result is written but does not describe the target
  130  interrupted: the partial result is written to OUTPUT.partial

Example:
  go run ./cmd/m18-run --scenario ci/fast_regression_check
  m18-run --scenario ci/smoke --endpoint http://127.0.0.1:7432 --repetitions 5 --output smoke.json
  m18-run --scenario ci/smoke --endpoint http://10.0.0.1:7432 --shard 0/2 --start-at 2026-12-06T08:00:00Z --output shard-0.json
`

type labels []string

func (l *labels) String() string     { return strings.Join(*l, ",") }
func (l *labels) Set(s string) error { *l = append(*l, s); return nil }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return list(stdout)
		case "check":
			return check(args[1:], stdout, stderr)
		case "task":
			return task(args[1:], stdout, stderr)
		case "merge":
			return mergeCmd(args[1:], stdout, stderr)
		case "ab":
			return ab(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, "m18-run", version.String())
			return exitOK
		}
	}
	fs := cli.NewFlagSet("m18-run", stderr)
	var (
		scen        = fs.String("scenario", "", "scenario: a built-in `NAME` (m18-run list) or a TOML file path (required)")
		endpoint    = fs.String("endpoint", "", "target base `URL`, e.g. http://127.0.0.1:7432 (default: start the built-in reference target)")
		duration    = fs.Duration("duration", 0, "measured phase per repetition (default: the scenario's total_seconds)")
		warmup      = fs.String("warmup", "", "warm-up before each measured phase, a Go `duration` (default: the scenario's)")
		rate        = fs.Float64("rate", 0, "mean rate in ops/s, keeping the arrival pattern's shape (default: the scenario's)")
		reps        = fs.Int("repetitions", 1, "independent repetitions of warm-up + measured phase")
		seed        = fs.Uint64("seed", 0xDEADBEEF, "seed of every generated value")
		output      = fs.String("output", "result.json", "result document `FILE`")
		quiet       = fs.Bool("quiet", false, "no progress on stderr")
		maxInFlight = fs.Int("max-in-flight", 0, "cap on requests in flight (default: peak rate × timeout, within 1000…10000)")
		timeout     = fs.Duration("timeout", load.DefaultTimeout, "timeout of one request")
		nodes       = fs.Int("nodes", -1, "preload this many nodes instead of [data] num_nodes (0 = no preload)")
		cpuprofile  = fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
		senders     = fs.Bool("senders", false, "send from goroutines spread over every core instead of the one-core event loop (Linux): for rates beyond what one core sends")
		lbls        labels
		tOpts       target.Options
	)
	builtinTargetFlags(fs, &lbls, &tOpts)
	applyShard := shardFlags(fs)
	fs.Usage = cli.Usage(fs, usage, usageTail)
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "m18-run: unexpected argument %q (subcommands are list, check and task; flags start with --)\n", fs.Arg(0))
		return exitInput
	}
	if *scen == "" {
		fmt.Fprintln(stderr, "m18-run: --scenario is required: a built-in name (m18-run list) or a TOML file; e.g. --scenario ci/fast_regression_check")
		return exitInput
	}
	sc, err := scenario.Load(*scen)
	if err != nil {
		fmt.Fprintf(stderr, "m18-run: %v\n", err)
		return exitInput
	}
	knobs := tOpts != (target.Options{})
	if *endpoint != "" && knobs {
		fmt.Fprintln(stderr, "m18-run: the --target-* flags set the built-in target's knobs; they cannot apply to --endpoint (drop one or the other)")
		return exitInput
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var progress io.Writer = stderr
	if *quiet {
		progress = nil
	}
	cfg := load.Config{
		Scenario: sc, Endpoint: *endpoint, Target: "external", Duration: *duration, Rate: *rate,
		Repetitions: *reps, Seed: *seed, MaxInFlight: *maxInFlight, Timeout: *timeout,
		Progress: progress, Labels: lbls, Senders: *senders,
	}
	if err := applyShard(&cfg); err != nil {
		fmt.Fprintf(stderr, "m18-run: %v\n", err)
		return exitInput
	}
	if *warmup != "" {
		w, err := time.ParseDuration(*warmup)
		if err != nil {
			fmt.Fprintf(stderr, "m18-run: --warmup %q is not a Go duration (e.g. 5s, 1m): %v\n", *warmup, err)
			return exitInput
		}
		cfg.Warmup = &w
	}
	if *nodes >= 0 {
		cfg.Nodes = nodes
	}
	if *endpoint == "" {
		tOpts.Seed = *seed
		inst, err := target.Start(tOpts)
		if err != nil {
			fmt.Fprintf(stderr, "m18-run: %v\n", err)
			return exitInput
		}
		defer inst.Close()
		cfg.Endpoint, cfg.Target = inst.URL(), "builtin"
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
			fmt.Fprintf(stderr, "m18-run: --cpuprofile: %v\n", err)
			return exitInput
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "m18-run: --cpuprofile: %v\n", err)
			return exitInput
		}
		defer pprof.StopCPUProfile()
	}

	doc, runErr := load.Run(ctx, cfg)
	if doc != nil {
		path, err := writeResult(*output, doc, runErr)
		if err != nil {
			fmt.Fprintf(stderr, "m18-run: %v\n", err)
			return exitInput
		}
		if err := load.WriteSummary(stdout, doc); err != nil {
			return exitInput
		}
		fmt.Fprintf(stdout, "\nresult written to %s\n", path)
	}
	if code, ok := runStopped(stderr, "m18-run", runErr); ok {
		return code
	}
	switch {
	case runErr == nil:
		return exitOK
	case errors.Is(runErr, load.ErrValidation):
		fmt.Fprintf(stderr, "m18-run: scenario %s: %v\n", sc.Ref, runErr)
		return exitValidation
	}
	fmt.Fprintf(stderr, "m18-run: %v\n", runErr)
	return exitInput
}

// builtinTargetFlags defines --label and the --target-* flags that set the
// knobs of the built-in reference target.
func builtinTargetFlags(fs *flag.FlagSet, lbls *labels, o *target.Options) {
	fs.Var(lbls, "label", "runner label recorded in the result (repeatable)")
	fs.Float64Var(&o.Slowdown, "target-slowdown", 0, "built-in target: extra CPU work per request, `PCT` of its handling time")
	fs.DurationVar(&o.StallEvery, "target-stall-every", 0, "built-in target: stall the whole server every `D`")
	fs.DurationVar(&o.StallFor, "target-stall-for", 0, "built-in target: each stall lasts `D`")
	fs.Float64Var(&o.FailRate, "target-fail-rate", 0, "built-in target: fraction `F` of requests answered 500")
	fs.Float64Var(&o.Capacity, "target-capacity", 0, "built-in target: admit at most `OPS` per second (others queue)")
	fs.Float64Var(&o.LeakMBPerMin, "target-leak", 0, "built-in target: retain `MB_PER_MIN` of memory on purpose")
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

// runStopped reports a run that was interrupted (exit 130) or whose load
// generator was the bottleneck (exit 4), prefixing the message with prog.
// ok is false for any other outcome.
func runStopped(stderr io.Writer, prog string, runErr error) (code int, ok bool) {
	switch {
	case errors.Is(runErr, load.ErrInterrupted):
		fmt.Fprintf(stderr, "%s: %v (partial result, not a valid sample)\n", prog, runErr)
		return exitInterrupted, true
	case errors.Is(runErr, load.ErrGeneratorBottleneck):
		fmt.Fprintf(stderr, "%s: %v\n", prog, runErr)
		return exitGenerator, true
	}
	return 0, false
}

func list(w io.Writer) int {
	for _, b := range scenario.Builtins() {
		fmt.Fprintf(w, "%-38s %s\n", b.Name, b.Description)
	}
	return exitOK
}

// check validates each file (or built-in name) and lists every problem.
func check(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "m18-run check: give one or more scenario files (or built-in names)")
		return exitInput
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
		fmt.Fprintf(stderr, "%d of %d scenario files invalid\n", bad, len(args))
		return exitInput
	}
	return exitOK
}
