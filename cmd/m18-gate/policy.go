package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/atomicfile"
)

// policyFlags are the flags compare and bench share: the policy, and where
// the verdict goes.
type policyFlags struct {
	configPath, tier, calibration, output, markdown, outcome *string
	competitive, allowMismatch, quiet                        *bool
	alpha                                                    *float64
	threshold, compThreshold                                 percent
	resamples                                                *int
	seed                                                     *uint64
}

func addPolicyFlags(fs *flag.FlagSet) *policyFlags {
	f := &policyFlags{}
	f.configPath = fs.String("config", "", "policy `FILE` (default "+config.DefaultPath+" when it exists)")
	f.competitive = fs.Bool("competitive", false, "treat every comparison as competitive (10% threshold, exit 2)")
	f.alpha = fs.Float64("alpha", 0, "significance level after Benjamini-Hochberg (default 0.01, or the config's)")
	fs.Var(&f.threshold, "threshold", "internal threshold in `PERCENT`: 5 and 5% both mean five percent (default 5, or the config's)")
	fs.Var(&f.compThreshold, "competitive-threshold", "competitive threshold in `PERCENT` (default 10, or the config's)")
	f.tier = fs.String("tier", "", "compare only the scenarios of this config `TIER` ([tiers] in the config)")
	f.calibration = fs.String("calibration", "", "calibration `FILE` from m18-gate calibrate: puts the MDE into every comparison it covers")
	f.allowMismatch = fs.Bool("allow-fingerprint-mismatch", false, "compare results from different hardware fingerprints (a warning instead of exit 3)")
	f.output = fs.String("output", "", "write the verdict JSON to `FILE`")
	f.markdown = fs.String("markdown", "", "write the Markdown table the PR comment uses to `FILE`")
	f.outcome = fs.String("outcome", "", "write the one-word outcome to `FILE`: pass, regression, competitive-regression or\n"+
		"inconclusive (no regression, but something could not be decided)")
	f.resamples = fs.Int("resamples", gate.DefaultResamples, "bootstrap resamples for the confidence intervals")
	f.seed = fs.Uint64("seed", gate.DefaultSeed, "bootstrap seed")
	f.quiet = fs.Bool("quiet", false, "do not print the text table")
	return f
}

// policy is the default policy with the config file's and the flags'
// settings applied.
func (f *policyFlags) policy() (gate.Policy, error) {
	p := gate.DefaultPolicy()
	cfgPath := *f.configPath
	if cfgPath == "" {
		if _, err := os.Stat(config.DefaultPath); err == nil {
			cfgPath = config.DefaultPath
		}
	}
	if cfgPath != "" {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return p, err
		}
		p = p.WithConfig(cfg)
	}
	if *f.alpha != 0 {
		p.Alpha = *f.alpha
	}
	if f.threshold.set {
		p.Threshold = f.threshold.v
	}
	if f.compThreshold.set {
		p.CompetitiveThreshold = f.compThreshold.v
	}
	p.Competitive = *f.competitive
	p.Tier = *f.tier
	p.AllowFingerprintMismatch = *f.allowMismatch
	p.Resamples, p.Seed = *f.resamples, *f.seed
	if *f.calibration != "" {
		c, err := gate.ReadCalibration(*f.calibration)
		if err != nil {
			return p, err
		}
		p.Calibration = c
	}
	return p, nil
}

// finish writes the verdict where the flags say, prints its table, and
// returns the error its outcome maps to.
func (f *policyFlags) finish(v *verdict.Verdict, stdout io.Writer) error {
	if *f.outcome != "" {
		if err := atomicfile.Write(*f.outcome, []byte(render.Outcome(v)+"\n"), 0o644); err != nil {
			return err
		}
	}
	return finish(v, *f.output, *f.markdown, *f.quiet, stdout)
}

// finish writes a verdict where the flags ask (the Markdown also into the
// verdict), prints its table unless quiet, and returns its outcome as the
// error exitCode maps: errRegression, errCompetitive or nil.
func finish(v *verdict.Verdict, output, markdown string, quiet bool, stdout io.Writer) error {
	if markdown != "" {
		v.Markdown = render.Markdown(v, render.Options{})
		if err := atomicfile.Write(markdown, []byte(v.Markdown), 0o644); err != nil {
			return err
		}
	}
	if output != "" {
		if err := verdict.WriteFile(output, v); err != nil {
			return err
		}
	}
	if !quiet {
		if err := render.Text(stdout, v); err != nil {
			return err
		}
	}
	switch v.Summary.Outcome {
	case verdict.OutcomeRegression:
		return fmt.Errorf("%w: %s", errRegression, v.Summary.Answer)
	case verdict.OutcomeCompetitiveRegression:
		return fmt.Errorf("%w: %s", errCompetitive, v.Summary.Answer)
	}
	return nil
}
