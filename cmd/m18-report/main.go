// Command m18-report publishes an m18-gate verdict on GitHub: a check run
// with annotations, one sticky pull-request comment, the job summary, step
// outputs and an optional Slack alert. Reporting problems never change the
// verdict: they are warnings, and fail the step only with --strict.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/report"
	"github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/internal/sizecap"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `m18-report: publish an m18-gate verdict where people look.

Usage:
  m18-report --verdict verdict.json [flags]     report a verdict
  m18-report --start [flags]                    create the check run "in progress"
                                                (prints its id; pass it back with --check-run-id)
  m18-report --changepoints cp.json [--slack]   alert about the new change points of
                                                m18-gate changepoints --output cp.json

It writes a check run (conclusion failure / success / neutral, annotations
50 per request), one sticky pull-request comment per (workflow, job, key),
the job summary ($GITHUB_STEP_SUMMARY), step outputs, ::error/::warning
annotations, and with --slack an alert to the incoming webhook in
$M18_SLACK_WEBHOOK.

The verdict is untrusted data (it may come from a pull request's artifact):
its outcome is recomputed from its comparisons, and its links are replaced
by the workflow run's (computed from the GitHub context) and --dashboard-url
and --artifact-url.

Inside GitHub Actions the rest comes from the GitHub context: GITHUB_TOKEN,
GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_API_URL (GitHub Enterprise Server),
GITHUB_SERVER_URL, GITHUB_RUN_ID, GITHUB_WORKFLOW, GITHUB_JOB and the event
at GITHUB_EVENT_PATH:
  pull_request    the number and head SHA, used as they are;
  workflow_run    the triggering run's head SHA and id; the pull request is
                  its first listed one or, for forks (GitHub lists none), the
                  open pull request of its head OWNER:BRANCH at that SHA.
A pull request number not from a pull_request event (--pr, the workflow_run
list, the lookup) is verified first: GET /repos/OWNER/REPO/pulls/N must
report the measured commit as its head, or m18-report refuses to comment
(exit 5). Flags override the context. Outside Actions, the verdict is
printed as a table.

The sticky comment's key: --key, else the values of --matrix, else the
verdict's scenario set; so matrix legs keep a comment each. With an
installation token (GITHUB_TOKEN, a GitHub App's) the bot's login is learned
from the comment it created unless --bot-login names it.

Step outputs:
  verdict        pass | regression | competitive-regression | inconclusive |
                 error (inconclusive: something could not be decided, or
                 nothing was compared; error: the verdict was unreadable)
  regressions    how many comparisons regressed
  verdict-path   the --verdict file
  check-run-id   the check run's id (empty when none was written)
  comment-url    the sticky comment's URL (empty when none)
  pr             the pull request commented on (empty when none)

Permissions: checks: write (check run), pull-requests: write (comment; read
suffices to verify a pull request). A read-only token (pull requests from
forks) degrades to the job summary and a warning naming the missing
permission.

Flags:
`

const footer = `
Exit codes (the table every m18 command follows; README.md):
  0  reported, or reporting problems shown as warnings (the verdict stands;
     the gate's exit code, not this one, says whether it regressed)
  3  usage error, or the verdict is unreadable, over 32 MiB or invalid
  4  with --strict: some part of the report could not be published
  5  refused: the pull request is not the measured commit's (see above)

Examples:
  m18-report --verdict verdict.json --comment on-change --key pr-gate
  m18-report --verdict verdict.json --matrix '${{ toJSON(matrix) }}'
  m18-report --verdict verdict/verdict.json --pr "$(cat verdict/pr)"   # verified
`

// Errors of reportVerdict beyond usage errors (cli.ErrUsage), each its own
// exit code (exitCode).
var (
	// errIncomplete: with --strict, a part of the report was not published.
	errIncomplete = errors.New("some part of the report could not be published (--strict)")
	// errRefused: the pull request is not the measured commit's.
	errRefused = errors.New("refused")
)

// exitCode maps the error of reportVerdict to the exit code.
func exitCode(err error) int {
	switch {
	case errors.Is(err, errRefused):
		return cli.ExitRefused
	case errors.Is(err, errIncomplete):
		return cli.ExitIncomplete
	}
	return cli.ExitUsage
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := reportVerdict(args, getenv, stdout, stderr)
	if errors.Is(err, cli.ErrUsage) {
		setOutput(getenv, stdout, report.OutputVerdict, report.VerdictError)
	}
	return cli.Finish("m18-report", err, stderr, exitCode)
}

// reportVerdict publishes a verdict (or, with --start, opens a check run).
func reportVerdict(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("m18-report", stderr)
	var (
		verdictPath = fs.String("verdict", "", "the m18.verdict/v1 `file` to report (required unless --start)")
		repoFlag    = fs.String("repo", "", "repository `owner/name` (default $GITHUB_REPOSITORY)")
		pr          = fs.Int("pr", 0, "pull request `number` to comment on (default: from the event)")
		sha         = fs.String("sha", "", "commit `SHA` of the check run (default: PR head from the event, else $GITHUB_SHA)")
		checkName   = fs.String("check-name", report.DefaultCheckName, "check run `name`")
		checkRunID  = fs.Int64("check-run-id", 0, "complete this in-progress check run `id` (from --start) instead of creating one")
		start       = fs.Bool("start", false, "create the check run in progress, print its id, and exit")
		comment     = fs.String("comment", "always", "when to write the sticky comment: `always|on-change|never`")
		key         = fs.String("key", "", "`key` of the sticky comment, telling apart several gates of one job (default: from --matrix, else the scenario set)")
		matrix      = fs.String("matrix", "", "the job's matrix as `JSON` (${{ toJSON(matrix) }}), keying the sticky comment when --key is not given")
		dashboard   = fs.String("dashboard-url", "", "dashboard `URL` to link from the report (a verdict's own links are dropped)")
		artifactURL = fs.String("artifact-url", "", "`URL` of the full verdict artifact to link from the report")
		slack       = fs.Bool("slack", false, "alert Slack on regressions (webhook URL in $"+report.SlackWebhookEnv+")")
		strict      = fs.Bool("strict", false, "exit 4 when any part of the report cannot be published")
		botLogin    = fs.String("bot-login", "", "our `login` when the token cannot call GET /user (a GitHub App: SLUG[bot]; default: learned from our comment)")
		annotPath   = fs.String("annotation-path", report.DefaultAnnotationPath, "`file` annotations point at when a comparison has no source line")
		artifact    = fs.String("artifact", render.DefaultArtifactName, "`name` of the artifact holding the full verdict, for truncated reports")
		timeout     = fs.Duration("timeout", 10*time.Minute, "give up reporting after this `duration`")
		changes     = fs.String("changepoints", "", "report the new (\"recent\") change points of this `file` from m18-gate changepoints --output, instead of a verdict")
	)
	showVersion := cli.VersionFlag(fs)
	fs.Usage = cli.Usage(fs, usage, footer)
	if err := cli.ParseFlagsOnly(fs, args, showVersion, stdout); err != nil {
		return err
	}
	fail := cli.Usagef
	if *changes != "" {
		if *verdictPath != "" || *start {
			return fail("--changepoints reports change points alone; drop --verdict and --start")
		}
		return reportChangePoints(*changes, *slack, *strict, *timeout, getenv, stdout, stderr)
	}
	if *verdictPath == "" && !*start {
		return fail("--verdict is required (see --help)")
	}

	cfg, err := report.ConfigFromEnv(getenv)
	if err != nil {
		return fail("%v", err)
	}
	if *repoFlag != "" {
		o, n, ok := strings.Cut(*repoFlag, "/")
		if !ok || o == "" || n == "" || strings.Contains(n, "/") {
			return fail("--repo %q: want owner/name", *repoFlag)
		}
		cfg.Owner, cfg.Repo = o, n
	}
	if *pr < 0 {
		return fail("--pr %d: want a pull request number", *pr)
	} else if *pr > 0 {
		cfg.PR, cfg.PRTrusted = *pr, false // verified before use
	}
	if *sha != "" {
		cfg.SHA = *sha
	}
	mode, err := report.ParseCommentMode(*comment)
	if err != nil {
		return fail("--comment: %v", err)
	}
	cfg.Comment, cfg.CheckName, cfg.CheckRunID, cfg.Key, cfg.Matrix = mode, *checkName, *checkRunID, *key, *matrix
	for _, u := range []struct{ flag, url string }{{"--dashboard-url", *dashboard}, {"--artifact-url", *artifactURL}} {
		if u.url != "" && render.SafeURL(u.url) == "" {
			return fail("%s %q: want an http(s) URL", u.flag, u.url)
		}
	}
	cfg.DashboardURL, cfg.ArtifactURL = *dashboard, *artifactURL
	cfg.Slack, cfg.BotLogin, cfg.AnnotationPath, cfg.ArtifactName = *slack, *botLogin, *annotPath, *artifact
	cfg.VerdictPath = *verdictPath

	act := githubactions.New(githubactions.WithWriter(stdout), githubactions.WithGetenv(getenv))
	rep, err := report.New(cfg, report.WithAction(act))
	if err != nil {
		return fail("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	inActions := getenv("GITHUB_ACTIONS") == "true"

	if *start {
		id, err := rep.Start(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "m18-report: warning: %v\n", err)
			if inActions {
				act.Warningf("m18-report: %v", err)
			}
			if *strict {
				return errIncomplete
			}
			return nil
		}
		fmt.Fprintln(stdout, strconv.FormatInt(id, 10))
		return nil
	}

	v, err := verdict.ReadFile(*verdictPath)
	if err != nil {
		return fail("%v", err)
	}
	if !inActions {
		render.Text(stdout, v)
	}
	out := rep.Report(ctx, v)
	for _, n := range out.Notes {
		fmt.Fprintf(stderr, "m18-report: %s\n", n)
	}
	if out.CheckRunURL != "" {
		fmt.Fprintf(stderr, "m18-report: check run %s\n", out.CheckRunURL)
	}
	if out.Comment.URL != "" {
		fmt.Fprintf(stderr, "m18-report: comment %s (%s)\n", out.Comment.URL, out.Comment.Action)
	}
	if !inActions {
		// Inside Actions the problems are already ::warning annotations.
		for _, p := range out.Problems {
			fmt.Fprintf(stderr, "m18-report: warning: %s\n", p)
		}
	}
	for _, p := range out.Problems {
		if p.Refused() {
			return fmt.Errorf("%w: %s", errRefused, p)
		}
	}
	if len(out.Problems) > 0 && *strict {
		return errIncomplete
	}
	return nil
}

// reportChangePoints prints the new change points of an m18-gate
// changepoints analysis and, with slack, alerts the webhook in
// $M18_SLACK_WEBHOOK about them (nothing is sent when none is new). A
// failed alert is a warning, exit 4 with strict.
func reportChangePoints(path string, slack, strict bool, timeout time.Duration, getenv func(string) string, stdout, stderr io.Writer) error {
	data, err := sizecap.ReadFile(path, verdict.MaxFileBytes, "change points")
	if err != nil {
		return cli.Usagef("%v", err)
	}
	var all []series.Changes
	if err := json.Unmarshal(data, &all); err != nil {
		return cli.Usagef("%s: not the JSON of m18-gate changepoints --output: %v", path, err)
	}
	recent := series.Recent(all)
	if len(recent) == 0 {
		fmt.Fprintf(stdout, "m18-report: no new change point in %d series\n", len(all))
		return nil
	}
	cfg, err := report.ConfigFromEnv(getenv)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	where := strings.Trim(cfg.Owner+"/"+cfg.Repo, "/")
	if cfg.SHA != "" {
		where += " @ " + cfg.SHA[:min(12, len(cfg.SHA))]
	}
	m := report.ChangePointMessage(recent, where, cfg.RunURL)
	fmt.Fprintln(stdout, render.Plain(m.Headline))
	for _, l := range m.Lines {
		fmt.Fprintln(stdout, "  "+render.Plain(l))
	}
	if !slack {
		return nil
	}
	problem := func(err error) error {
		fmt.Fprintf(stderr, "m18-report: warning: Slack alert: %v\n", err)
		if getenv("GITHUB_ACTIONS") == "true" {
			githubactions.New(githubactions.WithWriter(stdout), githubactions.WithGetenv(getenv)).Warningf("m18-report: Slack alert: %v", err)
		}
		if strict {
			return fmt.Errorf("%w: Slack alert: %v", errIncomplete, err)
		}
		return nil
	}
	if cfg.SlackWebhook == "" {
		return problem(fmt.Errorf("$%s is not set", report.SlackWebhookEnv))
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := report.PostSlack(ctx, nil, cfg.SlackWebhook, m, report.RetryPolicy{}); err != nil {
		return problem(err)
	}
	fmt.Fprintln(stdout, "m18-report: Slack alerted")
	return nil
}

// setOutput sets a step output when $GITHUB_OUTPUT is set (for the error
// paths, before a Reporter exists).
func setOutput(getenv func(string) string, stdout io.Writer, name, value string) {
	if getenv("GITHUB_OUTPUT") == "" {
		return
	}
	a := githubactions.New(githubactions.WithWriter(stdout), githubactions.WithGetenv(getenv))
	defer func() { recover() }() // an unwritable file: the exit code says it
	a.SetOutput(name, value)
}
