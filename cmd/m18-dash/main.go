// Command m18-dash builds the static performance dashboard from the history
// branch and publishes it: trend charts per scenario, hardware, operation and
// metric with change points and accepted regressions, task criteria over
// time, competitor positioning, and a root-cause page for each regression.
// package history reads the branch and package gate/dashboard draws the
// site; this command only wires them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/sethvargo/go-githubactions"

	"github.com/engram/m18-gate/gate/dashboard"
	"github.com/engram/m18-gate/history"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/result"
)

const usage = `m18-dash builds the performance dashboard (a static site) from the history branch.

Usage:
  m18-dash build   --repo R [--results-branch m18-results] [--source-repo DIR] [--repo-url URL] --out DIR
  m18-dash publish --repo R [--results-branch m18-results] [--source-repo DIR] [--repo-url URL]
                   [--to R2] [--branch gh-pages] [--out DIR]
  m18-dash version

R is the repository holding the results branch: a path, file:///PATH, or
https://github.com/OWNER/REPO.git (token from GITHUB_TOKEN). build writes the
site into DIR (a new or empty directory, or one m18-dash wrote before);
publish commits it to a branch (default gh-pages of --repo, or of --to) in a
new commit on top, for GitHub Pages ("Deploy from a branch", that branch,
/ (root)). Nothing on the page is fetched from elsewhere: it works offline.

Every chart has a stable address, charts/SCENARIO/FINGERPRINT/OPERATION.METRIC.html
under the site's URL, which the PR comment links each regression to
(m18-report --dashboard-url URL).

Run "m18-dash COMMAND -h" for a command's flags.

Exit codes:
  0  ok
  1  the publish push was refused or lost every race; internal error
  3  bad input (flags, an --out directory that is not a dashboard) or a remote
     that cannot be reached
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	p := &cli.Program{
		Name:     "m18-dash",
		Usage:    usage,
		Commands: map[string]cli.Command{"build": build, "publish": publish},
		Exit:     exitCode,
	}
	return p.Run(ctx, args, stdout, stderr)
}

func exitCode(err error) int {
	switch {
	case errors.Is(err, history.ErrBadInput), errors.Is(err, history.ErrUnreachable), errors.Is(err, cli.ErrUsage):
		return cli.ExitUsage
	}
	return cli.ExitFail
}

// flags are those both commands take.
type flags struct {
	repo, branch, source, repoURL, title, out string
	maxRuns                                   int
	// publish only
	to, pagesBranch string
}

func newFlags(name, synopsis string, stderr io.Writer, f *flags) *flag.FlagSet {
	fs := cli.NewFlagSet(name, stderr)
	fs.Usage = cli.Usage(fs, "Usage: m18-dash "+synopsis+"\n\nFlags:\n",
		"\nExit codes: 0 ok, 1 push refused or failed, 3 bad input or unreachable remote.\n")
	fs.StringVar(&f.repo, "repo", "", "repository holding the results branch: a path, file:///PATH, or https://github.com/OWNER/REPO.git (token from GITHUB_TOKEN)")
	fs.StringVar(&f.branch, "results-branch", history.DefaultBranch, "results branch")
	fs.StringVar(&f.source, "source-repo", "", "checkout of the repository under test (fetch-depth: 0), to list the commits between the last good and first bad run with their subjects")
	fs.StringVar(&f.repoURL, "repo-url", "", "web `URL` of the repository under test, for commit and compare links, e.g. https://github.com/OWNER/REPO (default: from GITHUB_SERVER_URL and GITHUB_REPOSITORY when set)")
	fs.StringVar(&f.title, "title", "", "title of every page (default \"m18 performance\")")
	fs.IntVar(&f.maxRuns, "max-runs", 400, "chart at most the newest `N` runs of each scenario and hardware (change-point detection costs about N²)")
	return fs
}

// parse parses args into fs, then checks the shared flags and fills the
// repository's web address from the GitHub Actions context when not given.
func (f *flags) parse(fs *flag.FlagSet, args []string) error {
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if f.repo == "" {
		return cli.Usagef("--repo is required (a path to a git repository, file:///PATH or https://github.com/OWNER/REPO.git)")
	}
	if f.repoURL == "" {
		if gc, _ := githubactions.New().Context(); gc != nil && gc.ServerURL != "" && gc.Repository != "" {
			f.repoURL = strings.TrimSuffix(gc.ServerURL, "/") + "/" + gc.Repository
		}
	}
	if f.repoURL != "" && !strings.HasPrefix(f.repoURL, "https://") && !strings.HasPrefix(f.repoURL, "http://") {
		return cli.Usagef("--repo-url %q: want the repository's web address, https://github.com/OWNER/REPO", f.repoURL)
	}
	return nil
}

func remote(url, branch string, stderr io.Writer) history.Remote {
	a := githubactions.New()
	var actor string
	if gc, _ := a.Context(); gc != nil {
		actor = gc.Actor
	}
	return history.Remote{URL: url, Branch: branch, Token: a.Getenv("GITHUB_TOKEN"), Author: actor,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "m18-dash: "+format+"\n", args...) }}
}

// site reads every run and accept marker of the results branch and builds
// the dashboard.
func site(ctx context.Context, f *flags, stderr io.Writer) (*dashboard.Site, error) {
	snap, err := remote(f.repo, f.branch, stderr).Open(ctx)
	if err != nil {
		return nil, err
	}
	entries, warns := snap.List(history.Filter{})
	stored, lw := snap.LoadAll(entries)
	warns = append(warns, lw...)
	docs := make([]*result.Document, 0, len(stored))
	var accepted []dashboard.Accepted
	scenarios := map[string]bool{}
	for _, s := range stored {
		docs = append(docs, s.Doc)
		if !scenarios[s.Doc.Run.Scenario] {
			scenarios[s.Doc.Run.Scenario] = true
			ms, mw := snap.Markers(s.Doc.Run.Scenario, "")
			warns = append(warns, mw...)
			for _, m := range ms {
				accepted = append(accepted, dashboard.Accepted{Scenario: m.Scenario, Fingerprint: m.Fingerprint,
					Commit: m.Commit, Time: m.At, Reason: m.Reason, By: m.By})
			}
		}
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %v\n", w)
	}
	o := dashboard.Options{Title: f.title, RepoURL: f.repoURL, MaxRuns: f.maxRuns}
	if f.source != "" {
		repo, err := git.PlainOpenWithOptions(f.source, &git.PlainOpenOptions{DetectDotGit: true})
		if err != nil {
			return nil, fmt.Errorf("%w: --source-repo %s: %v (pass the checkout of the repository under test)", history.ErrBadInput, f.source, err)
		}
		o.Source = repo
	}
	s, err := dashboard.Build(docs, accepted, o)
	if err != nil {
		return nil, err
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	fmt.Fprintf(stderr, "m18-dash: %d runs, %d scenario × hardware groups from %s (%s)\n", len(docs), len(s.Groups), f.branch, snap.Tip)
	return s, nil
}

func build(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f flags
	fs := newFlags("build", "build --repo R [--source-repo DIR] [--repo-url URL] --out DIR", stderr, &f)
	fs.StringVar(&f.out, "out", "", "`DIR` to write the site into (a new or empty directory, or a dashboard written before)")
	if err := f.parse(fs, args); err != nil {
		return err
	}
	if f.out == "" {
		return cli.Usagef("--out DIR is required")
	}
	s, err := site(ctx, &f, stderr)
	if err != nil {
		return err
	}
	if err := s.Write(f.out); err != nil {
		return fmt.Errorf("%w: %v", history.ErrBadInput, err)
	}
	fmt.Fprintf(stdout, "wrote %s/index.html\n", strings.TrimSuffix(f.out, "/"))
	return nil
}

func publish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f flags
	fs := newFlags("publish", "publish --repo R [--to R2] [--branch gh-pages] [--out DIR]", stderr, &f)
	fs.StringVar(&f.to, "to", "", "repository to publish to (default: --repo)")
	fs.StringVar(&f.pagesBranch, "branch", "gh-pages", "branch to publish the site on")
	fs.StringVar(&f.out, "out", "", "also write the site into `DIR`")
	if err := f.parse(fs, args); err != nil {
		return err
	}
	if f.to == "" {
		f.to = f.repo
	}
	if f.to == f.repo && f.pagesBranch == f.branch {
		return cli.Usagef("--branch %s is the results branch: publish the site on another branch (gh-pages)", f.pagesBranch)
	}
	s, err := site(ctx, &f, stderr)
	if err != nil {
		return err
	}
	if f.out != "" {
		if err := s.Write(f.out); err != nil {
			return fmt.Errorf("%w: %v", history.ErrBadInput, err)
		}
	}
	files, err := s.Files()
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("dashboard: %d scenario × hardware groups, runs up to %s\n", len(s.Groups), s.Updated.Format(time.RFC3339))
	p, err := remote(f.to, f.pagesBranch, stderr).Publish(ctx, files, msg)
	if err != nil {
		return err
	}
	if p.Unchanged {
		fmt.Fprintf(stdout, "%s already holds this dashboard (%s)\n", f.pagesBranch, p.Commit)
		return nil
	}
	fmt.Fprintf(stdout, "published %d files (%d removed) on %s: %s\n", len(p.Added), len(p.Removed), f.pagesBranch, p.Commit)
	return nil
}
