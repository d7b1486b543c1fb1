package main

import (
	"flag"
	"io"
	"os"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/atomicfile"
)

// policyFlags are the flags compare, bench and competitive share: the
// policy, and where the verdict goes.
type policyFlags struct {
	verdictFlags
	configPath, tier, calibration *string
	competitive, allowMismatch    *bool
	alpha                         *float64
	threshold, compThreshold      percent
	resamples                     *int
	seed                          *uint64
}

func addPolicyFlags(fs *flag.FlagSet) *policyFlags {
	f := &policyFlags{verdictFlags: addVerdictFlags(fs)}
	f.configPath = fs.String("config", "", "policy `FILE`: thresholds, tiers, [milestone] targets (default "+config.DefaultPath+" when it exists)")
	f.competitive = fs.Bool("competitive", false, "treat every comparison as competitive (10% threshold, exit 2)")
	f.alpha = fs.Float64("alpha", 0, "significance level after Benjamini-Hochberg (default 0.01, or the config's)")
	fs.Var(&f.threshold, "threshold", "internal threshold in `PERCENT`: 5 and 5% both mean five percent (default 5, or the config's)")
	fs.Var(&f.compThreshold, "competitive-threshold", "competitive threshold in `PERCENT` (default 10, or the config's)")
	f.tier = fs.String("tier", "", "compare only the scenarios of this config `TIER` ([tiers] in the config)")
	f.calibration = fs.String("calibration", "", "calibration `FILE` from m18-gate calibrate: puts the MDE into every comparison it covers")
	f.allowMismatch = fs.Bool("allow-fingerprint-mismatch", false, "compare results from different hardware fingerprints (a warning instead of exit 3)")
	f.resamples = fs.Int("resamples", gate.DefaultResamples, "bootstrap resamples for the confidence intervals")
	f.seed = fs.Uint64("seed", gate.DefaultSeed, "bootstrap seed")
	return f
}

// verdictFlags are where a verdict goes: the flags of every command that
// writes one.
type verdictFlags struct {
	output, markdown, outcome *string
	quiet                     *bool
}

func addVerdictFlags(fs *flag.FlagSet) verdictFlags {
	return verdictFlags{
		output:   fs.String("output", "", "write the verdict JSON to `FILE`"),
		markdown: fs.String("markdown", "", "write the Markdown the PR comment and check run use to `FILE`"),
		outcome: fs.String("outcome", "", "write the one-word outcome to `FILE`: pass, regression, competitive-regression or\n"+
			"inconclusive (no regression, but something could not be decided)"),
		quiet: fs.Bool("quiet", false, "do not print the text table"),
	}
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

// finish writes v where the flags ask (the Markdown also into the
// verdict), prints its table unless quiet, and returns its outcome as the
// error exitCode maps: verdict.ErrRegression, verdict.ErrCompetitiveRegression
// or nil.
func (f verdictFlags) finish(v *verdict.Verdict, stdout io.Writer) error {
	return f.finishWith(v, stdout, "", render.Text)
}

// finishWith is finish with extra Markdown (a trusted section placed before
// the footer) and its own text table.
func (f verdictFlags) finishWith(v *verdict.Verdict, stdout io.Writer, extra string, text func(io.Writer, *verdict.Verdict) error) error {
	if *f.outcome != "" {
		if err := atomicfile.Write(*f.outcome, []byte(render.Outcome(v)+"\n"), 0o644); err != nil {
			return err
		}
	}
	if *f.markdown != "" {
		v.Markdown = render.Markdown(v, render.Options{Extra: extra})
		if err := atomicfile.Write(*f.markdown, []byte(v.Markdown), 0o644); err != nil {
			return err
		}
	}
	if *f.output != "" {
		if err := verdict.WriteFile(*f.output, v); err != nil {
			return err
		}
	}
	if !*f.quiet {
		if err := text(stdout, v); err != nil {
			return err
		}
	}
	return v.Summary.Err()
}
