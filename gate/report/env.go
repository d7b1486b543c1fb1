package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
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
	// PR is the pull request number (0: none; no comment, unless the
	// Reporter finds it for a workflow_run, see ResolvePR).
	PR int
	// PRTrusted says PR came from a pull_request event, GitHub's own word;
	// any other number (--pr, an artifact, a workflow_run's list) is
	// verified against the API before a comment is written.
	PRTrusted bool
	// Trigger is the run that triggered a workflow_run event, nil otherwise.
	Trigger *WorkflowRun
	// RunID is this workflow run's id (GITHUB_RUN_ID).
	RunID int64
	// CheckName names the check run (default "m18-gate").
	CheckName string
	// CheckRunID, when set, is an in-progress check run (from Start) to
	// complete instead of creating one.
	CheckRunID int64
	// Comment says when to write the sticky comment.
	Comment CommentMode
	// Key distinguishes several gates reported by one job; with Workflow
	// and Job it makes the comment's marker. Empty: derived by StickyKey
	// from Matrix, else from the verdict's scenario set, so the legs of a
	// matrix keep one comment each.
	Key, Workflow, Job string
	// Matrix is the job's matrix as JSON (${{ toJSON(matrix) }}), to key the
	// sticky comment by when Key is empty.
	Matrix string
	// RunURL links the workflow run that measured (for workflow_run events,
	// the triggering run), computed from the server URL, the repository and
	// the run id; a verdict's own links are never used (see
	// verdict.Verdict.Trusted).
	RunURL string
	// DashboardURL and ArtifactURL, when set by the workflow, are linked
	// from the report; they come from flags, never from the verdict.
	DashboardURL, ArtifactURL string
	// VerdictPath is where the full verdict is, for the step output.
	VerdictPath string
	// BotLogin is our login when GET /user is forbidden, as it is for
	// installation tokens (GITHUB_TOKEN is "github-actions[bot]", a GitHub
	// App's token "SLUG[bot]"). Empty: learned from the bot-authored comment
	// that holds our marker, github-actions[bot] until one exists (see
	// Sticky.Find).
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
	c.CheckName = cmp.Or(c.CheckName, DefaultCheckName)
	c.AnnotationPath = cmp.Or(c.AnnotationPath, DefaultAnnotationPath)
	c.Comment = cmp.Or(c.Comment, CommentAlways)
	c.APIURL = cmp.Or(c.APIURL, DefaultAPIURL)
	return c
}

// ConfigFromEnv reads the GitHub Actions context through getenv, as
// go-githubactions' Context does (GITHUB_REPOSITORY, GITHUB_SHA,
// GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_RUN_ID, GITHUB_WORKFLOW,
// GITHUB_JOB, GITHUB_EVENT_NAME and the event payload at GITHUB_EVENT_PATH),
// plus the secrets GITHUB_TOKEN and M18_SLACK_WEBHOOK. See ConfigFromContext.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	a := githubactions.New(githubactions.WithGetenv(getenv))
	if p := getenv("GITHUB_EVENT_PATH"); p != "" {
		// Context skips a missing payload; a named one that is missing is
		// a broken environment.
		if _, err := os.Stat(p); err != nil {
			return Config{}, fmt.Errorf("GITHUB_EVENT_PATH: %w", err)
		}
	}
	gc, err := a.Context()
	if err != nil {
		return Config{}, fmt.Errorf("GitHub Actions context: %w", err)
	}
	c, err := ConfigFromContext(gc)
	if err != nil {
		return c, err
	}
	c.Token = getenv("GITHUB_TOKEN")
	c.SlackWebhook = getenv(SlackWebhookEnv)
	return c, nil
}

// ConfigFromContext fills a Config from a GitHub Actions context (secrets
// excepted). From the event payload:
//
//   - pull_request / pull_request_target: the PR number and head SHA (a
//     check run on GITHUB_SHA, the merge commit, would not show on the PR);
//     the number is trusted, being GitHub's own;
//   - workflow_run: the triggering run's head SHA, branch and repository,
//     its first pull request's number and its id (for the run link). GitHub
//     leaves workflow_run.pull_requests empty for pull requests from forks;
//     the Reporter then finds the pull request by the head branch and SHA,
//     and verifies any number it did not get from a pull_request event
//     (see Reporter.ResolvePR).
func ConfigFromContext(gc *githubactions.GitHubContext) (Config, error) {
	c := Config{
		APIURL: gc.APIURL, ServerURL: gc.ServerURL, SHA: gc.SHA,
		Workflow: gc.Workflow, Job: gc.Job, RunID: gc.RunID,
	}
	if r := gc.Repository; r != "" {
		o, n, ok := strings.Cut(r, "/")
		if !ok || o == "" || n == "" || strings.Contains(n, "/") {
			return c, fmt.Errorf("GITHUB_REPOSITORY %q: want owner/name", r)
		}
		c.Owner, c.Repo = o, n
	}
	c.RunURL = c.runURL(c.RunID)
	if gc.Event == nil {
		return c, nil
	}
	data, err := json.Marshal(gc.Event)
	if err != nil {
		return c, fmt.Errorf("GITHUB_EVENT_PATH %s: %w", gc.EventPath, err)
	}
	ev, err := ParseEvent(data)
	if err != nil {
		return c, fmt.Errorf("GITHUB_EVENT_PATH %s: %w", gc.EventPath, err)
	}
	if ev.PR > 0 {
		c.PR, c.PRTrusted = ev.PR, ev.WorkflowRun == nil
	}
	if ev.SHA != "" {
		c.SHA = ev.SHA
	}
	if wr := ev.WorkflowRun; wr != nil {
		c.Trigger = wr
		if wr.ID > 0 {
			c.RunURL = c.runURL(wr.ID)
		}
	}
	return c, nil
}

// runURL is the trusted web address of run id of this repository, or "".
func (c Config) runURL(id int64) string {
	if id <= 0 || c.Owner == "" {
		return ""
	}
	server := strings.TrimSuffix(cmp.Or(c.ServerURL, DefaultServerURL), "/")
	return fmt.Sprintf("%s/%s/%s/actions/runs/%d", server, url.PathEscape(c.Owner), url.PathEscape(c.Repo), id)
}

// DefaultServerURL is GitHub.com's web root; GITHUB_SERVER_URL overrides it.
const DefaultServerURL = "https://github.com"

// Event is what the reporter takes from an event payload.
type Event struct {
	// PR is the pull request's number (pull_request events, or a
	// workflow_run's first pull request); 0 when there is none.
	PR int
	// SHA is the commit measured: the pull request's head, or the
	// triggering run's head_sha.
	SHA string
	// WorkflowRun is set for workflow_run events.
	WorkflowRun *WorkflowRun
}

// WorkflowRun is the run that triggered a workflow_run event.
type WorkflowRun struct {
	// ID of the triggering run, for its link.
	ID int64
	// HeadSHA and HeadBranch are what it ran on; HeadOwner owns the
	// repository the branch is in (a fork's owner for fork pull requests).
	HeadSHA, HeadBranch, HeadOwner string
	// Fork is true when the head repository is not the base repository.
	Fork bool
}

// maxEventNumber bounds pull request and run numbers in a payload.
const maxEventNumber = 1 << 53

// ParseEvent extracts what the reporter needs from an event payload. It
// reads the payload as data: numbers must be whole and in range, SHAs hex.
func ParseEvent(data []byte) (Event, error) {
	var p struct {
		PullRequest *struct {
			Number json.Number `json:"number"`
			Head   struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
		WorkflowRun *struct {
			ID             json.Number `json:"id"`
			HeadSHA        string      `json:"head_sha"`
			HeadBranch     string      `json:"head_branch"`
			HeadRepository *struct {
				FullName string `json:"full_name"`
				Owner    struct {
					Login string `json:"login"`
				} `json:"owner"`
			} `json:"head_repository"`
			Repository *struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
			PullRequests []struct {
				Number json.Number `json:"number"`
			} `json:"pull_requests"`
		} `json:"workflow_run"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return Event{}, fmt.Errorf("not a JSON event payload: %w", err)
	}
	var ev Event
	if pr := p.PullRequest; pr != nil {
		n, err := eventNumber("pull_request.number", pr.Number)
		if err != nil {
			return Event{}, err
		}
		ev.PR, ev.SHA = int(n), pr.Head.SHA
		if err := checkSHA("pull_request.head.sha", ev.SHA); err != nil {
			return Event{}, err
		}
	}
	if wr := p.WorkflowRun; wr != nil {
		id, err := eventNumber("workflow_run.id", wr.ID)
		if err != nil {
			return Event{}, err
		}
		if err := checkSHA("workflow_run.head_sha", wr.HeadSHA); err != nil {
			return Event{}, err
		}
		w := &WorkflowRun{ID: id, HeadSHA: wr.HeadSHA, HeadBranch: wr.HeadBranch}
		if hr := wr.HeadRepository; hr != nil {
			w.HeadOwner = hr.Owner.Login
			if r := wr.Repository; r != nil && hr.FullName != "" && !strings.EqualFold(hr.FullName, r.FullName) {
				w.Fork = true
			}
		}
		ev.SHA, ev.WorkflowRun, ev.PR = wr.HeadSHA, w, 0
		if len(wr.PullRequests) > 0 {
			n, err := eventNumber("workflow_run.pull_requests[0].number", wr.PullRequests[0].Number)
			if err != nil {
				return Event{}, err
			}
			ev.PR = int(n)
		}
	}
	return ev, nil
}

func eventNumber(field string, n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || v < 0 || v > maxEventNumber {
		return 0, fmt.Errorf("%s is %s, want a whole number from 0 to 2^53", field, clipRunes(string(n), 40))
	}
	return v, nil
}

// checkSHA accepts "" or 4 to 64 hex digits.
func checkSHA(field, s string) error {
	if s == "" {
		return nil
	}
	ok := len(s) >= 4 && len(s) <= 64
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
	}
	if !ok {
		return fmt.Errorf("%s is %q, want a commit SHA (hex)", field, clipRunes(s, 80))
	}
	return nil
}
