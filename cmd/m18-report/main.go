// Command m18-report publishes an m18-gate verdict on GitHub: a check run
// with annotations, one sticky pull-request comment, the job summary, step
// outputs and an optional Slack alert. Reporting problems never change the
// verdict: they are warnings, and fail the step only with --strict.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	report "github.com/engram/m18-gate/gate/github"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
)

// Exit codes.
const (
	exitOK        = 0
	exitBadInput  = cli.ExitUsage
	exitReporting = 4
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

const usage = `m18-report: publish an m18-gate verdict where people look.

Usage:
  m18-report --verdict verdict.json [flags]     report a verdict
  m18-report --start [flags]                    create the check run "in progress"
                                                (prints its id; pass it back with --check-run-id)

It writes a check run (conclusion failure / success / neutral, annotations
50 per request), one sticky pull-request comment per (workflow, job, key),
the job summary ($GITHUB_STEP_SUMMARY), step outputs (verdict, regressions,
verdict-path, check-run-id, comment-url), ::error/::warning annotations, and
with --slack an alert to the incoming webhook in $M18_SLACK_WEBHOOK.

Inside GitHub Actions the rest comes from the environment: GITHUB_TOKEN,
GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_API_URL (GitHub Enterprise Server),
GITHUB_SERVER_URL, GITHUB_RUN_ID, GITHUB_WORKFLOW, GITHUB_JOB and the event
at GITHUB_EVENT_PATH (pull_request: number and head SHA; workflow_run: the
triggering run's head SHA, URL and first pull request). Flags override it.
Outside Actions, the verdict is printed as a table.

Permissions: checks: write (check run), pull-requests: write (comment). A
read-only token (pull requests from forks) degrades to the job summary and a
warning naming the missing permission.

Flags:
`

const footer = `
Exit codes:
  0  reported, or reporting problems shown as warnings (the verdict stands)
  3  usage error, or the verdict is unreadable or invalid
  4  with --strict: some part of the report could not be published

Example:
  m18-report --verdict verdict.json --comment on-change --key pr-gate
`

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
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
		key         = fs.String("key", report.DefaultKey, "`key` that tells apart several gates reported by one job")
		slack       = fs.Bool("slack", false, "alert Slack on regressions (webhook URL in $"+report.SlackWebhookEnv+")")
		strict      = fs.Bool("strict", false, "exit 4 when any part of the report cannot be published")
		botLogin    = fs.String("bot-login", report.DefaultBotLogin, "our `login` when the token cannot call GET /user (a GitHub App: SLUG[bot])")
		annotPath   = fs.String("annotation-path", report.DefaultAnnotationPath, "`file` annotations point at when a comparison has no source line")
		artifact    = fs.String("artifact", render.DefaultArtifactName, "`name` of the artifact holding the full verdict, for truncated reports")
		timeout     = fs.Duration("timeout", 10*time.Minute, "give up reporting after this `duration`")
	)
	fs.Usage = cli.Usage(fs, usage, footer)
	if code, done := cli.Parse(fs, args); done {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "m18-report: "+format+"\n", a...)
		return exitBadInput
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (see --help)", fs.Arg(0))
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
		cfg.PR = *pr
	}
	if *sha != "" {
		cfg.SHA = *sha
	}
	mode, err := report.ParseCommentMode(*comment)
	if err != nil {
		return fail("--comment: %v", err)
	}
	cfg.Comment, cfg.CheckName, cfg.CheckRunID, cfg.Key = mode, *checkName, *checkRunID, *key
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
				return exitReporting
			}
			return exitOK
		}
		fmt.Fprintln(stdout, strconv.FormatInt(id, 10))
		return exitOK
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
	if len(out.Problems) > 0 && *strict {
		return exitReporting
	}
	return exitOK
}
