package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
)

// competitive compares Engram's position against a competitor (and, with
// --base and --head, Engram against itself first: an internal regression
// still exits 1).
func competitive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("competitive", stderr)
	ff, last := multiFiles(6)
	eng, vs, beng, bvs, base, head := ff[0], ff[1], ff[2], ff[3], ff[4], ff[5]
	fs.Var(eng, "engram", "Engram's runs `FILE`... (m18 results; repeat, or list several after the flag)")
	fs.Var(vs, "versus", "the competitor's runs `FILE`... on the same runner (m18-run --competitor NAME)")
	fs.Var(beng, "baseline-engram", "Engram's runs at the baseline `FILE`...")
	fs.Var(bvs, "baseline-versus", "the competitor's runs at the baseline `FILE`... (may be the same files as --versus)")
	fs.Var(base, "base", "internal comparison: Engram's base runs `FILE`... (with --head; an internal regression exits 1)")
	fs.Var(head, "head", "internal comparison: Engram's head runs `FILE`...")
	configPath := fs.String("config", "", "policy `FILE` with [milestone] targets (default "+config.DefaultPath+" when it exists)")
	var compThreshold percent
	fs.Var(&compThreshold, "competitive-threshold", "position worsening that regresses, in `PERCENT` (default 10, or the config's)")
	alpha := fs.Float64("alpha", 0, "significance level after Benjamini-Hochberg (default 0.01, or the config's)")
	allowMismatch := fs.Bool("allow-fingerprint-mismatch", false, "compare runs from different hardware fingerprints")
	paired := fs.Bool("paired", false, "the four sides ran in rounds (each side's i-th run, by start time, in round i): decide the\n"+
		"position's move round by round (paired t test of the log ratio of ratios), which cancels what the\n"+
		"machine did in each round; also pairs the internal comparison")
	output := fs.String("output", "", "write the verdict JSON to `FILE`")
	markdown := fs.String("markdown", "", "write the Markdown report to `FILE`")
	quiet := fs.Bool("quiet", false, "do not print the tables")
	fs.Usage = usageFor(fs, "m18-gate competitive --engram FILE... --versus FILE... [--baseline-engram FILE... --baseline-versus FILE...] [--base FILE... --head FILE...]",
		"Engram's position against a competitor measured on the same runner and fingerprint: the ratios\n"+
			"Engram/competitor of the medians of p50, p99 and throughput (and of CPU time per request when both\n"+
			"sides measured it: m18-run --target-pid), with bootstrap intervals. With a\n"+
			"baseline, the position's move (the ratio of ratios, its interval and a bootstrap p-value,\n"+
			"Benjamini-Hochberg across positions) regresses when significant and worse than the competitive\n"+
			"threshold. The policy file's [milestone.\"SCENARIO\"] targets (p50_ms, p99_ms, throughput) are\n"+
			"checked against Engram's runs: a missed target is a competitive regression too.\n", compareCodes)
	rest, err := parse(fs, args, last)
	if err != nil {
		return cli.FlagError(err)
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q (files go after a flag)", rest[0])
	}
	if len(eng.names) == 0 || len(vs.names) == 0 {
		return cli.Usagef("competitive needs --engram FILE... and --versus FILE...")
	}
	if (len(base.names) == 0) != (len(head.names) == 0) {
		return cli.Usagef("the internal comparison needs both --base and --head")
	}
	p, err := policy(*configPath)
	if err != nil {
		return err
	}
	if *alpha != 0 {
		p.Alpha = *alpha
	}
	if compThreshold.set {
		p.CompetitiveThreshold = compThreshold.v
	}
	p.AllowFingerprintMismatch = *allowMismatch
	p.Paired = *paired
	c, err := gate.CompareVersusFiles(gate.VersusFiles{Engram: eng.names, Versus: vs.names, BaselineEngram: beng.names, BaselineVersus: bvs.names}, p)
	if err != nil {
		return err
	}
	var v *verdict.Verdict
	if len(base.names) > 0 {
		if v, err = gate.CompareFiles(base.names, head.names, p); err != nil {
			return err
		}
		v.Versus = c
		v.Summary = v.Summarize()
	} else {
		v = gate.VersusVerdict(c, p)
	}
	if *markdown != "" {
		md := render.Markdown(v, render.Options{Extra: render.VersusMarkdown(c)})
		if err := os.WriteFile(*markdown, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if *output != "" {
		if err := verdict.WriteFile(*output, v); err != nil {
			return err
		}
	}
	if !*quiet {
		if len(base.names) > 0 {
			if err := render.Text(stdout, v); err != nil {
				return err
			}
		}
		if err := render.VersusText(stdout, c); err != nil {
			return err
		}
		fmt.Fprintln(stdout, v.Summary.Answer)
	}
	switch v.Summary.Outcome {
	case verdict.OutcomeRegression:
		return fmt.Errorf("%w: %s", errRegression, v.Summary.Answer)
	case verdict.OutcomeCompetitiveRegression:
		return fmt.Errorf("%w: %s", errCompetitive, v.Summary.Answer)
	}
	return nil
}
