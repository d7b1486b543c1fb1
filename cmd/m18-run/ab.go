package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/internal/tailbuf"
	"github.com/engram/m18-gate/runners/hw"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/target"
	"github.com/engram/m18-gate/runners/tasks"
)

const abUsage = `m18-run ab is the whole gate on one machine, as the action runs it: the
built-in reference target (base) against a copy made slower on purpose
(head, --slowdown), measured in pairs with a fresh target for every run,
compared pair by pair, looking again at more pairs while undecided, and a
regression confirmed on fresh pairs before it is reported; it prints the
verdict.

Usage:
  m18-run ab [--slowdown 10] [--scenario ci/pr_gate] [flags]

A pair's base and head run at the same time (--duet, the default), so
that both sides share whatever else the machine is doing: each side is a
child m18-run against its own reference target, itself a process of its
own (m18-run target), and records that process's CPU time per request
(cpu_per_op, the target's alone). The side started first alternates.
--duet=false runs the sides one after the other in this process, each
against a built-in target in this process (cpu_per_op then counts the
load generator too), interleaved A B B A ….

The gate looks at --repetitions pairs and, while the verdict is not clear,
at 1.5× and 2× as many (--looks auto, as the action's looks input; each
look at its share of the gate's alpha, 0.01); a regression is then
measured again on fresh pairs and reported only when the re-run regresses
too (--confirm). The re-run looks in turn: first at as many pairs as the
exact test needs at half the alpha, more when the first look's interval
was wide (at most the pairs of the last look), then at twice as many
while it can neither confirm nor clear the regression
(m18-gate compare --confirm-looks).

It writes DIR/base-NN.json, DIR/head-NN.json (the confirming pairs as
DIR/confirm-base-NN.json …), DIR/verdict.json and DIR/verdict.md (--out;
the first verdict of a confirmed gate as DIR/first-verdict.json).
--slowdown 0 is an A/A run: the verdict should be no regression.

Flags:
`

var abCodes = map[int]string{
	cli.ExitOK:          "no regression (pass, or inconclusive: the verdict says which and how many runs would settle it)",
	cli.ExitFail:        "regression: the head is slower",
	cli.ExitCompetitive: "competitive regression only",
	cli.ExitUsage:       "bad flags or scenario, or a run failed",
	exitInterrupted:     "interrupted",
}

// ab runs the local A/B gate; its error maps to the exit code (exitCode).
func ab(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("m18-run ab", stderr)
	scen := fs.String("scenario", "ci/pr_gate", "scenario: a built-in `NAME` or a TOML file")
	slowdown := fs.Float64("slowdown", 10, "head's extra CPU time per request, `PCT` percent of its target process's (0: A/A)")
	reps := fs.Int("repetitions", 10, "pairs at the first look (at least 2; 8 or more for looks)")
	looks := fs.String("looks", "auto", "sequential `PLAN` in pairs: auto (--repetitions, then 1.5× and 2× while undecided;\n"+
		"off below 8), off (decide once on --repetitions pairs) or increasing numbers such as 10,15,20 (--repetitions unused)")
	confirm := fs.Bool("confirm", true, "measure a regression again on fresh pairs and report it only when the re-run regresses too")
	duet := fs.Bool("duet", true, "run a pair's base and head at the same time, each in its own child process (false: one after the other here)")
	duration := fs.Duration("duration", 0, "measured phase of each run (0: the scenario's)")
	warmup := fs.String("warmup", "", "warm-up before each measured phase: a Go duration, auto (ends when its windows settle, at most the scenario's warm-up)\n"+
		"or auto:MAX (auto:5s) (default: the scenario's)")
	rate := fs.Float64("rate", 0, "mean rate in ops/s per side (0: the scenario's)")
	seed := fs.Uint64("seed", 0xDEADBEEF, "seed of every generated value")
	out := fs.String("out", "m18-ab", "`DIR` for the results and the verdict")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	fs.Usage = cli.Usage(fs, abUsage, cli.ExitCodes(abCodes)+`
Example:
  go run ./cmd/m18-run ab                    # head 10 % slower; prints the verdict
  go run ./cmd/m18-run ab --slowdown 0       # A/A: no regression
`)
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q (see --help)", fs.Arg(0))
	}
	r := abRunner{scenario: *scen, slowdown: *slowdown, duration: *duration, warmup: *warmup, rate: *rate, seed: *seed, out: *out, duet: *duet, progress: stderr}
	if *quiet {
		r.progress = io.Discard
	}
	var err error
	if *warmup != "" {
		if r.warm, r.autoWarm, err = load.ParseWarmup(*warmup); err != nil {
			return cli.Usagef("--warmup %v", err)
		}
	}
	if *reps < 2 {
		return cli.Usagef("--repetitions %d: want at least 2 (8 or more for the exact paired test to reach p < 0.01)", *reps)
	}
	plan, err := abLooks(*looks, *reps)
	if err != nil {
		return cli.Usagef("--looks: %v (or auto; off decides once on --repetitions pairs)", err)
	}
	if r.sc, err = scenario.Load(*scen); err != nil {
		return cli.Usagef("%v", err)
	}
	if *duet {
		if r.self, err = os.Executable(); err != nil {
			return fmt.Errorf("--duet runs this program again and cannot find it: %w (use --duet=false)", err)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return cli.Usagef("--out: %v", err)
	}
	// A first verdict is this run's only when this run confirms.
	firstPath := filepath.Join(*out, "first-verdict.json")
	if err := os.Remove(firstPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if !*duet {
		fp, err := hw.Probe(ctx, hw.Options{})
		if err != nil {
			fmt.Fprintf(r.progress, "m18-run ab: hardware probe: %v\n", err)
		}
		r.fp = fp
	}

	design := "one after the other, interleaved A B B A …"
	if *duet {
		design = "base and head at once, each target in a process of its own"
	}
	fmt.Fprintf(r.progress, "m18-run ab: %s, head --slowdown %v%%, pairs %s, %s\n", r.sc.Ref, *slowdown, cmp.Or(plan.String(), strconv.Itoa(*reps)), design)
	p := gate.DefaultPolicy()
	p.Paired = true
	p.Looks = plan
	ends := []int(plan)
	if ends == nil {
		ends = []int{*reps}
	}
	var base, head []string
	var v *verdict.Verdict
	for _, n := range ends {
		b, h, err := r.pairs(ctx, "", len(base), n)
		base, head = append(base, b...), append(head, h...)
		if err != nil {
			return err
		}
		if v, err = gate.CompareFiles(base, head, p); err != nil {
			return err
		}
		s := v.Sequential
		if s == nil || !s.Continue {
			break
		}
		fmt.Fprintf(r.progress, "m18-run ab: look %d of %d at %d pairs: %s\n", s.Look, len(s.Looks), s.Pairs, s.Reason)
	}
	if plan := gate.ConfirmLooks(v, p); *confirm && plan != nil {
		if err := verdict.WriteFile(firstPath, v); err != nil {
			return err
		}
		fmt.Fprintf(r.progress, "m18-run ab: regressed; confirming on fresh pairs, looking at %s of them\n", plan)
		p.Looks = plan
		var base, head []string
		for _, n := range plan {
			b, h, err := r.pairs(ctx, "confirm-", len(base), n)
			base, head = append(base, b...), append(head, h...)
			if err != nil {
				return err
			}
			if v, err = gate.ConfirmFiles(firstPath, base, head, p); err != nil {
				return fmt.Errorf("confirming on %d pairs: %w", n, err)
			}
			s := v.Confirmation.Sequential
			if s == nil || !s.Continue {
				break
			}
			fmt.Fprintf(r.progress, "m18-run ab: confirming look %d of %d at %d pairs: %s\n", s.Look, len(s.Looks), s.Pairs, s.Reason)
		}
	}
	v.Markdown = render.Markdown(v, render.Options{})
	if err := os.WriteFile(filepath.Join(*out, "verdict.md"), []byte(v.Markdown), 0o644); err != nil {
		return err
	}
	if err := verdict.WriteFile(filepath.Join(*out, "verdict.json"), v); err != nil {
		return err
	}
	if err := render.Text(stdout, v); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nverdict written to %s\n", filepath.Join(*out, "verdict.json"))
	return v.Summary.Err()
}

// abLooks is the sequential plan of --looks: auto is the action's
// (gate.AutoLooks), off is none.
func abLooks(s string, reps int) (gate.Looks, error) {
	switch s {
	case "off":
		return nil, nil
	case "auto":
		return gate.AutoLooks(reps), nil
	}
	return gate.ParseLooks(s)
}

// abRunner measures the pairs of m18-run ab.
type abRunner struct {
	scenario string // as given: a built-in name or a file, for child runs
	sc       *scenario.Scenario
	slowdown float64
	duration time.Duration
	warmup   string // as given, for child runs; warm and autoWarm parsed
	warm     *time.Duration
	autoWarm bool
	rate     float64
	seed     uint64
	out      string
	duet     bool
	self     string             // this program, run once per side in duet pairs
	fp       result.Fingerprint // this machine's, for in-process runs
	progress io.Writer
}

// pairs measures pairs from+1 … n of the files named prefix+side-NN.json
// and returns their paths, base's and head's, as far as they were
// written. Pair i starts with the base when i is even (A B, B A, …).
func (r *abRunner) pairs(ctx context.Context, prefix string, from, n int) (base, head []string, err error) {
	for i := from; i < n; i++ {
		order := [2]string{"base", "head"}
		if i%2 == 1 {
			order = [2]string{"head", "base"}
		}
		var paths [2]string
		if r.duet {
			paths, err = r.duetPair(ctx, prefix, i, order)
		} else {
			for k, side := range order {
				if paths[k], err = r.inProcess(ctx, prefix, side, i); err != nil {
					break
				}
			}
		}
		if errors.Is(err, load.ErrInterrupted) || ctx.Err() != nil {
			return base, head, load.ErrInterrupted
		}
		if err != nil {
			return base, head, fmt.Errorf("%spair %d: %w", prefix, i+1, err)
		}
		if order[0] == "head" {
			paths[0], paths[1] = paths[1], paths[0]
		}
		base, head = append(base, paths[0]), append(head, paths[1])
		fmt.Fprintf(r.progress, "m18-run ab: %spair %2d/%d done\n", prefix, i+1, n)
	}
	return base, head, nil
}

func (r *abRunner) path(prefix, side string, i int) string {
	return filepath.Join(r.out, fmt.Sprintf("%s%s-%02d.json", prefix, side, i+1))
}

// knobs are side's target's knobs: the head's slowdown, of the target
// process's CPU time per request.
func (r *abRunner) knobs(side string) target.Options {
	if side == "head" {
		return target.Options{Slowdown: r.slowdown, SlowdownOf: target.SlowdownOfProcess}
	}
	return target.Options{}
}

// inProcess runs side once against a fresh in-process target.
func (r *abRunner) inProcess(ctx context.Context, prefix, side string, i int) (string, error) {
	o := r.knobs(side)
	o.Seed = r.seed
	inst, err := target.Start(o)
	if err != nil {
		return "", err
	}
	defer inst.Close()
	cfg := load.Config{
		Scenario: r.sc, Endpoint: inst.URL(), Target: "builtin", Duration: r.duration, Warmup: r.warm, AutoWarmup: r.autoWarm, Rate: r.rate,
		Repetitions: 1, Seed: r.seed, Hardware: r.fp, Labels: append(hw.Labels(r.fp), "m18-side:"+side), TargetPID: os.Getpid(),
	}
	doc, err := load.Run(ctx, cfg)
	if doc == nil {
		return "", err
	}
	if err := r.judge(side, i, err); err != nil {
		return "", err
	}
	path := r.path(prefix, side, i)
	return path, result.WriteFile(path, doc)
}

// judge says whether a run's error leaves its result usable: a failed
// [validation] does (the scenario's bars are not the question here; the
// comparison is), and so does a generator that slipped, with a warning.
func (r *abRunner) judge(side string, i int, err error) error {
	switch {
	case err == nil, errors.Is(err, load.ErrValidation):
		return nil
	case errors.Is(err, load.ErrGeneratorBottleneck):
		fmt.Fprintf(r.progress, "m18-run ab: %s run %d: %v (kept; expect an inconclusive verdict on a busy machine)\n", side, i+1, err)
		return nil
	}
	return err
}

// duetPair runs base and head at once, order[0] started first, each as a
// child m18-run against its own reference target in a process of its own
// (m18-run target, started and stopped as the tasks start theirs), so that
// a run's CPU time per request is its target's alone; it returns their
// result files in order's order.
func (r *abRunner) duetPair(ctx context.Context, prefix string, i int, order [2]string) ([2]string, error) {
	var paths [2]string
	var sides [2]*duetSide
	defer func() {
		for _, s := range sides {
			s.stopTarget()
		}
	}()
	// Both targets first, then both runs, so that the runs start together.
	for k, side := range order {
		paths[k] = r.path(prefix, side, i)
		s, err := r.startTarget(ctx, side)
		if err != nil {
			return paths, fmt.Errorf("%s: %w", side, err)
		}
		sides[k] = s
	}
	for k, side := range order {
		if err := r.startRun(ctx, sides[k], side, paths[k]); err != nil {
			if k == 1 {
				// Interrupted, the first side's run has its signal and
				// writes its partial result; otherwise it measures alone.
				if ctx.Err() == nil {
					sides[0].run.Process.Kill()
				}
				sides[0].run.Wait()
			}
			return paths, fmt.Errorf("%s: %w", side, err)
		}
	}
	var firstErr error
	for k, s := range sides {
		err := s.run.Wait()
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			switch ee.ExitCode() {
			case exitValidation:
				err = nil
			case exitGenerator:
				err = r.judge(order[k], i, load.ErrGeneratorBottleneck)
			case exitInterrupted:
				err = load.ErrInterrupted
			}
		}
		if err != nil {
			err = fmt.Errorf("%s: %s: %w", order[k], r.self, err)
			if e := s.runErr.String(); e != "" {
				err = fmt.Errorf("%w\n%s", err, e)
			}
		}
		// A target that ended before its run did failed the run, whatever
		// the run made of it.
		if terr := s.stopTarget(); terr != nil && ctx.Err() == nil {
			err = errors.Join(err, fmt.Errorf("%s: %w", order[k], terr))
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return paths, firstErr
}

// duetSide is one side of a duet pair: its target and the run against it.
type duetSide struct {
	target *tasks.Server
	run    *exec.Cmd
	runErr *tailbuf.Buffer
}

// startTarget starts side's target and returns once it answers.
func (r *abRunner) startTarget(ctx context.Context, side string) (*duetSide, error) {
	targs := []string{r.self, "target", "--addr", "{addr}", "--seed", strconv.FormatUint(r.seed, 10)}
	targs = append(targs, target.KnobArgs(r.knobs(side))...)
	srv, err := tasks.StartServer(ctx, tasks.Env{TargetCommand: tasks.ShellJoin(targs), Dir: r.out}, tasks.ServerParams{})
	if err != nil {
		return nil, err
	}
	return &duetSide{target: srv, runErr: tailbuf.New(2000)}, nil
}

// startRun starts side's run against s's target, writing path.
func (r *abRunner) startRun(ctx context.Context, s *duetSide, side, path string) error {
	args := []string{"--scenario", r.scenario, "--output", path, "--quiet", "--repetitions", "1",
		"--seed", strconv.FormatUint(r.seed, 10), "--label", "m18-side:" + side,
		"--endpoint", s.target.URL, "--target-pid", strconv.Itoa(s.target.PID)}
	if r.duration > 0 {
		args = append(args, "--duration", r.duration.String())
	}
	if r.warmup != "" {
		args = append(args, "--warmup", r.warmup)
	}
	if r.rate > 0 {
		args = append(args, "--rate", strconv.FormatFloat(r.rate, 'g', -1, 64))
	}
	c := exec.CommandContext(ctx, r.self, args...)
	c.Stderr = s.runErr
	// Interrupted, a run writes its partial result and exits 130.
	c.Cancel = func() error { return c.Process.Signal(os.Interrupt) }
	c.WaitDelay = 10 * time.Second
	if err := c.Start(); err != nil {
		return err
	}
	s.run = c
	return nil
}

// stopTarget stops the side's target and returns tasks.ErrTargetEnded if
// it had ended on its own; it does nothing for a nil side or a second
// time.
func (s *duetSide) stopTarget() error {
	if s == nil || s.target == nil {
		return nil
	}
	err := s.target.Stop()
	s.target = nil
	return err
}
