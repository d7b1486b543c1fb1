package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/sethvargo/go-githubactions"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
)

// Problem is one thing the reporter could not do. Problems never change the
// verdict; m18-report turns them into warnings (and, with --strict, a
// non-zero exit).
type Problem struct {
	// Step is what failed: "check run", "pull-request comment", ….
	Step string
	// Permission is the missing workflow permission that explains a 403,
	// such as "checks: write"; "" when that is not the cause.
	Permission string
	Err        error
}

func (p Problem) String() string {
	s := "could not write the " + p.Step
	if p.Permission != "" {
		s += fmt.Sprintf(": the token lacks the `%s` permission (pull requests from forks get a read-only token; "+
			"report from a workflow_run job with `permissions: %s`); wrote the job summary instead", p.Permission, p.Permission)
	}
	if p.Err != nil {
		s += " — " + p.Err.Error()
	}
	return s
}

// Outcome is what Report did.
type Outcome struct {
	CheckRunID  int64
	CheckRunURL string
	Comment     CommentResult
	// PR is the pull request commented on (0: none).
	PR int
	// Login is the identity comments are matched against.
	Login string
	// Verdict is what was published: the input with trusted links and a
	// recomputed summary (see verdict.Verdict.Trusted).
	Verdict   *verdict.Verdict
	SlackSent bool
	// Notes say what was skipped on purpose (no pull request, comment:
	// never, …); Problems what failed.
	Notes    []string
	Problems []Problem
}

// Step outputs, in one spelling (lower case, words joined by "-").
const (
	// OutputVerdict is one of the Verdict* values below.
	OutputVerdict = "verdict"
	// OutputRegressions counts the regressed comparisons.
	OutputRegressions = "regressions"
	// OutputVerdictPath is the verdict file reported.
	OutputVerdictPath = "verdict-path"
	// OutputCheckRunID is the check run's id ("" when none was written).
	OutputCheckRunID = "check-run-id"
	// OutputCommentURL is the sticky comment's address ("" when none).
	OutputCommentURL = "comment-url"
	// OutputPR is the pull request commented on ("" when none).
	OutputPR = "pr"
)

// Values of the verdict output.
const (
	VerdictPass                  = render.OutcomePass
	VerdictRegression            = render.OutcomeRegression
	VerdictCompetitiveRegression = render.OutcomeCompetitiveRegression
	// VerdictInconclusive: no regression, but some comparison could not be
	// decided, or nothing was compared.
	VerdictInconclusive = render.OutcomeInconclusive
	// VerdictError: the verdict could not be read (m18-report sets it
	// before exiting with a usage error).
	VerdictError = "error"
)

// VerdictOutput is the verdict output's value for v, which says what
// happened: a passing verdict with inconclusive comparisons is
// "inconclusive", not "pass".
func VerdictOutput(v *verdict.Verdict) string { return render.Outcome(v) }

// Reporter publishes verdicts to GitHub: a check run, a sticky comment, the
// job summary, step outputs and annotations, and a Slack alert.
type Reporter struct {
	cfg    Config
	client *gh.Client
	action *githubactions.Action
	policy RetryPolicy
	base   http.RoundTripper
	slack  *http.Client
}

// Option configures a Reporter.
type Option func(*Reporter)

// WithAction sets the go-githubactions handle used for the job summary,
// step outputs, annotations and masks (default githubactions.New()); tests
// build one with WithWriter and WithGetenv to capture what is written.
func WithAction(a *githubactions.Action) Option { return func(r *Reporter) { r.action = a } }

// WithRetryPolicy sets the waiting policy for GitHub and Slack.
func WithRetryPolicy(p RetryPolicy) Option { return func(r *Reporter) { r.policy = p } }

// WithTransport sets the HTTP transport under the GitHub client.
func WithTransport(rt http.RoundTripper) Option { return func(r *Reporter) { r.base = rt } }

// WithSlackClient sets the HTTP client for the Slack webhook.
func WithSlackClient(hc *http.Client) Option { return func(r *Reporter) { r.slack = hc } }

// New returns a Reporter for cfg. It masks the token and the Slack webhook
// URL in the job log before anything else is written.
func New(cfg Config, opts ...Option) (*Reporter, error) {
	r := &Reporter{cfg: cfg.withDefaults(), policy: DefaultRetryPolicy}
	for _, o := range opts {
		o(r)
	}
	if r.action == nil {
		r.action = githubactions.New()
	}
	if r.inActions() {
		for _, secret := range []string{r.cfg.Token, r.cfg.SlackWebhook} {
			if secret != "" {
				r.action.AddMask(secret)
			}
		}
	}
	if r.policy.Notify == nil {
		r.policy.Notify = func(msg string) { r.log("%s", msg) }
	}
	if r.cfg.Token != "" {
		c, err := NewClient(r.cfg.Token, r.cfg.APIURL, r.policy, r.base)
		if err != nil {
			return nil, err
		}
		r.client = c
	}
	return r, nil
}

func (r *Reporter) inActions() bool { return r.action.Getenv("GITHUB_ACTIONS") == "true" }

func (r *Reporter) log(format string, args ...any) {
	if r.inActions() {
		r.action.Infof(format, args...)
	}
}

func (r *Reporter) now() time.Time {
	if r.policy.Now != nil {
		return r.policy.Now()
	}
	return time.Now()
}

func (r *Reporter) title() string { return r.titleFor(r.cfg.Key) }

// titleFor is the check name, followed by the sticky key unless it is the
// default one.
func (r *Reporter) titleFor(key string) string {
	if key != "" && key != DefaultKey {
		return r.cfg.CheckName + " · " + key
	}
	return r.cfg.CheckName
}

// apiReady says why the GitHub API parts cannot run, or "".
func (r *Reporter) apiReady() string {
	switch {
	case r.client == nil:
		return "no token (set GITHUB_TOKEN)"
	case r.cfg.Owner == "" || r.cfg.Repo == "":
		return "no repository (set GITHUB_REPOSITORY or --repo owner/name)"
	}
	return ""
}

func (r *Reporter) checkRun() *CheckRun {
	return &CheckRun{
		Client: r.client, Owner: r.cfg.Owner, Repo: r.cfg.Repo, Name: r.cfg.CheckName,
		SHA: r.cfg.SHA, DetailsURL: render.SafeURL(r.cfg.RunURL), ID: r.cfg.CheckRunID,
	}
}

// Start creates the check run in_progress and returns its id (also set as
// the step output check-run-id), to be completed by a later Report with
// Config.CheckRunID.
func (r *Reporter) Start(ctx context.Context) (int64, error) {
	if why := r.apiReady(); why != "" {
		return 0, errors.New(why)
	}
	if r.cfg.SHA == "" {
		return 0, errors.New("no commit (set GITHUB_SHA or --sha)")
	}
	cr := r.checkRun()
	if err := cr.Start(ctx, r.now()); err != nil {
		return 0, classify("check run", err, "checks: write")
	}
	if r.action.Getenv("GITHUB_OUTPUT") != "" {
		safely("step outputs", func() { r.action.SetOutput("check-run-id", strconv.FormatInt(cr.ID, 10)) })
	}
	return cr.ID, nil
}

// classify wraps err as a Problem, naming permission when GitHub refused
// with 403 (and not for a rate limit).
func classify(step string, err error, permission string) Problem {
	p := Problem{Step: step, Err: err}
	if statusOf(err) == http.StatusForbidden && !isRateLimit(err) {
		p.Permission = permission
	}
	return p
}

// Refused reports whether the problem is a refusal (a *RefusedError), which
// no flag turns into a warning.
func (p Problem) Refused() bool {
	var re *RefusedError
	return errors.As(p.Err, &re)
}

// Error makes a Problem usable as an error.
func (p Problem) Error() string { return p.String() }

// Report publishes v everywhere it can and says what it did. It returns no
// error: every failure is a Problem in the Outcome, because reporting must
// never change the gate's verdict. The job summary is always written when
// GITHUB_STEP_SUMMARY is set.
func (r *Reporter) Report(ctx context.Context, v *verdict.Verdict) *Outcome {
	out := &Outcome{}
	// The verdict may come from an artifact a pull request wrote: its
	// links and summary are replaced by what we compute ourselves.
	v = v.Trusted(verdict.Links{Run: r.cfg.RunURL, Dashboard: r.cfg.DashboardURL, Artifact: r.cfg.ArtifactURL})
	out.Verdict = v
	if why := r.apiReady(); why != "" {
		if r.inActions() {
			out.Problems = append(out.Problems, Problem{Step: "check run and comment", Err: errors.New(why)})
		} else {
			out.Notes = append(out.Notes, "GitHub API skipped: "+why)
		}
	} else {
		r.publishCheckRun(ctx, v, out)
		r.publishComment(ctx, v, out)
	}
	r.alert(ctx, v, out)
	r.writeStep(v, out)
	return out
}

func (r *Reporter) publishCheckRun(ctx context.Context, v *verdict.Verdict, out *Outcome) {
	if r.cfg.SHA == "" && r.cfg.CheckRunID == 0 {
		out.Problems = append(out.Problems, Problem{Step: "check run", Err: errors.New("no commit (set GITHUB_SHA or --sha)")})
		return
	}
	cr := r.checkRun()
	err := cr.Complete(ctx, Output(v, r.cfg.AnnotationPath, r.cfg.ArtifactName), r.now())
	out.CheckRunID, out.CheckRunURL = cr.ID, cr.URL
	if err != nil {
		out.Problems = append(out.Problems, classify("check run", err, "checks: write"))
	}
}

func (r *Reporter) publishComment(ctx context.Context, v *verdict.Verdict, out *Outcome) {
	switch {
	case r.cfg.Comment == CommentNever:
		out.Comment.Action = "skipped"
		out.Notes = append(out.Notes, "pull-request comment skipped (comment: never)")
		return
	}
	pr, err := r.ResolvePR(ctx)
	if err != nil {
		out.Comment.Action = "skipped"
		out.Problems = append(out.Problems, classify("pull-request comment", err, "pull-requests: read"))
		return
	}
	out.PR = pr
	if pr <= 0 {
		out.Comment.Action = "skipped"
		why := "not a pull_request or workflow_run event; pass --pr"
		if t := r.cfg.Trigger; t != nil {
			why = fmt.Sprintf("no open pull request has head %s:%s at %s", cmp.Or(t.HeadOwner, r.cfg.Owner), t.HeadBranch, shortSHA(r.cfg.SHA))
		}
		out.Notes = append(out.Notes, "pull-request comment skipped: no pull request ("+why+")")
		return
	}
	login, known, err := Identity(ctx, r.client, r.cfg.BotLogin)
	if err != nil {
		out.Problems = append(out.Problems, classify("pull-request comment", fmt.Errorf("who am I (GET /user): %w", err), "pull-requests: write"))
		return
	}
	key := StickyKey(r.cfg.Key, r.cfg.Matrix, v)
	s := &Sticky{Client: r.client, Owner: r.cfg.Owner, Repo: r.cfg.Repo, PR: pr,
		Marker: Marker(r.cfg.Workflow, r.cfg.Job, key), Login: login, LoginKnown: known}
	body := CommentBody(v, s.Marker, r.titleFor(key), r.cfg.ArtifactName)
	res, err := s.Upsert(ctx, body, v, r.cfg.Comment)
	out.Comment, out.Login = res, s.Login
	if err != nil {
		out.Problems = append(out.Problems, classify("pull-request comment", err, "pull-requests: write"))
	}
}

func (r *Reporter) alert(ctx context.Context, v *verdict.Verdict, out *Outcome) {
	if !r.cfg.Slack {
		return
	}
	if r.cfg.SlackWebhook == "" {
		out.Problems = append(out.Problems, Problem{Step: "Slack alert", Err: fmt.Errorf("$%s is not set", SlackWebhookEnv)})
		return
	}
	if v.Summary.Regressed == 0 && v.Summary.Outcome == verdict.OutcomePass {
		out.Notes = append(out.Notes, "Slack alert not sent: no regression")
		return
	}
	where := r.cfg.Owner + "/" + r.cfg.Repo
	if r.cfg.PR > 0 {
		where += " PR " + strconv.Itoa(r.cfg.PR)
	} else if r.cfg.SHA != "" {
		where += " @ " + shortSHA(r.cfg.SHA)
	}
	if err := PostSlack(ctx, r.slack, r.cfg.SlackWebhook, AlertMessage(v, strings.Trim(where, "/")), r.policy); err != nil {
		out.Problems = append(out.Problems, Problem{Step: "Slack alert", Err: err})
		return
	}
	out.SlackSent = true
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// writeStep writes the job summary, step outputs and annotations.
func (r *Reporter) writeStep(v *verdict.Verdict, out *Outcome) {
	a := r.action
	if a.Getenv("GITHUB_STEP_SUMMARY") != "" {
		md := StepSummary(v, r.title(), r.cfg.ArtifactName, out.Problems)
		if err := safely("job summary", func() { a.AddStepSummary(md) }); err != nil {
			out.Problems = append(out.Problems, Problem{Step: "job summary", Err: err})
		}
	} else if r.inActions() {
		out.Problems = append(out.Problems, Problem{Step: "job summary", Err: errors.New("GITHUB_STEP_SUMMARY is not set")})
	}
	if a.Getenv("GITHUB_OUTPUT") != "" {
		outputs := [][2]string{
			{OutputVerdict, VerdictOutput(v)},
			{OutputRegressions, strconv.Itoa(v.Summary.Regressed)},
			{OutputVerdictPath, r.cfg.VerdictPath},
			{OutputCheckRunID, ""},
			{OutputCommentURL, out.Comment.URL},
			{OutputPR, ""},
		}
		if out.CheckRunID != 0 {
			outputs[3][1] = strconv.FormatInt(out.CheckRunID, 10)
		}
		if out.PR > 0 {
			outputs[5][1] = strconv.Itoa(out.PR)
		}
		if err := safely("step outputs", func() {
			for _, kv := range outputs {
				a.SetOutput(kv[0], kv[1])
			}
		}); err != nil {
			out.Problems = append(out.Problems, Problem{Step: "step outputs", Err: err})
		}
	}
	if !r.inActions() {
		return
	}
	errs, warns := stepAnnotations(v, out.Problems)
	safely("annotations", func() {
		for _, e := range errs {
			issue(a, "error", e)
		}
		for _, w := range warns {
			issue(a, "warning", w)
		}
	})
}
