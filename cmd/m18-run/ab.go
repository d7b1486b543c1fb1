package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/hw"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/target"
)

const abUsage = `m18-run ab is the whole gate on one machine: the built-in reference target
(base) against a copy made slower on purpose (head, --slowdown), measured
interleaved A B B A … with a fresh target for every run, then compared
pair by pair as the action's ab mode does; it prints the verdict.

Usage:
  m18-run ab [--slowdown 30] [--scenario ci/fast_regression_check] [flags]

Every run starts its own in-process target, so each preloads the same
dataset into an empty store: no run measures what an earlier one stored.
It writes DIR/base-NN.json, DIR/head-NN.json, DIR/verdict.json and
DIR/verdict.md (--out). --slowdown 0 is an A/A run: the verdict should be
no regression.

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
	scen := fs.String("scenario", "ci/fast_regression_check", "scenario: a built-in `NAME` or a TOML file")
	slowdown := fs.Float64("slowdown", 30, "head target's extra CPU work per request, `PCT` of its handling time (0: A/A)")
	reps := fs.Int("repetitions", 8, "runs per side (at least 5 for p < 0.01)")
	duration := fs.Duration("duration", 5*time.Second, "measured phase of each run (0: the scenario's)")
	warmup := fs.String("warmup", "1s", "warm-up before each measured phase: a Go duration, auto (ends when its windows settle, at most the scenario's warm-up) or auto:MAX (auto:5s)")
	rate := fs.Float64("rate", 300, "mean rate in ops/s, light enough that generator and target share 2 cores (0: the scenario's)")
	seed := fs.Uint64("seed", 0xDEADBEEF, "seed of every generated value")
	out := fs.String("out", "m18-ab", "`DIR` for the results and the verdict")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	fs.Usage = cli.Usage(fs, abUsage, cli.ExitCodes(abCodes)+`
Example:
  go run ./cmd/m18-run ab                    # head 30 % slower; prints the verdict
  go run ./cmd/m18-run ab --slowdown 0       # A/A: no regression
`)
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("ab: unexpected argument %q (see --help)", fs.Arg(0))
	}
	warm, autoWarm, err := load.ParseWarmup(*warmup)
	if err != nil {
		return cli.Usagef("ab: --warmup %v", err)
	}
	if *reps < 2 {
		return cli.Usagef("ab: --repetitions %d: want at least 2 (5 or more for p < 0.01)", *reps)
	}
	sc, err := scenario.Load(*scen)
	if err != nil {
		return cli.Usagef("ab: %v", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return cli.Usagef("ab: --out: %v", err)
	}
	fp, err := hw.Probe(ctx, hw.Options{})
	if err != nil && !*quiet {
		fmt.Fprintf(stderr, "m18-run ab: hardware probe: %v\n", err)
	}
	progress := stderr
	if *quiet {
		progress = io.Discard
	}

	// one runs side (base or head) once against a fresh target.
	one := func(side string, i int) (string, error) {
		o := target.Options{Seed: *seed}
		if side == "head" {
			o.Slowdown = *slowdown
		}
		inst, err := target.Start(o)
		if err != nil {
			return "", err
		}
		defer inst.Close()
		cfg := load.Config{
			Scenario: sc, Endpoint: inst.URL(), Target: "builtin", Duration: *duration, Warmup: warm, AutoWarmup: autoWarm, Rate: *rate,
			Repetitions: 1, Seed: *seed, Hardware: fp, Labels: append(hw.Labels(fp), "m18-side:"+side),
		}
		doc, err := load.Run(ctx, cfg)
		if doc == nil {
			return "", err
		}
		switch {
		case err == nil, errors.Is(err, load.ErrValidation):
			// The scenario's bars are not the question here; the comparison is.
		case errors.Is(err, load.ErrGeneratorBottleneck):
			fmt.Fprintf(progress, "m18-run ab: %s run %d: %v (kept; expect an inconclusive verdict on a busy machine)\n", side, i+1, err)
		default:
			return "", err
		}
		path := filepath.Join(*out, fmt.Sprintf("%s-%02d.json", side, i+1))
		if err := result.WriteFile(path, doc); err != nil {
			return "", err
		}
		fmt.Fprintf(progress, "m18-run ab: %s %2d/%d  p50 %.3f ms  p99 %.3f ms\n", side, i+1, *reps, doc.Repetitions[0].Overall.Latency.P50, doc.Repetitions[0].Overall.Latency.P99)
		return path, nil
	}

	fmt.Fprintf(progress, "m18-run ab: %s, %d runs per side of %v, head --slowdown %v%%, interleaved A B B A …\n", sc.Ref, *reps, *duration, *slowdown)
	var base, head []string
	for i := range *reps {
		order := []string{"base", "head"}
		if i%2 == 1 {
			order = []string{"head", "base"}
		}
		for _, side := range order {
			path, err := one(side, i)
			if errors.Is(err, load.ErrInterrupted) || ctx.Err() != nil {
				return fmt.Errorf("ab: %w", load.ErrInterrupted)
			}
			if err != nil {
				return fmt.Errorf("ab: %s run %d: %w", side, i+1, err)
			}
			if side == "base" {
				base = append(base, path)
			} else {
				head = append(head, path)
			}
		}
	}

	p := gate.DefaultPolicy()
	p.Paired = true
	v, err := gate.CompareFiles(base, head, p)
	if err != nil {
		return fmt.Errorf("ab: %w", err)
	}
	v.Markdown = render.Markdown(v, render.Options{})
	if err := os.WriteFile(filepath.Join(*out, "verdict.md"), []byte(v.Markdown), 0o644); err != nil {
		return fmt.Errorf("ab: %w", err)
	}
	if err := verdict.WriteFile(filepath.Join(*out, "verdict.json"), v); err != nil {
		return fmt.Errorf("ab: %w", err)
	}
	if err := render.Text(stdout, v); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nverdict written to %s\n", filepath.Join(*out, "verdict.json"))
	if err := v.Summary.Err(); err != nil {
		return fmt.Errorf("ab: %w", err)
	}
	return nil
}
