// Command m18-history keeps m18-run results on a git branch and reads them
// back: it appends results (safe under concurrent writers), selects the
// baseline for a pull request, prints series for trends, and prunes or
// compacts the branch. All work is done by package history.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	gseries "github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/history"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/result"
)

// Exit codes.
const (
	exitOK         = 0
	exitFailed     = 1             // push refused or lost every race, internal error
	exitBadInput   = cli.ExitUsage // bad flags or input, or the remote cannot be reached
	exitNoBaseline = 4             // baseline: nothing comparable stored
)

const usage = `m18-history keeps benchmark results on a git branch (one JSON file per run).

Usage:
  m18-history push     --repo R [--branch B] RESULT.json...
  m18-history baseline --repo R --scenario S --fingerprint F --commit SHA
                       [--source-repo DIR] [--commit-time T] [--n K] [--head RESULT.json] --out DIR
  m18-history series   --repo R --scenario S --fingerprint F [--op overall] [--metric p99] [--json]
  m18-history series   --repo R --head RESULT.json [--metric p99] [--json]
  m18-history series   --repo R --scenario S --fingerprint F --vs COMPETITOR [--window 672h] [--json]
  m18-history list     --repo R [--scenario S] [--fingerprint F] [--json]
  m18-history show     --repo R PATH
  m18-history prune    --repo R [--keep-days 180] [--keep-latest 10] [--force] [--dry-run]
  m18-history compact  --repo R [--older-than-days 30] [--dry-run]
  m18-history accept   --repo R --scenario S --reason TEXT [--commit SHA] [--fingerprint F] [--by NAME]
  m18-history export   --repo R --openmetrics [--scenario S] [--fingerprint F] [--out FILE]
  m18-history version

R is a path to a git repository, file:///PATH, or https://github.com/OWNER/REPO.git.
For https, the token is read from GITHUB_TOKEN (it needs contents: write to
push; only trusted events — push to the default branch, schedules — should
write). The branch (default m18-results) is created on first push.

Run "m18-history COMMAND -h" for a command's flags.

Exit codes:
  0  ok
  1  the push was refused (hook, branch protection) or lost every race; internal error
  3  bad input (flags, result files) or the remote cannot be reached
  4  baseline: no baseline (nothing stored for this scenario and fingerprint
     at or before the commit); the message names the fingerprints that do exist

Example:
  m18-history push --repo https://github.com/acme/engram.git results/*.json
  m18-history baseline --repo https://github.com/acme/engram.git --source-repo . \
      --scenario ci/fast_regression_check --fingerprint 3f2a9c1b7d4e \
      --commit "$(git merge-base origin/main HEAD)" --out baseline/
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	p := &cli.Program{
		Name:  "m18-history",
		Usage: usage,
		Commands: map[string]cli.Command{
			"push": push, "baseline": baseline, "series": series, "list": list,
			"show": show, "prune": prune, "compact": compact, "accept": accept,
			"export": export,
		},
		Exit: exitCode,
	}
	return p.Run(ctx, args, stdout, stderr)
}

// exitCode maps the error of a command to the exit code.
func exitCode(err error) int {
	switch {
	case errors.Is(err, history.ErrNoBaseline):
		return exitNoBaseline
	case errors.Is(err, history.ErrBadInput), errors.Is(err, history.ErrUnreachable), errors.Is(err, cli.ErrUsage):
		return exitBadInput
	}
	return exitFailed
}

// remoteFlags are the flags every command shares.
type remoteFlags struct {
	repo, branch string
	tries        int
	bound        time.Duration
}

func newFlags(name, synopsis string, stderr io.Writer, rf *remoteFlags) *flag.FlagSet {
	fs := cli.NewFlagSet(name, stderr)
	fs.Usage = cli.Usage(fs, "Usage: m18-history "+synopsis+"\n\nFlags:\n",
		"\nExit codes: 0 ok, 1 push refused or failed, 3 bad input or unreachable remote, 4 no baseline.\n")
	fs.StringVar(&rf.repo, "repo", "", "results repository: a path, file:///PATH, or https://github.com/OWNER/REPO.git (token from GITHUB_TOKEN)")
	fs.StringVar(&rf.branch, "branch", history.DefaultBranch, "results branch")
	fs.IntVar(&rf.tries, "tries", history.DefaultTries, "push attempts before giving up when other writers keep moving the branch")
	fs.DurationVar(&rf.bound, "retry-for", history.DefaultRetryBound, "give up retrying after this long")
	return fs
}

func parse(fs *flag.FlagSet, args []string, rf *remoteFlags) error {
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if rf.repo == "" {
		return cli.Usagef("--repo is required (a path to a git repository, file:///PATH or https://github.com/OWNER/REPO.git)")
	}
	return nil
}

// actor is who runs this, from the GitHub Actions context (GITHUB_ACTOR);
// "" outside Actions.
func actor() string {
	if gc, _ := githubactions.New().Context(); gc != nil {
		return gc.Actor
	}
	return ""
}

func (rf remoteFlags) remote(stderr io.Writer) history.Remote {
	// The token is a secret, not part of the context.
	return history.Remote{
		URL: rf.repo, Branch: rf.branch, Token: githubactions.New().Getenv("GITHUB_TOKEN"),
		Tries: rf.tries, RetryBound: rf.bound,
		Author: actor(),
		Logf: func(format string, args ...any) {
			fmt.Fprintf(stderr, "m18-history: "+format+"\n", args...)
		},
	}
}

func push(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rf remoteFlags
	fs := newFlags("push", "push --repo R [--branch B] RESULT.json...", stderr, &rf)
	if err := parse(fs, args, &rf); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usagef("name at least one result file (m18-run's result.json)")
	}
	var rs []history.Result
	for _, f := range fs.Args() {
		r, err := history.ReadResult(f)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	p, err := rf.remote(stderr).Append(ctx, rs...)
	if err != nil {
		return err
	}
	if p.Unchanged {
		fmt.Fprintf(stdout, "already stored: %d results on %s at %.12s (tries: %d)\n", len(rs), p.Branch, p.Commit, p.Tries)
		return nil
	}
	fmt.Fprintf(stdout, "stored %d results on %s in %.12s (tries: %d, %s)\n", len(p.Added), p.Branch, p.Commit, p.Tries, p.Elapsed.Round(time.Millisecond))
	for _, a := range p.Added {
		fmt.Fprintf(stdout, "  %s\n", a)
	}
	return nil
}

func baseline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rf remoteFlags
	fs := newFlags("baseline", "baseline --repo R --scenario S --fingerprint F --commit SHA [--source-repo DIR] [--commit-time T] [--n K] [--head RESULT.json] --out DIR", stderr, &rf)
	var q history.Query
	var source, out, head, commitTime string
	fs.StringVar(&q.Scenario, "scenario", "", "scenario (as in the result's run.scenario)")
	fs.StringVar(&q.Fingerprint, "fingerprint", "", "hardware fingerprint hash (run.hardware.hash)")
	fs.StringVar(&q.Commit, "commit", "", "the pull request's merge-base commit")
	fs.StringVar(&source, "source-repo", "", "checkout of the repository under test, to walk the merge base's ancestors (full history: fetch-depth 0)")
	fs.StringVar(&commitTime, "commit-time", "", "merge base's committer time (RFC 3339) when --source-repo is not given")
	fs.IntVar(&q.Runs, "n", history.DefaultRuns, "at most this many runs (result files) of the chosen commit, newest first")
	fs.StringVar(&head, "head", "", "the head's result file: fills --scenario and --fingerprint when omitted, ranks other fingerprints when none matches")
	fs.StringVar(&out, "out", "", "directory to write the baseline result files into")
	if err := parse(fs, args, &rf); err != nil {
		return err
	}
	run, err := fromHead(head, &q.Scenario, &q.Fingerprint)
	if err != nil {
		return err
	}
	if run != nil {
		q.Hardware = &run.Hardware
	}
	if out == "" || q.Scenario == "" || q.Fingerprint == "" || q.Commit == "" {
		return cli.Usagef("baseline needs --scenario, --fingerprint (or --head RESULT.json), --commit and --out")
	}
	if commitTime != "" {
		t, err := time.Parse(time.RFC3339, commitTime)
		if err != nil {
			return cli.Usagef("--commit-time %q: want RFC 3339 like 2026-05-14T10:15:00Z", commitTime)
		}
		q.CommitTime = t
	}
	if source != "" {
		repo, err := history.OpenSource(source)
		if err != nil {
			return err
		}
		q.Source = repo
	}
	snap, err := rf.remote(stderr).Open(ctx)
	if err != nil {
		return err
	}
	b, err := snap.Baseline(q)
	var none *history.NoBaselineError
	if errors.As(err, &none) {
		warn(stderr, none.Warnings)
	}
	if err != nil {
		return err
	}
	warn(stderr, b.Warnings)
	files, err := history.WriteRuns(out, b.Runs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "baseline for %s on %s: %s\n", q.Scenario, q.Fingerprint, b.Why)
	for _, f := range files {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	return nil
}

func warn(stderr io.Writer, warns []error) {
	for _, w := range warns {
		fmt.Fprintf(stderr, "m18-history: warning: %v\n", w)
	}
}

// fromHead fills scenario and fingerprint, where empty, from the result
// file head (--head) and returns its run; nil when head is "".
func fromHead(head string, scenario, fingerprint *string) (*result.Run, error) {
	if head == "" {
		return nil, nil
	}
	d, err := result.ReadFile(head)
	if err != nil {
		return nil, fmt.Errorf("%w: --head: %v", history.ErrBadInput, err)
	}
	*scenario = cmp.Or(*scenario, d.Run.Scenario)
	*fingerprint = cmp.Or(*fingerprint, d.Run.Hardware.Hash)
	return &d.Run, nil
}

func series(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rf remoteFlags
	fs := newFlags("series", "series --repo R (--scenario S --fingerprint F | --head RESULT.json) [--op overall] [--metric p99] [--vs COMPETITOR [--window 672h]] [--json]", stderr, &rf)
	var scenario, fp, op, metric string
	var asJSON bool
	fs.StringVar(&scenario, "scenario", "", "scenario")
	fs.StringVar(&fp, "fingerprint", "", "hardware fingerprint hash")
	fs.StringVar(&op, "op", result.OpOverall, "operation ("+strings.Join(result.Operations, ", ")+", or overall)")
	fs.StringVar(&metric, "metric", result.MetricP99, "metric ("+strings.Join(result.Metrics, ", ")+")")
	var head string
	fs.StringVar(&head, "head", "", "a result `FILE` (a run or a task document) whose scenario and fingerprint fill --scenario and --fingerprint when omitted")
	fs.BoolVar(&asJSON, "json", false, "print an m18.series/v1 document (one point per run: the median of its repetitions), the\n"+
		"format m18-gate changepoints --series reads, instead of tab-separated lines")
	var vs string
	var window time.Duration
	fs.StringVar(&vs, "vs", "", "show Engram against this `COMPETITOR`'s runs (stored by m18-run --competitor as SCENARIO@COMPETITOR):\n"+
		"the ratio per Engram run, its Theil-Sen trend over --window and its change points")
	fs.DurationVar(&window, "window", 28*24*time.Hour, "how far back the --vs trend reaches")
	if err := parse(fs, args, &rf); err != nil {
		return err
	}
	if _, err := fromHead(head, &scenario, &fp); err != nil {
		return err
	}
	if scenario == "" || fp == "" {
		return cli.Usagef("series needs --scenario and --fingerprint (or --head RESULT.json)")
	}
	if !slices.Contains(result.Metrics, metric) {
		return cli.Usagef("--metric %q: want one of %s", metric, strings.Join(result.Metrics, ", "))
	}
	snap, err := rf.remote(stderr).Open(ctx)
	if err != nil {
		return err
	}
	if vs != "" {
		return versus(snap, scenario, fp, op, metric, vs, window, asJSON, stdout, stderr)
	}
	points, warns := snap.Series(scenario, fp, op, metric)
	warn(stderr, warns)
	if asJSON {
		runs := make([]gseries.Run, 0, len(points))
		for _, p := range points {
			runs = append(runs, gseries.Run{Time: p.Start, Commit: p.CommitFull, RunID: p.RunID, Values: p.Values})
		}
		return gseries.Encode(stdout, gseries.FromRuns(scenario, op, metric, runs))
	}
	fmt.Fprintf(stdout, "# start\tcommit\trun_id\t%s %s per repetition\n", op, metric)
	for _, p := range points {
		vals := make([]string, len(p.Values))
		for i, v := range p.Values {
			vals[i] = fmt.Sprintf("%g", v)
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", p.Start.Format(time.RFC3339), p.Commit, p.RunID, strings.Join(vals, " "))
	}
	return nil
}

func list(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rf remoteFlags
	fs := newFlags("list", "list --repo R [--scenario S] [--fingerprint F] [--json]", stderr, &rf)
	var f history.Filter
	var asJSON bool
	fs.StringVar(&f.Scenario, "scenario", "", "only this scenario")
	fs.StringVar(&f.Fingerprint, "fingerprint", "", "only this fingerprint")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if err := parse(fs, args, &rf); err != nil {
		return err
	}
	snap, err := rf.remote(stderr).Open(ctx)
	if err != nil {
		return err
	}
	entries, warns := snap.List(f)
	warn(stderr, warns)
	if asJSON {
		type row struct {
			Scenario    string    `json:"scenario"`
			Fingerprint string    `json:"fingerprint"`
			Start       time.Time `json:"start"`
			Commit      string    `json:"commit"`
			RunID       string    `json:"run_id"`
			Path        string    `json:"path"`
			Bundle      string    `json:"bundle,omitempty"`
		}
		rows := []row{}
		for _, e := range entries {
			rows = append(rows, row{e.Scenario, e.Fingerprint, e.Start, e.Commit, e.RunID, e.Path, e.Bundle})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	for _, e := range entries {
		where := e.Path
		if e.Bundle != "" {
			where += " (in " + e.Bundle + ")"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", e.Scenario, e.Fingerprint, e.Start.Format(time.RFC3339), e.Commit, where)
	}
	size, err := snap.Size()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "m18-history: %s at %.12s: %s\n", snap.Branch, snap.Tip, size)
	return nil
}

func show(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rf remoteFlags
	fs := newFlags("show", "show --repo R PATH", stderr, &rf)
	if err := parse(fs, args, &rf); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Usagef("show needs one path on the branch (see m18-history list)")
	}
	snap, err := rf.remote(stderr).Open(ctx)
	if err != nil {
		return err
	}
	data, err := snap.Show(fs.Arg(0))
	if err != nil {
		return err
	}
	_, err = stdout.Write(data)
	return err
}

func prune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rf remoteFlags
	fs := newFlags("prune", "prune --repo R [--keep-days 180] [--keep-latest 10] [--force] [--dry-run]", stderr, &rf)
	var o history.PruneOptions
	fs.IntVar(&o.KeepDays, "keep-days", history.DefaultKeepDays, fmt.Sprintf("keep runs that started within this many days (at least %d without --force)", history.MinKeepDays))
	fs.IntVar(&o.KeepLatest, "keep-latest", history.DefaultKeepLatest, "always keep this many newest runs of every scenario and fingerprint (-1: none)")
	fs.BoolVar(&o.Force, "force", false, fmt.Sprintf("allow --keep-days below %d (removes points trend charts still show)", history.MinKeepDays))
	fs.BoolVar(&o.DryRun, "dry-run", false, "report what would be removed, push nothing")
	return retention(fs, args, &rf, stdout, stderr, "removed", func(r history.Remote) (*history.Retention, error) { return r.Prune(ctx, o) })
}

func compact(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rf remoteFlags
	fs := newFlags("compact", "compact --repo R [--older-than-days 30] [--dry-run]", stderr, &rf)
	var o history.CompactOptions
	fs.IntVar(&o.OlderThanDays, "older-than-days", history.DefaultCompactDays, "pack months that ended more than this many days ago")
	fs.BoolVar(&o.DryRun, "dry-run", false, "report what would be packed, push nothing")
	return retention(fs, args, &rf, stdout, stderr, "packed", func(r history.Remote) (*history.Retention, error) { return r.Compact(ctx, o) })
}

// retention ends prune and compact (the flag set's name): it parses their
// flags, runs op on the remote, and prints what it did in the words of verb
// ("removed", "packed").
func retention(fs *flag.FlagSet, args []string, rf *remoteFlags, stdout, stderr io.Writer, verb string, op func(history.Remote) (*history.Retention, error)) error {
	if err := parse(fs, args, rf); err != nil {
		return err
	}
	rep, err := op(rf.remote(stderr))
	if err != nil {
		return err
	}
	warn(stderr, rep.Warnings)
	name := fs.Name()
	switch {
	case rep.Pushed != nil:
		fmt.Fprintf(stdout, "%s: %s %d runs (%d bundles) in %.12s (tries: %d)\n", name, verb, len(rep.Removed), len(rep.Bundles), rep.Pushed.Commit, rep.Pushed.Tries)
	case len(rep.Removed) > 0:
		fmt.Fprintf(stdout, "%s (dry run): would have %s %d runs (%d bundles)\n", name, verb, len(rep.Removed), len(rep.Bundles))
		for _, p := range rep.Removed {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	default:
		fmt.Fprintf(stdout, "%s: nothing to do\n", name)
	}
	if rep.Kept > 0 {
		fmt.Fprintf(stdout, "%s: kept %d older runs that are the newest of their series\n", name, rep.Kept)
	}
	fmt.Fprintf(stdout, "size before: %s\nsize after:  %s\n", rep.Before, rep.After)
	return nil
}

func accept(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rf remoteFlags
	fs := newFlags("accept", "accept --repo R --scenario S --reason TEXT [--commit SHA] [--fingerprint F] [--by NAME]", stderr, &rf)
	var m history.Marker
	fs.StringVar(&m.Scenario, "scenario", "", "scenario whose baseline restarts")
	fs.StringVar(&m.Reason, "reason", "", "why the change is intended (recorded)")
	fs.StringVar(&m.Commit, "commit", "", "the commit that brought the change; runs of its ancestors stop being baselines (without it: runs started before now)")
	fs.StringVar(&m.Fingerprint, "fingerprint", "", "only this fingerprint (default: all)")
	fs.StringVar(&m.By, "by", actor(), "who accepts (default the GitHub Actions actor, $GITHUB_ACTOR)")
	if err := parse(fs, args, &rf); err != nil {
		return err
	}
	p, err := rf.remote(stderr).Accept(ctx, m)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recorded %s in %.12s (tries: %d)\n", strings.Join(p.Added, " "), p.Commit, p.Tries)
	return nil
}
