package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/report"
	"github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/internal/fakegithub"
	"github.com/engram/m18-gate/internal/fakeslack"
	"github.com/engram/m18-gate/internal/testenv"
)

func writeVerdict(t *testing.T, dir string, regressed bool) string {
	t.Helper()
	v := &verdict.Verdict{
		CreatedAt: time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC), Alpha: 0.01, Threshold: 0.05,
		Comparisons: []verdict.Comparison{{
			Scenario: "ci-fast", Operation: "search", Metric: "p99", Unit: "ms", NBase: 10, NHead: 10,
			BaseMedian: 10, HeadMedian: 10.1, Change: 0.01, PAdjusted: 0.5, Threshold: 0.05,
			Decision: verdict.Unchanged, Reason: "within 5%",
		}},
		Summary: verdict.Summary{Unchanged: 1, Outcome: verdict.OutcomePass, Answer: "1 unchanged"},
	}
	if regressed {
		v.Comparisons[0].Decision, v.Comparisons[0].HeadMedian, v.Comparisons[0].Change = verdict.Regressed, 12, 0.2
		v.Summary = verdict.Summary{Regressed: 1, Outcome: verdict.OutcomeRegression, Answer: "1 regression"}
	}
	p := filepath.Join(dir, "verdict.json")
	if err := verdict.WriteFile(p, v); err != nil {
		t.Fatal(err)
	}
	return p
}

type reportCLI struct {
	fake *fakegithub.Server
	dir  string
	env  map[string]string
}

func newCLI(t *testing.T) *reportCLI {
	fake := fakegithub.New(
		fakegithub.WithToken("ghs_rw", fakegithub.ActionsToken(fakegithub.Write, fakegithub.Write)),
		fakegithub.WithToken("ghs_ro", fakegithub.ActionsToken(fakegithub.Read, fakegithub.Read)),
	)
	t.Cleanup(fake.Close)
	dir := t.TempDir()
	event := testenv.WriteFile(t, dir, "event.json", `{"pull_request":{"number":7,"head":{"sha":"abc123"}}}`)
	return &reportCLI{fake: fake, dir: dir, env: map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "ghs_rw", "GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": "merge",
		"GITHUB_API_URL": fake.URL, "GITHUB_RUN_ID": "5", "GITHUB_WORKFLOW": "gate", "GITHUB_JOB": "perf",
		"GITHUB_EVENT_PATH": event, "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
		"GITHUB_OUTPUT": filepath.Join(dir, "output"),
	}}
}

func (c *reportCLI) run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, func(k string) string { return c.env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func TestReportEndToEnd(t *testing.T) {
	c := newCLI(t)
	path := writeVerdict(t, c.dir, true)
	code, stdout, stderr := c.run("--verdict", path)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	runs := c.fake.CheckRuns("o", "r")
	if len(runs) != 1 || runs[0].HeadSHA != "abc123" || *runs[0].Conclusion != "failure" {
		t.Fatalf("check runs: %+v", runs)
	}
	if cs := c.fake.Comments("o", "r", 7); len(cs) != 1 {
		t.Fatalf("%d comments", len(cs))
	}
	// Second run edits in place.
	path = writeVerdict(t, c.dir, false)
	if code, _, stderr := c.run("--verdict", path); code != 0 || !strings.Contains(stderr, "(updated)") {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	if cs := c.fake.Comments("o", "r", 7); len(cs) != 1 || !strings.Contains(cs[0].Body, "**PASS**") {
		t.Errorf("after the second run: %d comments", len(cs))
	}
	if strings.Contains(stdout, "ghs_rw") && !strings.Contains(stdout, "::add-mask::ghs_rw") {
		t.Errorf("token printed")
	}
}

func TestReadOnlyTokenExitCodes(t *testing.T) {
	c := newCLI(t)
	c.env["GITHUB_TOKEN"] = "ghs_ro"
	path := writeVerdict(t, c.dir, true)
	code, stdout, _ := c.run("--verdict", path)
	if code != 0 {
		t.Errorf("read-only token: exit %d, want 0 (reporting never changes the verdict)", code)
	}
	if !strings.Contains(stdout, "::warning") || !strings.Contains(stdout, "checks: write") || !strings.Contains(stdout, "pull-requests: write") {
		t.Errorf("warnings do not name the permissions:\n%s", stdout)
	}
	sum, _ := os.ReadFile(c.env["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(sum), "1 regression") {
		t.Errorf("job summary not written: %q", sum)
	}
	if code, _, _ := c.run("--verdict", path, "--strict"); code != cli.ExitIncomplete {
		t.Errorf("--strict: exit %d, want %d", code, cli.ExitIncomplete)
	}
}

func TestBadInput(t *testing.T) {
	c := newCLI(t)
	bad := testenv.WriteFile(t, c.dir, "bad.json", `{"schema":"m18.verdict/v1","comparisons":[{"decision":"maybe"}],"summary":{"outcome":"pass"}}`)
	tests := [][]string{
		{},
		{"--verdict", filepath.Join(c.dir, "missing.json")},
		{"--verdict", bad},
		{"--verdict", bad, "--comment", "sometimes"},
		{"--verdict", bad, "--repo", "noslash"},
		{"--nope"},
	}
	for _, args := range tests {
		if code, _, stderr := c.run(args...); code != cli.ExitUsage || (len(args) > 0 && args[0] != "--nope" && stderr == "") {
			t.Errorf("%v: exit %d, want %d; stderr %q", args, code, cli.ExitUsage, stderr)
		}
	}
	if code, _, stderr := c.run("--verdict", bad); !strings.Contains(stderr, "bad.json") || !strings.Contains(stderr, "maybe") {
		t.Errorf("error does not name the file and field: %d %q", code, stderr)
	}
	if code, _, _ := c.run("--help"); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
}

func TestStartThenComplete(t *testing.T) {
	c := newCLI(t)
	code, stdout, stderr := c.run("--start")
	if code != 0 {
		t.Fatalf("--start: %d %s", code, stderr)
	}
	id := strings.TrimSpace(stdout[strings.LastIndex(strings.TrimSpace(stdout), "\n")+1:])
	path := writeVerdict(t, c.dir, false)
	if code, _, stderr := c.run("--verdict", path, "--check-run-id", id); code != 0 {
		t.Fatalf("complete: %d %s", code, stderr)
	}
	runs := c.fake.CheckRuns("o", "r")
	if len(runs) != 1 || runs[0].Status != "completed" || *runs[0].Conclusion != "success" {
		t.Errorf("runs: %d, %+v", len(runs), runs)
	}
}

// forkRun turns c into the report job of a two-workflow split, triggered by
// the measuring run of a fork's branch "feature" at sha.
func (c *reportCLI) forkRun(t *testing.T, sha string) {
	t.Helper()
	event := testenv.WriteFile(t, c.dir, "wr.json", `{"workflow_run":{"id":31,"head_sha":"`+sha+`","head_branch":"feature","pull_requests":[],
		"head_repository":{"full_name":"forker/r","owner":{"login":"forker"}},"repository":{"full_name":"o/r"}}}`)
	c.env["GITHUB_EVENT_PATH"], c.env["GITHUB_EVENT_NAME"] = event, "workflow_run"
}

func TestForkTwoWorkflowSplit(t *testing.T) {
	const measured = "1111111111111111111111111111111111111111"
	c := newCLI(t)
	c.fake.AddPullRequest(fakegithub.PullSpec{Owner: "o", Repo: "r", Number: 12, HeadOwner: "forker", HeadBranch: "feature", HeadSHA: measured})
	c.fake.AddPullRequest(fakegithub.PullSpec{Owner: "o", Repo: "r", Number: 13, HeadOwner: "o", HeadBranch: "main-fix", HeadSHA: "2222222222222222222222222222222222222222"})
	c.forkRun(t, measured)
	path := writeVerdict(t, c.dir, true)
	code, _, stderr := c.run("--verdict", path)
	if code != cli.ExitOK || len(c.fake.Comments("o", "r", 12)) != 1 {
		t.Fatalf("fork PR: exit %d, %d comments on #12\n%s", code, len(c.fake.Comments("o", "r", 12)), stderr)
	}
	out, _ := os.ReadFile(c.env["GITHUB_OUTPUT"])
	for _, want := range []string{"verdict<<", "\nregression\n", "comment-url<<", "check-run-id<<", "pr<<"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("outputs lack %q:\n%s", want, out)
		}
	}
	// An artifact naming another pull request is refused, exit 5, and
	// nothing is written there.
	code, _, stderr = c.run("--verdict", path, "--pr", "13")
	if code != cli.ExitRefused || !strings.Contains(stderr, "refused") || len(c.fake.Comments("o", "r", 13)) != 0 {
		t.Errorf("--pr 13: exit %d, %d comments on #13\n%s", code, len(c.fake.Comments("o", "r", 13)), stderr)
	}
}

func TestVerdictErrorsAreOutputs(t *testing.T) {
	c := newCLI(t)
	big := filepath.Join(c.dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(verdict.MaxFileBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, _, stderr := c.run("--verdict", big)
	if code != cli.ExitUsage || !strings.Contains(stderr, "big.json") || !strings.Contains(stderr, "over the 32.0 MiB limit for a verdict file") {
		t.Errorf("oversized verdict: exit %d: %s", code, stderr)
	}
	out, _ := os.ReadFile(c.env["GITHUB_OUTPUT"])
	if !strings.Contains(string(out), "\nerror\n") {
		t.Errorf("verdict output is not error:\n%s", out)
	}
	if _, _, stderr := c.run("--verdcit", "x"); !strings.Contains(stderr, "did you mean --verdict?") {
		t.Errorf("no suggestion for --verdcit:\n%s", stderr)
	}
}

func TestReportChangePoints(t *testing.T) {
	hook := fakeslack.Start(t)
	c := newCLI(t)
	c.env["GITHUB_EVENT_PATH"] = ""
	c.env[report.SlackWebhookEnv] = hook.URL
	write := func(name string, recent bool) string {
		all := []series.Changes{{Scenario: "tasks/003_bursts", Operation: "overall", Metric: "p99", Unit: "ms", Points: 18,
			ChangePoints: []series.ChangePointAt{{Index: 12, Label: "abcdef012345", Before: 2, After: 3, Change: 0.5, PValue: 0.01, Recent: recent}}}}
		data, _ := json.Marshal(all)
		return testenv.WriteFile(t, c.dir, name, string(data))
	}
	old, fresh := write("old.json", false), write("new.json", true)
	bad := testenv.WriteFile(t, c.dir, "bad.json", `{"schema":"m18.series/v1"}`)

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		sent   int
	}{
		{"nothing new", []string{"--changepoints", old, "--slack", "--strict"}, 0, "no new change point in 1 series", 0},
		{"new change point", []string{"--changepoints", fresh, "--slack", "--strict"}, 0, "tasks/003_bursts · overall · p99: 2 → 3 ms (+50.0%) from abcdef012345", 1},
		{"without --slack", []string{"--changepoints", fresh}, 0, "CHANGE POINT: 1 new change point", 0},
		{"not an analysis", []string{"--changepoints", bad}, cli.ExitUsage, "", 0},
		{"with --verdict", []string{"--changepoints", fresh, "--verdict", bad}, cli.ExitUsage, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook.Reset()
			code, stdout, stderr := c.run(tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if texts := hook.Texts(); len(texts) != tt.sent {
				t.Errorf("%d Slack posts, want %d: %q", len(texts), tt.sent, texts)
			}
		})
	}
	// An alert that cannot be delivered fails the step with --strict.
	c.env[report.SlackWebhookEnv] = "http://127.0.0.1:1/hook"
	if code, stdout, stderr := c.run("--changepoints", fresh, "--slack", "--strict", "--timeout", "5s"); code != cli.ExitIncomplete || strings.Contains(stdout+stderr, "127.0.0.1:1") {
		t.Errorf("undeliverable alert: exit %d, want %d, and the webhook never printed\n%s\n%s", code, cli.ExitIncomplete, stdout, stderr)
	}
}
