package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sethvargo/go-githubactions"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/fakegithub"
)

// fakeClock is a clock whose Sleep advances time instantly.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

const (
	owner, repo = "engram", "engram"
	prNumber    = 42
	headSHA     = "fedcba9876543210fedcba9876543210fedcba98"
)

// harness is a fake GitHub, a fake clock and a captured Actions step.
type harness struct {
	t      *testing.T
	fake   *fakegithub.Server
	clock  *fakeClock
	dir    string
	stdout *bytes.Buffer
	env    map[string]string
}

func newHarness(t *testing.T, opts ...fakegithub.Option) *harness {
	h := &harness{t: t, clock: &fakeClock{t: time.Unix(1_760_000_000, 0)}, dir: t.TempDir(), stdout: &bytes.Buffer{}}
	base := []fakegithub.Option{
		fakegithub.WithClock(h.clock.Now),
		fakegithub.WithToken("ghs_rw", fakegithub.ActionsToken(fakegithub.Write, fakegithub.Write)),
		fakegithub.WithToken("ghs_ro", fakegithub.ActionsToken(fakegithub.Read, fakegithub.Read)),
		fakegithub.WithToken("ghs_checks_only", fakegithub.ActionsToken(fakegithub.Write, fakegithub.Read)),
		fakegithub.WithToken("ghp_octocat", fakegithub.UserToken("octocat")),
		fakegithub.WithToken("ghp_mallory", fakegithub.UserToken("mallory")),
	}
	h.fake = fakegithub.New(append(base, opts...)...)
	t.Cleanup(h.fake.Close)
	h.env = map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_STEP_SUMMARY": filepath.Join(h.dir, "summary.md"),
		"GITHUB_OUTPUT":       filepath.Join(h.dir, "output"),
	}
	return h
}

func (h *harness) config(token string) Config {
	return Config{
		Token: token, APIURL: h.fake.URL, Owner: owner, Repo: repo, SHA: headSHA, PR: prNumber, PRTrusted: true,
		Workflow: "PR gate", Job: "gate", VerdictPath: "verdict.json",
		RunURL: "https://github.com/engram/engram/actions/runs/1",
	}
}

func (h *harness) policy() RetryPolicy {
	return RetryPolicy{Now: h.clock.Now, Sleep: h.clock.Sleep}
}

func (h *harness) run(cfg Config, v *verdict.Verdict) *Outcome {
	h.t.Helper()
	a := githubactions.New(githubactions.WithWriter(h.stdout), githubactions.WithGetenv(func(k string) string { return h.env[k] }))
	r, err := New(cfg, WithAction(a), WithRetryPolicy(h.policy()))
	if err != nil {
		h.t.Fatal(err)
	}
	return r.Report(context.Background(), v)
}

// runClean reports v with the read-write token and fails the test on any
// problem.
func (h *harness) runClean(v *verdict.Verdict) *Outcome {
	h.t.Helper()
	o := h.run(h.config("ghs_rw"), v)
	noProblems(h.t, o)
	return o
}

func (h *harness) file(name string) string {
	b, _ := os.ReadFile(filepath.Join(h.dir, name))
	return string(b)
}

func (h *harness) comments() []fakegithub.Comment { return h.fake.Comments(owner, repo, prNumber) }

func botComments(cs []fakegithub.Comment) []fakegithub.Comment {
	var out []fakegithub.Comment
	for _, c := range cs {
		if c.User.Login == fakegithub.BotLogin {
			out = append(out, c)
		}
	}
	return out
}

func noProblems(t *testing.T, o *Outcome) {
	t.Helper()
	for _, p := range o.Problems {
		t.Errorf("problem: %s", p)
	}
}

// mkVerdict builds a verdict with n comparisons of which the first reg
// regressed (each with a Source line) and the rest are unchanged.
func mkVerdict(n, reg int) *verdict.Verdict {
	v := &verdict.Verdict{
		Schema: verdict.SchemaVersion, CreatedAt: time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC),
		Alpha: 0.01, Threshold: 0.05, ToolVersion: "test",
		Head: verdict.Side{Commit: headSHA, Fingerprint: "fp-1"},
	}
	for i := 0; i < n; i++ {
		c := verdict.Comparison{
			Scenario: fmt.Sprintf("scenario-%03d", i), Operation: "search", Metric: "p99", Unit: "ms",
			NBase: 10, NHead: 10, BaseMedian: 10, HeadMedian: 10.1, Change: 0.01, CILow: -0.01, CIHigh: 0.03,
			PValue: 0.5, PAdjusted: 0.6, Threshold: 0.05, Decision: verdict.Unchanged, Reason: "within 5%",
		}
		if i < reg {
			c.HeadMedian, c.Change, c.CILow, c.CIHigh, c.PAdjusted = 11.2, 0.12, 0.1, 0.14, 0.001
			c.Decision, c.Reason = verdict.Regressed, "p99 rose 12%"
			c.Source = &verdict.Source{Path: "ci/scenarios/search.toml", Line: i + 1}
		}
		v.Comparisons = append(v.Comparisons, c)
	}
	return summarize(v)
}

func summarize(v *verdict.Verdict) *verdict.Verdict {
	v.Summary = verdict.Summary{Outcome: verdict.OutcomePass}
	for _, c := range v.Comparisons {
		switch c.Decision {
		case verdict.Regressed:
			v.Summary.Regressed++
			v.Summary.Outcome = verdict.OutcomeRegression
		case verdict.Unchanged:
			v.Summary.Unchanged++
		case verdict.Inconclusive:
			v.Summary.Inconclusive++
		case verdict.Improved:
			v.Summary.Improved++
		}
	}
	v.Summary.Answer = ""
	v.Summary.Answer = render.Answer(v)
	return v
}

func TestStickyCommentCreatedThenEdited(t *testing.T) {
	h := newHarness(t)
	o := h.runClean(mkVerdict(4, 1))
	if o.Comment.Action != "created" || o.Login != fakegithub.BotLogin {
		t.Fatalf("first run: %+v, login %q", o.Comment, o.Login)
	}
	first := h.comments()
	if len(first) != 1 || !strings.Contains(first[0].Body, "**REGRESSION**") {
		t.Fatalf("after the first run: %d comments: %+v", len(first), first)
	}
	o = h.runClean(mkVerdict(4, 0))
	second := h.comments()
	if o.Comment.Action != "updated" || len(second) != 1 || second[0].ID != first[0].ID {
		t.Fatalf("second run: %+v; comments %d (ids %d → %d)", o.Comment, len(second), first[0].ID, second[0].ID)
	}
	if !strings.Contains(second[0].Body, "**PASS**") {
		t.Errorf("comment not edited: %.80q", second[0].Body)
	}
	// A different key is a different sticky comment.
	cfg := h.config("ghs_rw")
	cfg.Key = "nightly"
	h.run(cfg, mkVerdict(4, 0))
	if n := len(h.comments()); n != 2 {
		t.Errorf("another key: %d comments, want 2", n)
	}
}

func TestPlantedMarkerLeftAlone(t *testing.T) {
	h := newHarness(t)
	marker := render.HiddenComment(Marker("PR gate", "gate", StickyKey("", "", mkVerdict(3, 0))))
	planted := h.fake.AddComment(owner, repo, prNumber, "mallory", "ha, I own this now\n"+marker)
	h.runClean(mkVerdict(3, 1))
	h.runClean(mkVerdict(3, 2))
	cs := h.comments()
	if len(cs) != 2 {
		t.Fatalf("%d comments, want mallory's and ours", len(cs))
	}
	if cs[0].ID != planted.ID || cs[0].Body != planted.Body {
		t.Errorf("mallory's comment was touched: %+v", cs[0])
	}
	if cs[1].User.Login != fakegithub.BotLogin || !strings.Contains(cs[1].Body, "2 regressions") {
		t.Errorf("ours: %+v", cs[1])
	}
}

func TestCommentFoundOnThirdPage(t *testing.T) {
	h := newHarness(t)
	h.runClean(mkVerdict(3, 1))
	ours := h.comments()[0]
	// Bury ours under 230 comments by others... by recreating the thread:
	// 230 before it is impossible after the fact, so build a fresh thread.
	h2 := newHarness(t)
	for i := 0; i < 230; i++ {
		h2.fake.AddComment(owner, repo, prNumber, "reviewer", fmt.Sprintf("comment %d", i))
	}
	seeded := h2.fake.AddComment(owner, repo, prNumber, fakegithub.BotLogin, ours.Body)
	for i := 0; i < 20; i++ {
		h2.fake.AddComment(owner, repo, prNumber, "reviewer", "later")
	}
	o := h2.runClean(mkVerdict(3, 0))
	cs := h2.comments()
	bots := botComments(cs)
	if o.Comment.Action != "updated" || len(cs) != 251 || len(bots) != 1 || bots[0].ID != seeded.ID {
		t.Fatalf("action %q, %d comments, %d ours", o.Comment.Action, len(cs), len(bots))
	}
	pages := 0
	for _, r := range h2.fake.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/comments") {
			pages++
		}
	}
	if pages != 3 {
		t.Errorf("listed %d pages, want 3 (251 comments at 100 per page)", pages)
	}
}

func TestDuplicatesOfOursRemoved(t *testing.T) {
	h := newHarness(t)
	marker := render.HiddenComment(Marker("PR gate", "gate", StickyKey("", "", mkVerdict(2, 0))))
	a := h.fake.AddComment(owner, repo, prNumber, fakegithub.BotLogin, "old\n"+marker)
	h.fake.AddComment(owner, repo, prNumber, fakegithub.BotLogin, "racing twin\n"+marker)
	o := h.runClean(mkVerdict(2, 0))
	cs := h.comments()
	if len(cs) != 1 || cs[0].ID != a.ID || o.Comment.Removed != 1 {
		t.Errorf("after cleanup: %d comments (want only #%d), removed %d", len(cs), a.ID, o.Comment.Removed)
	}
}

// later returns v as if decided an hour later, so its body differs.
func later(v *verdict.Verdict) *verdict.Verdict {
	v.CreatedAt = v.CreatedAt.Add(time.Hour)
	return v
}

func TestOnChange(t *testing.T) {
	h := newHarness(t)
	cfg := h.config("ghs_rw")
	cfg.Comment = CommentOnChange
	steps := []struct {
		v      *verdict.Verdict
		action string
	}{
		{mkVerdict(3, 0), "skipped"},          // quiet pass: nothing to say
		{mkVerdict(3, 1), "created"},          // a regression
		{later(mkVerdict(3, 1)), "updated"},   // any regression refreshes
		{mkVerdict(3, 0), "updated"},          // cleared: the decision set changed
		{later(mkVerdict(3, 0)), "unchanged"}, // same decisions again
	}
	for i, s := range steps {
		o := h.run(cfg, s.v)
		noProblems(t, o)
		if o.Comment.Action != s.action {
			t.Errorf("step %d: %q, want %q", i, o.Comment.Action, s.action)
		}
	}
	if n := len(h.comments()); n != 1 {
		t.Errorf("%d comments, want 1", n)
	}
	cfg.Comment = CommentNever
	if o := h.run(cfg, mkVerdict(3, 2)); o.Comment.Action != "skipped" {
		t.Errorf("never: %q", o.Comment.Action)
	}
}

func Test120AnnotationsArriveWhole(t *testing.T) {
	h := newHarness(t)
	h.runClean(mkVerdict(130, 120))
	runs := h.fake.CheckRuns(owner, repo)
	if len(runs) != 1 {
		t.Fatalf("%d check runs, want 1", len(runs))
	}
	run := runs[0]
	if len(run.Annotations) != 120 || run.Output.AnnotationsCount != 120 {
		t.Fatalf("%d annotations arrived, want 120", len(run.Annotations))
	}
	if run.Status != "completed" || run.Conclusion == nil || *run.Conclusion != "failure" || run.HeadSHA != headSHA {
		t.Errorf("run: status %q conclusion %v sha %q", run.Status, run.Conclusion, run.HeadSHA)
	}
	if !strings.HasPrefix(*run.Output.Title, "REGRESSION: 120 regressions") {
		t.Errorf("title %q does not lead with the answer", *run.Output.Title)
	}
	seen := map[int]bool{}
	for _, a := range run.Annotations {
		if a.Path != "ci/scenarios/search.toml" || a.AnnotationLevel != "failure" {
			t.Fatalf("annotation %+v does not point at its source", a)
		}
		seen[a.StartLine] = true
	}
	if len(seen) != 120 {
		t.Errorf("%d distinct lines, want 120", len(seen))
	}
	var calls []string
	for _, r := range h.fake.Requests() {
		if strings.Contains(r.Path, "check-runs") {
			calls = append(calls, fmt.Sprintf("%s %d", r.Method, r.Status))
		}
	}
	if got := strings.Join(calls, ", "); got != "POST 201, PATCH 200, PATCH 200" {
		t.Errorf("check-run calls: %s, want POST then two PATCHes (50+50+20)", got)
	}
}

func TestResumesStartedCheckRun(t *testing.T) {
	h := newHarness(t)
	a := githubactions.New(githubactions.WithWriter(h.stdout), githubactions.WithGetenv(func(k string) string { return h.env[k] }))
	r, err := New(h.config("ghs_rw"), WithAction(a), WithRetryPolicy(h.policy()))
	if err != nil {
		t.Fatal(err)
	}
	id, err := r.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if runs := h.fake.CheckRuns(owner, repo); len(runs) != 1 || runs[0].Status != "in_progress" {
		t.Fatalf("after Start: %+v", runs)
	}
	cfg := h.config("ghs_rw")
	cfg.CheckRunID = id
	noProblems(t, h.run(cfg, mkVerdict(2, 0)))
	runs := h.fake.CheckRuns(owner, repo)
	if len(runs) != 1 || runs[0].Status != "completed" || *runs[0].Conclusion != "success" {
		t.Errorf("after Report: %d runs, %+v", len(runs), runs[0].CheckRun)
	}
	if !strings.Contains(h.file("output"), "check-run-id") {
		t.Errorf("no check-run-id output")
	}
}

func TestOverlongOutputTruncatedNot422(t *testing.T) {
	h := newHarness(t)
	v := mkVerdict(3000, 40)
	for i := range v.Comparisons {
		v.Comparisons[i].Reason = strings.Repeat("é", 150)
	}
	h.runClean(v)
	run := h.fake.CheckRuns(owner, repo)[0]
	for name, s := range map[string]string{"summary": *run.Output.Summary, "text": *run.Output.Text} {
		if n := utf8.RuneCountInString(s); n > MaxOutputChars {
			t.Errorf("%s: %d characters", name, n)
		}
		if !strings.Contains(strings.ToLower(s), "truncated") {
			t.Errorf("%s: no truncation note", name)
		}
	}
	c := h.comments()
	if len(c) != 1 || utf8.RuneCountInString(c[0].Body) > MaxCommentChars || !strings.Contains(c[0].Body, "m18-verdict") {
		t.Errorf("comment: %d comments", len(c))
	}
	if s := h.file("summary.md"); len(s) > MaxStepSummaryBytes || !strings.HasPrefix(s, "**m18-gate** · **REGRESSION**") {
		t.Errorf("job summary: %d bytes, starts %.40q", len(s), s)
	}
}

func TestReadOnlyTokenDegrades(t *testing.T) {
	h := newHarness(t)
	o := h.run(h.config("ghs_ro"), mkVerdict(4, 2))
	perms := map[string]bool{}
	for _, p := range o.Problems {
		perms[p.Permission] = true
	}
	if !perms["checks: write"] || !perms["pull-requests: write"] || len(o.Problems) != 2 {
		t.Fatalf("problems %v, want one naming checks: write and one pull-requests: write", o.Problems)
	}
	if len(h.comments()) != 0 || len(h.fake.CheckRuns(owner, repo)) != 0 {
		t.Errorf("something was written with a read-only token")
	}
	sum := h.file("summary.md")
	if !strings.Contains(sum, "**REGRESSION**") || !strings.Contains(sum, "Reporting problems") || !strings.Contains(sum, "checks: write") {
		t.Errorf("job summary lacks the verdict or the problems:\n%s", sum)
	}
	log := h.stdout.String()
	if !strings.Contains(log, "::warning") || !strings.Contains(log, "pull-requests: write") {
		t.Errorf("no warning naming the permission:\n%s", log)
	}
	if !strings.Contains(log, "::add-mask::ghs_ro") {
		t.Errorf("token not masked")
	}
	if i := strings.Index(log, "ghs_ro"); i != strings.Index(log, "::add-mask::ghs_ro")+len("::add-mask::") {
		t.Errorf("token printed outside its mask command")
	}

	// Checks writable, pull requests read-only: only the comment degrades.
	h2 := newHarness(t)
	o = h2.run(h2.config("ghs_checks_only"), mkVerdict(4, 2))
	if len(o.Problems) != 1 || o.Problems[0].Permission != "pull-requests: write" || o.CheckRunID == 0 {
		t.Errorf("checks-only token: %v, check run %d", o.Problems, o.CheckRunID)
	}
}

func TestUserTokenIdentity(t *testing.T) {
	h := newHarness(t)
	marker := render.HiddenComment(Marker("PR gate", "gate", StickyKey("", "", mkVerdict(2, 0))))
	botOld := h.fake.AddComment(owner, repo, prNumber, fakegithub.BotLogin, "bot's\n"+marker)
	o := h.run(h.config("ghp_octocat"), mkVerdict(2, 1))
	if o.Login != "octocat" || o.Comment.Action != "created" {
		t.Fatalf("login %q, comment %+v", o.Login, o.Comment)
	}
	cs := h.comments()
	if len(cs) != 2 || cs[0].Body != botOld.Body || cs[1].User.Login != "octocat" {
		t.Errorf("comments: %+v", cs)
	}
	// A personal access token cannot create check runs; that is a problem, not a failure.
	if len(o.Problems) != 1 || o.Problems[0].Step != "check run" {
		t.Errorf("problems: %v", o.Problems)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	h := newHarness(t)
	h.fake.Inject(fakegithub.SecondaryRateLimit(403, 30*time.Second).On("POST", "/repos/engram/engram/check-runs", 1))
	h.fake.Inject(fakegithub.SecondaryRateLimit(429, 7*time.Second).On("POST", "/repos/engram/engram/issues/42/comments", 1))
	h.runClean(mkVerdict(2, 1))
	if got := h.clock.Slept(); len(got) != 2 || got[0] != 30*time.Second || got[1] != 7*time.Second {
		t.Errorf("slept %v, want [30s 7s]", got)
	}
	if len(h.fake.CheckRuns(owner, repo)) != 1 || len(h.comments()) != 1 {
		t.Errorf("not written after waiting")
	}
}

func TestRateLimitResetHonoured(t *testing.T) {
	h := newHarness(t)
	reset := h.clock.Now().Add(45 * time.Second)
	h.fake.Inject(fakegithub.PrimaryRateLimit(403, reset).On("GET", "/repos/engram/engram/issues/42/comments", 1))
	h.runClean(mkVerdict(2, 1))
	got := h.clock.Slept()
	if len(got) != 1 || got[0] < 45*time.Second || got[0] > 47*time.Second {
		t.Errorf("slept %v, want about 45s (until X-RateLimit-Reset)", got)
	}
}

func TestQuotaExhaustionWaitsForWindow(t *testing.T) {
	h := newHarness(t, fakegithub.WithRateLimit(fakegithub.RateLimit{Limit: 2, Window: time.Minute}))
	// A clock ahead of the wall clock: go-github, left alone, would refuse
	// every request after the quota is spent until the wall clock reaches
	// the reset, without asking GitHub.
	h.clock.t = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	h.runClean(mkVerdict(2, 1))
	for _, r := range h.fake.Requests() {
		if r.Status == 403 && r.Path != "/user" { // GET /user is 403 for installation tokens by design
			t.Errorf("%s %s hit the spent quota; the reporter should have waited first", r.Method, r.Path)
		}
	}
	got := h.clock.Slept()
	if len(got) == 0 || got[0] < 59*time.Second || got[0] > 62*time.Second {
		t.Errorf("slept %v, want about a minute per spent quota", got)
	}
	if len(h.comments()) != 1 {
		t.Errorf("comment missing after waiting for the quota")
	}
}

func Test5xxRetried(t *testing.T) {
	h := newHarness(t)
	h.fake.Inject(fakegithub.ServerError(502).On("POST", "/repos/engram/engram/check-runs", 2))
	h.fake.Inject(fakegithub.ServerError(503).On("GET", "/user", 1))
	h.runClean(mkVerdict(2, 1))
	if got := h.clock.Slept(); len(got) != 3 || got[0] != time.Second || got[1] != 2*time.Second || got[2] != time.Second {
		t.Errorf("slept %v, want [1s 2s 1s] (backoff doubling per request)", got)
	}
	if len(h.fake.CheckRuns(owner, repo)) != 1 {
		t.Errorf("check run missing after retries")
	}
}

func TestWaitsAreBounded(t *testing.T) {
	// A Retry-After beyond MaxWait is not waited for: the check run becomes
	// a problem, not blamed on a permission, and go-github then holds back
	// further requests until the secondary limit passes.
	h := newHarness(t)
	h.fake.Inject(fakegithub.SecondaryRateLimit(403, time.Hour).On("POST", "/repos/engram/engram/check-runs", 1))
	o := h.run(h.config("ghs_rw"), mkVerdict(2, 1))
	if len(o.Problems) == 0 || o.Problems[0].Step != "check run" || o.Problems[0].Permission != "" {
		t.Fatalf("problems %v, want the check run, rate limited", o.Problems)
	}
	if got := h.clock.Slept(); len(got) != 0 {
		t.Errorf("waited %v for an hour-long Retry-After", got)
	}
	if !strings.Contains(h.file("summary.md"), "**REGRESSION**") {
		t.Errorf("job summary not written")
	}

	// A 5xx that never ends is retried MaxAttempts times, then reported.
	h = newHarness(t)
	h.fake.Inject(fakegithub.ServerError(500).On("GET", "/user", 100))
	o = h.run(h.config("ghs_rw"), mkVerdict(2, 1))
	if len(o.Problems) != 1 || o.Problems[0].Step != "pull-request comment" {
		t.Fatalf("problems %v, want the comment (5xx)", o.Problems)
	}
	if n := len(h.clock.Slept()); n != DefaultRetryPolicy.MaxAttempts-1 {
		t.Errorf("%d waits for the 5xx, want %d", n, DefaultRetryPolicy.MaxAttempts-1)
	}
}

func TestEnterpriseAPIURL(t *testing.T) {
	h := newHarness(t, fakegithub.WithPathPrefix("/api/v3"))
	cfg := h.config("ghs_rw")
	if !strings.HasSuffix(cfg.APIURL, "/api/v3") {
		t.Fatalf("API URL %q", cfg.APIURL)
	}
	noProblems(t, h.run(cfg, mkVerdict(2, 1)))
	if len(h.comments()) != 1 || len(h.fake.CheckRuns(owner, repo)) != 1 {
		t.Errorf("nothing arrived through GITHUB_API_URL %s", cfg.APIURL)
	}
	if _, err := NewClient("t", "ftp://x", RetryPolicy{}, nil); err == nil {
		t.Errorf("an ftp API URL was accepted")
	}
}

func TestStepOutputsAndAnnotationCaps(t *testing.T) {
	h := newHarness(t)
	v := mkVerdict(20, 15)
	v.Comparisons[16].Decision = verdict.Inconclusive
	v.Comparisons[16].RunsNeeded = 30
	v = summarize(v)
	h.runClean(v)
	log := h.stdout.String()
	if n := strings.Count(log, "::error "); n != MaxStepAnnotations {
		t.Errorf("%d ::error lines, want %d", n, MaxStepAnnotations)
	}
	if !strings.Contains(log, "6 more regressions") {
		t.Errorf("the cap does not summarise the rest")
	}
	if !strings.Contains(log, "file=ci/scenarios/search.toml,line=1") {
		t.Errorf("annotation does not point at its source:\n%s", log)
	}
	if !strings.Contains(log, "::warning") || !strings.Contains(log, "inconclusive") {
		t.Errorf("inconclusive warning missing")
	}
	// What would settle it is said once, in the report, not again in
	// each annotation.
	if strings.Contains(log, "runs per side") {
		t.Errorf("an annotation repeats the runs that would settle it:\n%s", log)
	}
	out := h.file("output")
	for _, want := range []string{"verdict<<", "regression", "regressions<<", "15", "verdict-path<<", "verdict.json", "comment-url<<"} {
		if !strings.Contains(out, want) {
			t.Errorf("GITHUB_OUTPUT lacks %q:\n%s", want, out)
		}
	}
}

func TestOutsideActionsNoToken(t *testing.T) {
	h := newHarness(t)
	h.env = map[string]string{}
	cfg := h.config("")
	o := h.run(cfg, mkVerdict(2, 1))
	if len(o.Problems) != 0 || len(o.Notes) == 0 {
		t.Errorf("outside Actions without a token: problems %v, notes %v", o.Problems, o.Notes)
	}
	if h.stdout.Len() != 0 {
		t.Errorf("workflow commands written outside Actions: %q", h.stdout.String())
	}
	h.env = map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": filepath.Join(h.dir, "s.md")}
	if o := h.run(cfg, mkVerdict(2, 1)); len(o.Problems) != 1 {
		t.Errorf("inside Actions without a token: problems %v", o.Problems)
	}
}

func TestConclusion(t *testing.T) {
	skipped := summarize(&verdict.Verdict{Skipped: []verdict.Skip{{Scenario: "x", Reason: "y"}}})
	inc := mkVerdict(2, 0)
	inc.Comparisons[0].Decision = verdict.Inconclusive
	inc = summarize(inc)
	for _, tt := range []struct {
		v    *verdict.Verdict
		want string
	}{{mkVerdict(3, 1), "failure"}, {mkVerdict(3, 0), "success"}, {skipped, "neutral"}, {inc, "neutral"}} {
		if got := Conclusion(tt.v); got != tt.want {
			t.Errorf("Conclusion(%s) = %q, want %q", render.Headline(tt.v), got, tt.want)
		}
	}
}
