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
	"github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/atomicfile"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/result"
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
  m18-gate bench --base-cmd CMD --head-cmd CMD [--count N] [flags]
                                     run a benchmark on base and head interleaved, then compare
  m18-gate competitive --engram FILE... --versus FILE... [--baseline-engram FILE... --baseline-versus FILE...]
                       [--base FILE... --head FILE...]   Engram's position against a competitor
  m18-gate calibrate --runs FILE... [--output calibration.json] [flags]
  m18-gate changepoints --series FILE... [--metric M] [--operation O] [--json] [--output FILE]
  m18-gate criteria --results TASK.json... [--verdict verdict.json] --output FILE [--markdown FILE]
  m18-gate scenarios --config FILE --tier T    the scenarios of a tier, one per line
  m18-gate version

A sample is one value per independent run. Inputs are detected by content:
m18.result/v1 documents, Engram loadtest report JSON (one run per file),
go test -bench output, criterion sample.json, hyperfine --export-json,
m18.samples/v1 JSON. Give several files to a flag by repeating it (--base a.json --base b.json)
or by listing them after it (--base a.json b.json).

A comparison regresses only when it is significant (Mann-Whitney U,
Benjamini-Hochberg across the whole verdict, p < alpha) AND both the ratio of
medians and the Hodges-Lehmann shift are worse than the threshold. Otherwise
it is improved, unchanged (the whole confidence interval within the
threshold) or inconclusive (with the reason and the runs that would settle it).

Exit codes (the same in every m18 command; README.md has the table; compare's
are compare_m17_performance.sh's):
  0  no regression (compare); done (calibrate, changepoints, scenarios)
  1  internal regression, including error-rate regressions (compare)
  2  competitive regression only (compare)
  3  bad flags or input (missing file, unreadable format, scenario mismatch,
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
			"compare": compare, "bench": bench, "calibrate": calibrate, "changepoints": changepoints, "scenarios": scenarios,
			"criteria": criteria, "competitive": competitive,
		},
		Exit: exitCode,
	}
	return p.Run(context.Background(), args, stdout, stderr)
}

// errNextLook: a sequential gate's look was not clear yet (--looks). Nor is
// a verdict with a regression a failure of the command: it is its answer,
// verdict.Summary.Err, which exitCode maps too.
var errNextLook = errors.New("not decided at this look")

// exitCode maps the error of a command to the exit code: every error but a
// regression is an input or usage error.
func exitCode(err error) int {
	switch {
	case errors.Is(err, verdict.ErrRegression):
		return exitRegression
	case errors.Is(err, verdict.ErrCompetitiveRegression):
		return exitCompetitive
	case errors.Is(err, errNextLook):
		return cli.ExitIncomplete
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

// fileList is the one multi-file flag of a command (calibrate --runs,
// changepoints --series, criteria --results).
type fileList struct {
	fs   *flag.FlagSet
	name string
	f    *files
	last **files
}

// fileListFlag defines --name on fs, taking one or more files.
func fileListFlag(fs *flag.FlagSet, name, usage string) *fileList {
	ff, last := multiFiles(1)
	fs.Var(ff[0], name, usage)
	return &fileList{fs: fs, name: name, f: ff[0], last: last}
}

// parse parses args (parseFiles) and returns the files of the flag; none is
// the usage error need.
func (l *fileList) parse(args []string, need string) ([]string, error) {
	if err := parseFiles(l.fs, args, l.last, "--"+l.name); err != nil {
		return nil, err
	}
	if len(l.f.names) == 0 {
		return nil, cli.Usagef("%s", need)
	}
	return l.f.names, nil
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

// parseFiles is parse for a command whose every file goes after a flag: a
// bare word before any file flag is a usage error that says so (after is
// the flags files go after).
func parseFiles(fs *flag.FlagSet, args []string, last **files, after string) error {
	rest, err := parse(fs, args, last)
	if err != nil {
		return cli.FlagError(err)
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q (files go after %s)", rest[0], after)
	}
	return nil
}

// usageFor is the --help of a subcommand: synopsis, text, flags and the
// exit codes it uses.
func usageFor(fs *flag.FlagSet, synopsis, extra string, codes map[int]string) func() {
	return cli.Usage(fs, "Usage: "+synopsis+"\n\n"+extra+"\nFlags:\n", cli.ExitCodes(codes))
}

// The exit codes of each subcommand, in the words of its --help.
var (
	compareCodes = map[int]string{
		cli.ExitOK:          "no regression (pass or inconclusive; --outcome tells them apart)",
		cli.ExitFail:        "internal regression (includes error-rate regressions); with --confirm, only a confirmed one",
		cli.ExitCompetitive: "competitive regression only",
		cli.ExitUsage:       "bad flags or input (missing file, unreadable format, scenario mismatch,\n      different hardware fingerprints; with --confirm, an unreadable VERDICT or a re-run that\n      lacks a comparison to confirm); the message names the file and field",
		cli.ExitIncomplete:  "with --looks: no regression yet but not decided at this look; measure the next look's pairs and compare again\n      (with --confirm: the re-run neither confirmed nor cleared the regression yet)",
	}
	calibrateCodes = map[int]string{
		cli.ExitOK:    "calibrated (the table is printed, --output written)",
		cli.ExitUsage: "bad flags or input (missing or unreadable A/A file, too few runs)",
	}
	criteriaCodes = map[int]string{
		cli.ExitOK:          "every criterion met (and the --verdict given had no regression)",
		cli.ExitFail:        "a criterion failed, or the --verdict given holds an internal regression",
		cli.ExitCompetitive: "the --verdict given holds only competitive regressions",
		cli.ExitUsage:       "bad flags or input (missing file, not a task document)",
	}
	changepointsCodes = map[int]string{
		cli.ExitOK:    "searched; change points or none, the output says which",
		cli.ExitUsage: "bad flags or input (missing or unreadable series file)",
	}
)

func compare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("compare", stderr)
	ff, last := multiFiles(2)
	base, head := ff[0], ff[1]
	fs.Var(base, "base", "base `FILE` (repeat, or list several after the flag)")
	fs.Var(head, "head", "head `FILE` (repeat, or list several after the flag)")
	pf := addPolicyFlags(fs)
	paired := fs.Bool("paired", false, "pair the i-th base run with the i-th head run (each side in start-time order) and use the\n"+
		"paired t test on their log ratios; use when base and head runs were interleaved\n"+
		"on one machine (A B B A ..., as the action's ab mode runs them): pairing cancels the machine's\n"+
		"drift. Needs m18 results or m18-gate bench files (they carry run start times) and equal run counts; other comparisons\n"+
		"fall back to Mann-Whitney and say why. Error rates are always compared unpaired")
	looks := fs.String("looks", "", "sequential gate (with --paired): the `PLAN` of looks in pairs, e.g. 10,15,20. The pairs given\n"+
		"decide at the last look they reach, at that look's part of --alpha (alpha spending: every look\n"+
		"together raises a false alarm with probability at most --alpha); exit 4 asks for the next look's\n"+
		"pairs when nothing regressed yet but something is undecided. With --confirm, the re-run's own\n"+
		"plan (--confirm-looks prints it): exit 4 while it neither confirms nor clears. See gate/README.md")
	confirm := fs.String("confirm", "", "confirming re-run: the first `VERDICT` (a compare --output that regressed); --base and --head\n"+
		"are then pairs measured after it. Only the comparisons it called regressed are judged again,\n"+
		"with the same policy flags (--paired too), Benjamini-Hochberg over just those; one stays\n"+
		"regressed only when the re-run regresses too, else it becomes inconclusive. Exit 1 only for a\n"+
		"confirmed regression. A verdict with no regression is copied as it is (nothing to confirm)")
	confirmPairs := fs.Bool("confirm-pairs", false, "with --confirm and no --base/--head: print the pairs a confirming re-run of VERDICT should\n"+
		"measure (enough for the exact signed-rank test to reach --alpha, at least half the pairs the\n"+
		"verdict decided on, and where its intervals were wide enough to find its change again with\n"+
		"80 % power, up to the pairs its design planned; 0 when nothing regressed) and exit 0")
	confirmLooks := fs.Bool("confirm-looks", false, "with --confirm and no --base/--head: print the plan of a sequential confirming re-run of VERDICT\n"+
		"(for --looks: the pairs --confirm-pairs asks for at half of --alpha, then twice as many, e.g.\n"+
		"9,18, each look spending half: a re-run on a machine noisier than the first stage's goes on\n"+
		"to the second look; an empty line when nothing regressed) and exit 0")
	fs.Usage = usageFor(fs, "m18-gate compare --base FILE... --head FILE... [flags]\n"+
		"       m18-gate compare --confirm VERDICT --base NEW... --head NEW... [--paired] [flags]\n"+
		"       m18-gate compare --confirm VERDICT --confirm-pairs|--confirm-looks [--alpha A]",
		"Compares every (scenario, operation, metric) that base and head share, one value per run,\n"+
			"writes the verdict and prints a table. Thresholds are in percent; --alpha is a probability.\n"+
			"Flags override the config's [defaults]; the config's per-scenario and per-metric\n"+
			"overrides still apply.\n\n"+
			"With --confirm, the regressions of a first verdict are checked on fresh pairs before the\n"+
			"gate fails: the re-run's data are independent of the first's, so an identical head fails\n"+
			"only when both stages raise a false alarm (at most alpha x alpha per comparison).\n", compareCodes)
	rest, err := parse(fs, args, last)
	if err != nil {
		return cli.FlagError(err)
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q (files go after --base or --head)", rest[0])
	}
	planOnly := *confirmPairs || *confirmLooks
	switch {
	case planOnly && *confirm == "":
		return cli.Usagef("--confirm-pairs and --confirm-looks need --confirm VERDICT")
	case *confirmPairs && *confirmLooks:
		return cli.Usagef("give one of --confirm-pairs (a fixed re-run) and --confirm-looks (a sequential one)")
	}
	if !planOnly && (len(base.names) == 0 || len(head.names) == 0) {
		if *confirm != "" {
			return cli.Usagef("compare --confirm %s needs the re-run's --base FILE... and --head FILE... (or --confirm-pairs, --confirm-looks)", *confirm)
		}
		return cli.Usagef("compare needs --base FILE... and --head FILE...")
	}

	p, err := pf.policy()
	if err != nil {
		return err
	}
	p.Paired = *paired
	if *looks != "" {
		if p.Looks, err = gate.ParseLooks(*looks); err != nil {
			return cli.Usagef("--looks: %v", err)
		}
	}
	if *confirm != "" {
		if planOnly {
			return confirmPlan(*confirm, *confirmLooks, p, stdout)
		}
		return compareConfirm(*confirm, base.names, head.names, p, pf, stdout, stderr)
	}

	v, err := gate.CompareFiles(base.names, head.names, p)
	if err != nil {
		return err
	}
	if err := pf.finish(v, stdout); err != nil {
		return err
	}
	return nextLook(v.Sequential)
}

// nextLook is errNextLook when the look s asks for more pairs.
func nextLook(s *verdict.Sequential) error {
	if s == nil || !s.Continue {
		return nil
	}
	return fmt.Errorf("%w: look %d of %d at %d pairs: %s", errNextLook, s.Look, len(s.Looks), s.Pairs, s.Reason)
}

// confirmPlan is compare --confirm --confirm-pairs or --confirm-looks:
// how a confirming re-run of the verdict at firstPath should measure, the
// pairs of a fixed one or the looks of a sequential one.
func confirmPlan(firstPath string, looks bool, p gate.Policy, stdout io.Writer) error {
	first, err := verdict.ReadFile(firstPath)
	if err != nil {
		return fmt.Errorf("--confirm: %w", err)
	}
	if looks {
		fmt.Fprintln(stdout, gate.ConfirmLooks(first, p).String())
		return nil
	}
	fmt.Fprintln(stdout, gate.ConfirmPairs(first, p))
	return nil
}

// compareConfirm is compare --confirm: the confirming re-run of the
// regressions of the verdict at firstPath on the files base and head, at
// its look when p has looks.
func compareConfirm(firstPath string, base, head []string, p gate.Policy, pf *policyFlags, stdout, stderr io.Writer) error {
	v, err := gate.ConfirmFiles(firstPath, base, head, p)
	if err != nil {
		return fmt.Errorf("--confirm: %w", err)
	}
	if v.Confirmation == nil {
		fmt.Fprintf(stderr, "m18-gate: nothing to confirm: %s has no regressed comparison; its verdict is copied as it is\n", firstPath)
	}
	if err := pf.finish(v, stdout); err != nil || v.Confirmation == nil {
		return err
	}
	return nextLook(v.Confirmation.Sequential)
}

const calibrateHelp = `Measures the run-to-run noise of every (scenario, operation, metric) in A/A runs of one
machine (median, MAD, robust CV) and the smallest change --n runs per side can detect.
`

func calibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("calibrate", stderr)
	runs := fileListFlag(fs, "runs", "A/A result `FILE` (identical builds; repeat, or list several after the flag)")
	n := fs.Int("n", gate.DefaultRepetitions, "runs per side to compute the minimum detectable effect for")
	alpha := fs.Float64("alpha", gate.DefaultAlpha, "significance level")
	power := fs.Float64("power", gate.DefaultPower, "probability of detecting an effect of the MDE")
	output := fs.String("output", "", "write the calibration JSON to `FILE` (for compare --calibration)")
	fs.Usage = usageFor(fs, "m18-gate calibrate --runs FILE... [--output calibration.json] [flags]", calibrateHelp, calibrateCodes)
	names, err := runs.parse(args, "calibrate needs --runs FILE...")
	if err != nil {
		return err
	}
	set, err := input.Load(names...)
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

const changepointsHelp = `Finds change points in history with E-divisive means and a permutation test (as Apache
Otava and MongoDB do). m18 results are ordered by run start; each contributes the median
of its repetitions. m18.series/v1 files come from m18-history series --json.
Change points among the newest --recent points are marked new: those are what a nightly
job alerts about (m18-report --changepoints FILE --slack).
`

func changepoints(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("changepoints", stderr)
	seriesFiles := fileListFlag(fs, "series", "m18 result or m18.series/v1 `FILE` (repeat, or list several after the flag)")
	metric := fs.String("metric", "", "metric of m18 results (default p99); filters series files when set")
	operation := fs.String("operation", "", "operation of m18 results (default overall); filters series files when set")
	alpha := fs.Float64("alpha", 0.05, "significance level of each split (permutation test)")
	permutations := fs.Int("permutations", 200, "permutations per significance test")
	minSize := fs.Int("min-size", 4, "smallest segment, in points")
	seed := fs.Uint64("seed", 1, "permutation seed")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	output := fs.String("output", "", "also write the analysis as JSON to `FILE` (what m18-report --changepoints reads)")
	recent := fs.Int("recent", 7, "mark change points whose new segment starts among the newest `N` points as new (\"recent\": true)")
	fs.Usage = usageFor(fs, "m18-gate changepoints --series FILE... [--metric M] [--operation O] [--recent N] [--json] [--output FILE]", changepointsHelp, changepointsCodes)
	names, err := seriesFiles.parse(args, "changepoints needs --series FILE...")
	if err != nil {
		return err
	}
	s, err := series.Load(names, *metric, *operation)
	if err != nil {
		return err
	}
	if *recent < 0 {
		return cli.Usagef("--recent %d: want a number of points ≥ 0", *recent)
	}
	res := series.ChangePoints(s, stats.EDivisiveOptions{Alpha: *alpha, Permutations: *permutations, MinSize: *minSize, Seed: *seed})
	series.MarkRecent(res, *recent)
	if *output != "" {
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.Write(*output, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return series.WriteText(stdout, res)
}

const criteriaHelp = `Reads the success criteria of M18 task documents (m18-run task ID --output TASK.json:
the checks of the task, each a measured value against a limit) into the verdict's
"criteria" list. A failed criterion fails the verdict as an internal regression does
(exit 1); m18-report shows the criteria in the check run, the PR comment and Slack.
`

// criteria turns the checks of M18 task documents into verdict entries.
func criteria(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("criteria", stderr)
	results := fileListFlag(fs, "results", "task result `FILE` from m18-run task (repeat, or list several after the flag)")
	verdictIn := fs.String("verdict", "", "add to this verdict `FILE` (from m18-gate compare) instead of starting an empty one; may equal --output")
	vf := addVerdictFlags(fs)
	fs.Usage = usageFor(fs, "m18-gate criteria --results TASK.json... [--verdict verdict.json] [--output FILE] [--markdown FILE]", criteriaHelp, criteriaCodes)
	names, err := results.parse(args, "criteria needs --results TASK.json... (m18-run task writes them)")
	if err != nil {
		return err
	}
	crit, err := gate.ReadCriteria(names)
	if err != nil {
		return err
	}
	var v *verdict.Verdict
	if *verdictIn != "" {
		if v, err = verdict.ReadFile(*verdictIn); err != nil {
			return err
		}
	} else {
		v = gate.NewVerdict()
		v.Head.Files = names
		if d, err := result.ReadFile(names[0]); err == nil {
			v.Head.Commit, v.Head.Ref, v.Head.Fingerprint = d.Run.Commit, d.Run.Ref, d.Run.Hardware.Hash
		}
	}
	gate.AddCriteria(v, crit)
	return vf.finish(v, stdout)
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
