package github

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// CommentMode says when the sticky pull-request comment is written.
type CommentMode string

// Comment modes.
//
// CommentOnChange writes the comment only when it has something new to
// say: when a comment of ours exists, it is updated if the decision set
// (every scenario, operation, metric and decision, and every skip) differs
// from the one recorded in it, or if the verdict has any regression; when
// none exists, one is created if any comparison is not "unchanged"
// (a regression, an improvement or an inconclusive result). A quiet, passing
// pull request thus gets no comment, and a comment that once reported a
// regression is brought up to date when it clears.
const (
	CommentAlways   CommentMode = "always"
	CommentOnChange CommentMode = "on-change"
	CommentNever    CommentMode = "never"
)

// ParseCommentMode reads "always", "on-change" or "never".
func ParseCommentMode(s string) (CommentMode, error) {
	switch m := CommentMode(strings.ToLower(strings.TrimSpace(s))); m {
	case CommentAlways, CommentOnChange, CommentNever:
		return m, nil
	case "":
		return CommentAlways, nil
	}
	return "", fmt.Errorf("comment mode %q: want always, on-change or never", s)
}

// Config is everything the reporter needs besides the verdict. ConfigFromEnv
// fills it from a GitHub Actions environment; flags override fields.
type Config struct {
	// Token authenticates API calls (GITHUB_TOKEN); empty skips them.
	Token string
	// APIURL is the REST API root (GITHUB_API_URL); ServerURL the web root
	// (GITHUB_SERVER_URL), for links.
	APIURL, ServerURL string
	// Owner and Repo name the repository (GITHUB_REPOSITORY).
	Owner, Repo string
	// SHA is the commit the check run belongs to: the pull request's head
	// (from the event), else GITHUB_SHA.
	SHA string
	// PR is the pull request number (0: none; no comment).
	PR int
	// CheckName names the check run (default "m18-gate").
	CheckName string
	// CheckRunID, when set, is an in-progress check run (from Start) to
	// complete instead of creating one.
	CheckRunID int64
	// Comment says when to write the sticky comment.
	Comment CommentMode
	// Key distinguishes several gates reported by one job (default
	// "default"); with Workflow and Job it makes the comment's marker.
	Key, Workflow, Job string
	// RunURL links the workflow run that measured (for workflow_run events,
	// the triggering run).
	RunURL string
	// VerdictPath is where the full verdict is, for the step output.
	VerdictPath string
	// BotLogin is the identity assumed when GET /user is forbidden, as it
	// is for installation tokens (default "github-actions[bot]", the
	// identity of GITHUB_TOKEN; a GitHub App's token is "SLUG[bot]").
	BotLogin string
	// AnnotationPath is the file annotations point at when a comparison has
	// no Source (default ".github/m18-gate.toml").
	AnnotationPath string
	// ArtifactName names the artifact holding the full verdict.
	ArtifactName string
	// Slack enables the alert; SlackWebhook is the incoming-webhook URL
	// (from M18_SLACK_WEBHOOK), never printed.
	Slack        bool
	SlackWebhook string
}

// Defaults.
const (
	DefaultCheckName      = "m18-gate"
	DefaultKey            = "default"
	DefaultBotLogin       = "github-actions[bot]"
	DefaultAnnotationPath = ".github/m18-gate.toml"
	// SlackWebhookEnv names the environment variable holding the Slack
	// incoming-webhook URL.
	SlackWebhookEnv = "M18_SLACK_WEBHOOK"
)

func (c Config) withDefaults() Config {
	if c.CheckName == "" {
		c.CheckName = DefaultCheckName
	}
	if c.Key == "" {
		c.Key = DefaultKey
	}
	if c.BotLogin == "" {
		c.BotLogin = DefaultBotLogin
	}
	if c.AnnotationPath == "" {
		c.AnnotationPath = DefaultAnnotationPath
	}
	if c.Comment == "" {
		c.Comment = CommentAlways
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	return c
}

// ConfigFromEnv reads the standard GitHub Actions environment through
// getenv: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_API_URL,
// GITHUB_SERVER_URL, GITHUB_RUN_ID, GITHUB_WORKFLOW, GITHUB_JOB,
// M18_SLACK_WEBHOOK, and the event payload at GITHUB_EVENT_PATH:
//
//   - pull_request / pull_request_target: the PR number and head SHA (a
//     check run on GITHUB_SHA, the merge commit, would not show on the PR);
//   - workflow_run: the triggering run's head SHA, its first pull request's
//     number and its URL. GitHub leaves workflow_run.pull_requests empty for
//     pull requests from forks; pass --pr then (from a trusted source).
//
// The event payload is read as data; a missing or unreadable one is an
// error only when GITHUB_EVENT_PATH names it.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Token:        getenv("GITHUB_TOKEN"),
		APIURL:       getenv("GITHUB_API_URL"),
		ServerURL:    getenv("GITHUB_SERVER_URL"),
		SHA:          getenv("GITHUB_SHA"),
		Workflow:     getenv("GITHUB_WORKFLOW"),
		Job:          getenv("GITHUB_JOB"),
		SlackWebhook: getenv(SlackWebhookEnv),
	}
	if r := getenv("GITHUB_REPOSITORY"); r != "" {
		o, n, ok := strings.Cut(r, "/")
		if !ok || o == "" || n == "" {
			return c, fmt.Errorf("GITHUB_REPOSITORY %q: want owner/name", r)
		}
		c.Owner, c.Repo = o, n
	}
	server := c.ServerURL
	if server == "" {
		server = "https://github.com"
	}
	if id := getenv("GITHUB_RUN_ID"); id != "" && c.Owner != "" {
		c.RunURL = fmt.Sprintf("%s/%s/%s/actions/runs/%s", strings.TrimSuffix(server, "/"), c.Owner, c.Repo, id)
	}
	if p := getenv("GITHUB_EVENT_PATH"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return c, fmt.Errorf("GITHUB_EVENT_PATH: %w", err)
		}
		ev, err := parseEvent(data)
		if err != nil {
			return c, fmt.Errorf("GITHUB_EVENT_PATH %s: %w", p, err)
		}
		if ev.pr > 0 {
			c.PR = ev.pr
		}
		if ev.sha != "" {
			c.SHA = ev.sha
		}
		if ev.runURL != "" {
			c.RunURL = ev.runURL
		}
	}
	return c, nil
}

type event struct {
	pr     int
	sha    string
	runURL string
}

// parseEvent extracts what the reporter needs from an event payload.
func parseEvent(data []byte) (event, error) {
	var p struct {
		PullRequest *struct {
			Number int `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
		WorkflowRun *struct {
			HeadSHA      string `json:"head_sha"`
			HTMLURL      string `json:"html_url"`
			PullRequests []struct {
				Number int `json:"number"`
			} `json:"pull_requests"`
		} `json:"workflow_run"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return event{}, fmt.Errorf("not a JSON event payload: %w", err)
	}
	var ev event
	if pr := p.PullRequest; pr != nil {
		ev.pr, ev.sha = pr.Number, pr.Head.SHA
	}
	if wr := p.WorkflowRun; wr != nil {
		ev.sha, ev.runURL = wr.HeadSHA, wr.HTMLURL
		if len(wr.PullRequests) > 0 {
			ev.pr = wr.PullRequests[0].Number
		}
	}
	if ev.pr < 0 {
		return event{}, fmt.Errorf("pull request number %s is negative", strconv.Itoa(ev.pr))
	}
	return ev, nil
}
