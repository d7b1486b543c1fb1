package main

import (
	"context"
	"fmt"
	"io"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
)

const competitiveHelp = `Engram's position against a competitor measured on the same runner and fingerprint: the ratios
Engram/competitor of the medians of p50, p99 and throughput (and of CPU time per request when both
sides measured it: m18-run --target-pid), with bootstrap intervals. With a baseline, the position's move (the ratio of ratios, its interval and a bootstrap p-value,
Benjamini-Hochberg across positions) regresses when significant and worse than the competitive
threshold. The policy file's [milestone."SCENARIO"] targets (p50_ms, p99_ms, throughput) are
checked against Engram's runs: a missed target is a competitive regression too.
`

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
	pf := addPolicyFlags(fs)
	paired := fs.Bool("paired", false, "the four sides ran in rounds (each side's i-th run, by start time, in round i): decide the\n"+
		"position's move round by round (paired t test of the log ratio of ratios), which cancels what the\n"+
		"machine did in each round; also pairs the internal comparison")
	fs.Usage = usageFor(fs, "m18-gate competitive --engram FILE... --versus FILE... [--baseline-engram FILE... --baseline-versus FILE...] [--base FILE... --head FILE...]", competitiveHelp, compareCodes)
	if err := parseFiles(fs, args, last, "a flag"); err != nil {
		return err
	}
	if len(eng.names) == 0 || len(vs.names) == 0 {
		return cli.Usagef("competitive needs --engram FILE... and --versus FILE...")
	}
	if (len(base.names) == 0) != (len(head.names) == 0) {
		return cli.Usagef("the internal comparison needs both --base and --head")
	}
	p, err := pf.policy()
	if err != nil {
		return err
	}
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
	// The internal comparison's table, when there is one, then the
	// position's and the answer.
	text := func(w io.Writer, v *verdict.Verdict) error {
		if len(base.names) > 0 {
			if err := render.Text(w, v); err != nil {
				return err
			}
		}
		if err := render.VersusText(w, c); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, v.Summary.Answer)
		return err
	}
	return pf.finishWith(v, stdout, render.VersusMarkdown(c), text)
}
