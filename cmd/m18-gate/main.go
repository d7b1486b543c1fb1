// Command m18-gate decides, with statistics, whether a change regressed
// performance. It compares base and head results (m18 results, Engram
// loadtest reports, go test -bench output, criterion sample.json, hyperfine
// JSON), calibrates the noise floor from A/A runs, and finds change points in
// history. All the work is in package gate; this file parses flags and maps
// outcomes to exit codes.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
)

// Exit codes, as compare_m17_performance.sh.
const (
	exitPass        = 0
	exitRegression  = 1
	exitCompetitive = 2
	exitUsage       = cli.ExitUsage
)

const usage = `m18-gate decides whether a change regressed performance.

Usage:
  m18-gate compare --base FILE... --head FILE... [flags]
  m18-gate competitive --engram FILE... --versus FILE... [--baseline-engram FILE... --baseline-versus FILE...]
                       [--base FILE... --head FILE...]   Engram's position against a competitor
  m18-gate calibrate --runs FILE... [--output calibration.json] [flags]
  m18-gate changepoints --series FILE... [--metric M] [--operation O] [--json]
  m18-gate scenarios --config FILE --tier T    the scenarios of a tier, one per line
  m18-gate version

A sample is one value per independent run. Inputs are detected by content:
m18.result/v1 documents, Engram loadtest report JSON (one run per file),
go test -bench output, criterion sample.json, hyperfine --export-json.
Give several files to a flag by repeating it (--base a.json --base b.json)
or by listing them after it (--base a.json b.json).

A comparison regresses only when it is significant (Mann-Whitney U,
Benjamini-Hochberg across the whole verdict, p < alpha) AND both the ratio of
medians and the Hodges-Lehmann shift are worse than the threshold. Otherwise
it is improved, unchanged (the whole confidence interval within the
threshold) or inconclusive (with the reason and the runs that would settle it).

Exit codes (as compare_m17_performance.sh):
  0  no regression
  1  internal regression (includes error-rate regressions)
  2  competitive regression only
  3  input or usage error (missing file, unreadable format, scenario mismatch,
     different hardware fingerprints); the message names the file and field

Example:
  m18-gate compare --base base/*.json --head head/*.json \
      --config .github/m18-gate.toml --output verdict.json --markdown comment.md

Run "m18-gate COMMAND --help" for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	p := &cli.Program{
		Name:  "m18-gate",
		Usage: usage,
		Commands: map[string]cli.Command{
			"compare": compare, "calibrate": calibrate, "changepoints": changepoints, "scenarios": scenarios,
			"competitive": competitive,
		},
		Exit: exitCode,
	}
	return p.Run(context.Background(), args, stdout, stderr)
}

// A verdict with a regression is not a failure of the command but its
// answer; compare returns these so that exitCode maps them.
var (
	errRegression  = errors.New("internal regression")
	errCompetitive = errors.New("competitive regression")
)

// exitCode maps the error of a command to the exit code: every error but a
// regression is an input or usage error.
func exitCode(err error) int {
	switch {
	case errors.Is(err, errRegression):
		return exitRegression
	case errors.Is(err, errCompetitive):
		return exitCompetitive
	}
	return exitUsage
}

// files is a flag that collects one or more file names. last, shared by the
// multi-file flags of one command, remembers which was given last, so that
// bare words after it (a shell glob) join it.
type files struct {
	names []string
	last  **files
}

func (f *files) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(f.names, " ")
}

func (f *files) Set(v string) error {
	f.names = append(f.names, v)
	if f.last != nil {
		*f.last = f
	}
	return nil
}

// multiFiles returns n file flags sharing one "last" pointer.
func multiFiles(n int) ([]*files, **files) {
	var last *files
	out := make([]*files, n)
	for i := range out {
		out[i] = &files{last: &last}
	}
	return out, &last
}

// percent is a flag in percent: "5" and "5%" are 5 %.
type percent struct {
	v   float64
	set bool
}

func (p *percent) String() string {
	if !p.set {
		return ""
	}
	return config.FormatPercent(p.v)
}

func (p *percent) Set(s string) error {
	v, err := config.ParsePercent(s)
	if err != nil {
		return err
	}
	p.v, p.set = v, true
	return nil
}

// parse parses args, letting a multi-file flag take the bare words that
// follow it (--base a.json b.json, as a shell glob expands), and returns the
// remaining positional arguments.
func parse(fs *flag.FlagSet, args []string, last **files) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		for len(args) > 0 && (args[0] == "-" || !strings.HasPrefix(args[0], "-")) {
			if *last != nil {
				(*last).names = append((*last).names, args[0])
			} else {
				rest = append(rest, args[0])
			}
			args = args[1:]
		}
		if len(args) > 0 && args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
	}
}

func usageFor(fs *flag.FlagSet, synopsis, extra string) func() {
	return cli.Usage(fs, "Usage: "+synopsis+"\n\n"+extra+"\nFlags:\n",
		"\nExit codes: 0 no regression, 1 internal regression, 2 competitive regression, 3 input or usage error.\n")
}

func compare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("compare", stderr)
	ff, last := multiFiles(2)
	base, head := ff[0], ff[1]
	var threshold, compThreshold percent
	fs.Var(base, "base", "base `FILE` (repeat, or list several after the flag)")
	fs.Var(head, "head", "head `FILE` (repeat, or list several after the flag)")
	configPath := fs.String("config", "", "policy `FILE` (default "+config.DefaultPath+" when it exists)")
	competitive := fs.Bool("competitive", false, "treat every comparison as competitive (10% threshold, exit 2)")
	alpha := fs.Float64("alpha", 0, "significance level after Benjamini-Hochberg (default 0.01, or the config's)")
	fs.Var(&threshold, "threshold", "internal threshold in `PERCENT`: 5 and 5% both mean five percent (default 5, or the config's)")
	fs.Var(&compThreshold, "competitive-threshold", "competitive threshold in `PERCENT` (default 10, or the config's)")
	tier := fs.String("tier", "", "compare only the scenarios of this config `TIER` ([tiers] in the config)")
	calibration := fs.String("calibration", "", "calibration `FILE` from m18-gate calibrate: puts the MDE into every comparison it covers")
	paired := fs.Bool("paired", false, "pair the i-th base run with the i-th head run (each side in start-time order) and use the\n"+
		"paired t test on their log ratios; use when base and head runs were interleaved\n"+
		"on one machine (A B B A ..., as the action's ab mode runs them): pairing cancels the machine's\n"+
		"drift. Needs m18 results (they carry run start times) and equal run counts; other comparisons\n"+
		"fall back to Mann-Whitney and say why. Error rates are always compared unpaired")
	allowMismatch := fs.Bool("allow-fingerprint-mismatch", false, "compare results from different hardware fingerprints (a warning instead of exit 3)")
	output := fs.String("output", "", "write the verdict JSON to `FILE`")
	markdown := fs.String("markdown", "", "write the Markdown table the PR comment uses to `FILE`")
	resamples := fs.Int("resamples", gate.DefaultResamples, "bootstrap resamples for the confidence intervals")
	seed := fs.Uint64("seed", gate.DefaultSeed, "bootstrap seed")
	quiet := fs.Bool("quiet", false, "do not print the text table")
	fs.Usage = usageFor(fs, "m18-gate compare --base FILE... --head FILE... [flags]",
		"Compares every (scenario, operation, metric) that base and head share, one value per run,\n"+
			"writes the verdict and prints a table. Thresholds are in percent; --alpha is a probability.\n"+
			"Flags override the config's [defaults]; the config's per-scenario and per-metric\n"+
			"overrides still apply.\n")
	rest, err := parse(fs, args, last)
	if err != nil {
		return cli.FlagError(err)
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q (files go after --base or --head)", rest[0])
	}
	if len(base.names) == 0 || len(head.names) == 0 {
		return cli.Usagef("compare needs --base FILE... and --head FILE...")
	}

	p, err := policy(*configPath)
	if err != nil {
		return err
	}
	if *alpha != 0 {
		p.Alpha = *alpha
	}
	if threshold.set {
		p.Threshold = threshold.v
	}
	if compThreshold.set {
		p.CompetitiveThreshold = compThreshold.v
	}
	p.Competitive = *competitive
	p.Tier = *tier
	p.AllowFingerprintMismatch = *allowMismatch
	p.Paired = *paired
	p.Resamples, p.Seed = *resamples, *seed
	if *calibration != "" {
		c, err := gate.ReadCalibration(*calibration)
		if err != nil {
			return err
		}
		p.Calibration = c
	}

	v, err := gate.CompareFiles(base.names, head.names, p)
	if err != nil {
		return err
	}
	if *markdown != "" {
		md := render.Markdown(v, render.Options{})
		v.Markdown = md
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

// policy returns the default policy with the config at path applied, or
// config.DefaultPath's when path is empty and that file exists.
func policy(path string) (gate.Policy, error) {
	p := gate.DefaultPolicy()
	if path == "" {
		if _, err := os.Stat(config.DefaultPath); err == nil {
			path = config.DefaultPath
		}
	}
	if path != "" {
		cfg, err := config.Load(path)
		if err != nil {
			return p, err
		}
		p = p.WithConfig(cfg)
	}
	return p, nil
}

func calibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("calibrate", stderr)
	ff, last := multiFiles(1)
	runs := ff[0]
	fs.Var(runs, "runs", "A/A result `FILE` (identical builds; repeat, or list several after the flag)")
	n := fs.Int("n", gate.DefaultRepetitions, "runs per side to compute the minimum detectable effect for")
	alpha := fs.Float64("alpha", gate.DefaultAlpha, "significance level")
	power := fs.Float64("power", gate.DefaultPower, "probability of detecting an effect of the MDE")
	output := fs.String("output", "", "write the calibration JSON to `FILE` (for compare --calibration)")
	fs.Usage = usageFor(fs, "m18-gate calibrate --runs FILE... [--output calibration.json] [flags]",
		"Measures the run-to-run noise of every (scenario, operation, metric) in A/A runs of one\n"+
			"machine (median, MAD, robust CV) and the smallest change --n runs per side can detect.\n")
	rest, err := parse(fs, args, last)
	if err != nil {
		return cli.FlagError(err)
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q (files go after --runs)", rest[0])
	}
	if len(runs.names) == 0 {
		return cli.Usagef("calibrate needs --runs FILE...")
	}
	set, err := input.Load(runs.names...)
	if err != nil {
		return err
	}
	c, err := gate.Calibrate(set, *n, *alpha, *power)
	if err != nil {
		return err
	}
	if *output != "" {
		if err := gate.WriteCalibration(*output, c); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "noise floor of %d A/A file(s); MDE for %d runs per side, alpha %v, power %v\n", len(c.Files), c.N, c.Alpha, c.Power)
	fmt.Fprintf(stdout, "%-40s %-18s %-10s %6s %12s %10s %8s\n", "scenario", "operation", "metric", "runs", "median", "noise", "MDE")
	for _, e := range c.Entries {
		noise, mde := config.FormatPercent(e.RobustCV), config.FormatPercent(e.MDE)
		if e.Absolute {
			noise, mde = strconv.FormatFloat(e.MAD*100, 'g', 3, 64)+"pp", strconv.FormatFloat(e.MDE*100, 'g', 3, 64)+"pp"
		}
		fmt.Fprintf(stdout, "%-40s %-18s %-10s %6d %12.4g %10s %8s\n", e.Scenario, e.Operation, e.Metric, e.Runs, e.Median, noise, mde)
	}
	for _, note := range c.Notes {
		fmt.Fprintln(stdout, "note:", note)
	}
	return nil
}

func changepoints(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("changepoints", stderr)
	ff, last := multiFiles(1)
	seriesFiles := ff[0]
	fs.Var(seriesFiles, "series", "m18 result or m18.series/v1 `FILE` (repeat, or list several after the flag)")
	metric := fs.String("metric", "", "metric of m18 results (default p99); filters series files when set")
	operation := fs.String("operation", "", "operation of m18 results (default overall); filters series files when set")
	alpha := fs.Float64("alpha", 0.05, "significance level of each split (permutation test)")
	permutations := fs.Int("permutations", 200, "permutations per significance test")
	minSize := fs.Int("min-size", 4, "smallest segment, in points")
	seed := fs.Uint64("seed", 1, "permutation seed")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.Usage = usageFor(fs, "m18-gate changepoints --series FILE... [--metric M] [--operation O] [--json]",
		"Finds change points in history with E-divisive means and a permutation test (as Apache\n"+
			"Otava and MongoDB do). m18 results are ordered by run start; each contributes the median\n"+
			"of its repetitions.\n")
	rest, err := parse(fs, args, last)
	if err != nil {
		return cli.FlagError(err)
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q (files go after --series)", rest[0])
	}
	if len(seriesFiles.names) == 0 {
		return cli.Usagef("changepoints needs --series FILE...")
	}
	s, err := series.Load(seriesFiles.names, *metric, *operation)
	if err != nil {
		return err
	}
	res := series.ChangePoints(s, stats.EDivisiveOptions{Alpha: *alpha, Permutations: *permutations, MinSize: *minSize, Seed: *seed})
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
		return nil
	}
	if err := series.WriteText(stdout, res); err != nil {
		return err
	}
	return nil
}

// scenarios prints the scenarios the config's [tiers] table lists for a
// tier, one per line, so that the action runs what the policy names.
func scenarios(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("m18-gate scenarios", stderr)
	configPath := fs.String("config", config.DefaultPath, "policy file with a [tiers] table")
	tier := fs.String("tier", "pr", "tier whose scenarios to list")
	fs.Usage = cli.Usage(fs, "Usage: m18-gate scenarios --config FILE --tier T\n\nPrints the scenarios of tier T in the config's [tiers] table, one per line.\nExit 0 listed; 3 no such file, a bad config, or no such tier.\n\nFlags:\n", "")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return err
	}
	list, ok := cfg.Tier(*tier)
	if !ok || len(list) == 0 {
		return cli.Usagef("%s: no scenarios for tier %q (add [tiers] %s = [\"ci/fast_regression_check\"])", *configPath, *tier, *tier)
	}
	for _, s := range list {
		fmt.Fprintln(stdout, s)
	}
	return nil
}
