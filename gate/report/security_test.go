package report

import (
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/fakegithub"
	"github.com/engram/m18-gate/internal/testenv"
)

const forkSHA = "0123456789abcdef0123456789abcdef01234567"

// workflowRunConfig is the Config a report job triggered by workflow_run
// gets from its environment for a run of branch "feature" of owner's
// repository at sha, with pull_requests as given (GitHub leaves it empty
// for forks).
func (h *harness) workflowRunConfig(headOwner, sha, pullRequests string) Config {
	h.t.Helper()
	event := testenv.WriteFile(h.t, h.dir, "event.json", `{"action":"completed","workflow_run":{"id":777,"head_sha":"`+sha+`","head_branch":"feature",
		"html_url":"https://evil.example/not-used","pull_requests":`+pullRequests+`,
		"head_repository":{"full_name":"`+headOwner+`/engram","owner":{"login":"`+headOwner+`"}},
		"repository":{"full_name":"engram/engram"}}}`)
	env := map[string]string{
		"GITHUB_REPOSITORY": owner + "/" + repo, "GITHUB_SHA": "aaaaaaaa", "GITHUB_RUN_ID": "99",
		"GITHUB_API_URL": h.fake.URL, "GITHUB_WORKFLOW": "report", "GITHUB_JOB": "report",
		"GITHUB_EVENT_NAME": "workflow_run", "GITHUB_EVENT_PATH": event, "GITHUB_TOKEN": "ghs_rw",
	}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		h.t.Fatal(err)
	}
	return cfg
}

func refused(o *Outcome) bool {
	for _, p := range o.Problems {
		if p.Refused() {
			return true
		}
	}
	return false
}

func TestForkPullRequestResolvedAndVerified(t *testing.T) {
	h := newHarness(t)
	// An older pull request of the same fork branch, and one of another
	// fork with the same branch name: neither is at forkSHA.
	h.fake.AddPullRequest(fakegithub.PullSpec{Owner: owner, Repo: repo, Number: 40, HeadOwner: "mallory", HeadBranch: "feature", HeadSHA: headSHA})
	h.fake.AddPullRequest(fakegithub.PullSpec{Owner: owner, Repo: repo, Number: prNumber, HeadOwner: "forker", HeadBranch: "feature", HeadSHA: forkSHA})
	cfg := h.workflowRunConfig("forker", forkSHA, "[]")
	if cfg.PR != 0 || cfg.SHA != forkSHA || cfg.Trigger == nil || !cfg.Trigger.Fork {
		t.Fatalf("config from a fork's workflow_run: %+v", cfg)
	}
	o := h.run(cfg, mkVerdict(3, 1))
	noProblems(t, o)
	if o.PR != prNumber || o.Comment.Action != "created" || len(h.comments()) != 1 {
		t.Fatalf("PR %d, comment %+v; %d comments on #%d", o.PR, o.Comment, len(h.comments()), prNumber)
	}
	if got := h.fake.Comments(owner, repo, 40); len(got) != 0 {
		t.Errorf("commented on the other fork's #40")
	}
	if !strings.Contains(h.file("output"), "pr<<") || !strings.Contains(h.file("output"), "\n42\n") {
		t.Errorf("step outputs lack pr=42:\n%s", h.file("output"))
	}
	// The run link is computed from the event's run id, not its html_url.
	if body := h.comments()[0].Body; !strings.Contains(body, "https://github.com/engram/engram/actions/runs/777") || strings.Contains(body, "evil.example") {
		t.Errorf("run link: %s", body)
	}
}

func TestPullRequestNumberMustMatchTheMeasuredCommit(t *testing.T) {
	tests := []struct {
		name    string
		pr      int    // as from --pr or an artifact
		listed  string // workflow_run.pull_requests
		refused bool
	}{
		{"--pr of this run's pull request", prNumber, "[]", false},
		{"--pr of another pull request", 40, "[]", true},
		{"--pr of no pull request", 999, "[]", true},
		{"listed pull request moved on", 0, `[{"number":40}]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fake.AddPullRequest(fakegithub.PullSpec{Owner: owner, Repo: repo, Number: 40, HeadBranch: "other", HeadSHA: headSHA})
			h.fake.AddPullRequest(fakegithub.PullSpec{Owner: owner, Repo: repo, Number: prNumber, HeadOwner: "forker", HeadBranch: "feature", HeadSHA: forkSHA})
			cfg := h.workflowRunConfig("forker", forkSHA, tt.listed)
			if tt.pr > 0 {
				cfg.PR = tt.pr
			}
			o := h.run(cfg, mkVerdict(2, 0))
			if refused(o) != tt.refused {
				t.Fatalf("refused = %v, want %v; problems %v", refused(o), tt.refused, o.Problems)
			}
			n := len(h.fake.Comments(owner, repo, 40)) + len(h.fake.Comments(owner, repo, 999))
			if tt.refused && (n != 0 || o.Comment.URL != "") {
				t.Errorf("commented despite the refusal: %+v", o.Comment)
			}
			if tt.refused && !strings.Contains(o.Problems[0].String(), "refused") {
				t.Errorf("problem does not say it refused: %s", o.Problems[0])
			}
			if !tt.refused && len(h.comments()) != 1 {
				t.Errorf("%d comments on #%d", len(h.comments()), prNumber)
			}
			// The check run is on the measured commit either way.
			if runs := h.fake.CheckRuns(owner, repo); len(runs) != 1 || runs[0].HeadSHA != forkSHA {
				t.Errorf("check runs: %+v", runs)
			}
		})
	}
}

func TestUntrustedVerdict(t *testing.T) {
	h := newHarness(t)
	v := mkVerdict(3, 1)
	// A tampered artifact: planted links, a passing outcome and answer
	// despite a regression, and Markdown of its own.
	v.Links = verdict.Links{Run: "https://evil.example/run", Dashboard: "https://evil.example/dash", Artifact: "https://evil.example/a"}
	v.Summary.Outcome, v.Summary.Answer, v.Summary.Regressed = verdict.OutcomePass, "all good, merge it", 0
	v.Markdown = "[click](https://evil.example)"
	cfg := h.config("ghs_rw")
	cfg.DashboardURL = "https://grafana.example.com/d/m18"
	o := h.run(cfg, v)
	noProblems(t, o)
	body := h.comments()[0].Body
	if strings.Contains(body, "evil.example") || strings.Contains(body, "merge it") {
		t.Errorf("the verdict's own links or answer reached the comment:\n%s", body)
	}
	for _, want := range []string{"**REGRESSION**", "1 regression", cfg.RunURL, cfg.DashboardURL} {
		if !strings.Contains(body, want) {
			t.Errorf("comment lacks %q:\n%s", want, body)
		}
	}
	if runs := h.fake.CheckRuns(owner, repo); *runs[0].Conclusion != "failure" {
		t.Errorf("check run concluded %q for a faked pass", *runs[0].Conclusion)
	}
	if out := h.file("output"); !strings.Contains(out, "\nregression\n") {
		t.Errorf("verdict output:\n%s", out)
	}
	if v.Links.Run != "https://evil.example/run" {
		t.Errorf("the caller's verdict was changed")
	}
}

func TestMatrixLegsKeepTwoComments(t *testing.T) {
	for _, tt := range []struct {
		name   string
		legs   [2]Config
		verdic [2]*verdict.Verdict
	}{
		{"matrix", [2]Config{{Matrix: `{"os":"ubuntu","shard":1}`}, {Matrix: `{"shard":2,"os":"ubuntu"}`}},
			[2]*verdict.Verdict{mkVerdict(2, 0), mkVerdict(2, 1)}},
		{"scenario sets", [2]Config{{}, {}}, [2]*verdict.Verdict{mkVerdict(2, 0), mkVerdict(3, 1)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for round := 0; round < 2; round++ {
				for i, leg := range tt.legs {
					cfg := h.config("ghs_rw")
					cfg.Matrix = leg.Matrix
					noProblems(t, h.run(cfg, later(tt.verdic[i])))
				}
			}
			cs := h.comments()
			if len(cs) != 2 {
				t.Fatalf("%d comments, want one per leg", len(cs))
			}
			if strings.Contains(cs[0].Body, "REGRESSION") || !strings.Contains(cs[1].Body, "REGRESSION") {
				t.Errorf("a leg overwrote the other's comment")
			}
		})
	}
	if k := StickyKey("", `{"shard":2,"os":"ubuntu"}`, mkVerdict(1, 0)); k != "os=ubuntu, shard=2" {
		t.Errorf("matrix key %q", k)
	}
	if k := StickyKey("pr-gate", `{"os":"x"}`, mkVerdict(1, 0)); k != "pr-gate" {
		t.Errorf("--key did not win: %q", k)
	}
}

func TestAppTokenLearnsItsLogin(t *testing.T) {
	const app = "m18-bench[bot]"
	h := newHarness(t, fakegithub.WithToken("ghs_app", fakegithub.Identity{Login: app, Installation: true, Checks: fakegithub.Write, PullRequests: fakegithub.Write}))
	// Another bot's comment carrying our marker would be adopted only
	// when no comment of ours exists; a person's never is.
	marker := Marker("PR gate", "gate", StickyKey("", "", mkVerdict(2, 0)))
	h.fake.AddComment(owner, repo, prNumber, "mallory", "mine\n"+render.HiddenComment(marker))
	var first int64
	for i := 0; i < 3; i++ {
		o := h.run(h.config("ghs_app"), later(mkVerdict(2, i%2)))
		noProblems(t, o)
		if o.Login != app {
			t.Errorf("run %d: login %q, want %q", i, o.Login, app)
		}
		want := "updated"
		if i == 0 {
			want = "created"
		}
		if o.Comment.Action != want {
			t.Errorf("run %d: comment %s, want %s", i, o.Comment.Action, want)
		}
	}
	var ours int
	for _, c := range h.comments() {
		if c.User.Login == app {
			ours++
			if first == 0 {
				first = c.ID
			}
		}
	}
	if ours != 1 || len(h.comments()) != 2 {
		t.Errorf("%d comments by the App (want 1), %d in all (want 2)", ours, len(h.comments()))
	}
}
