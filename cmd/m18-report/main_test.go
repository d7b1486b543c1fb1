package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/fakegithub"
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
	event := filepath.Join(dir, "event.json")
	os.WriteFile(event, []byte(`{"pull_request":{"number":7,"head":{"sha":"abc123"}}}`), 0o644)
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
	if code, _, _ := c.run("--verdict", path, "--strict"); code != exitReporting {
		t.Errorf("--strict: exit %d, want %d", code, exitReporting)
	}
}

func TestBadInput(t *testing.T) {
	c := newCLI(t)
	bad := filepath.Join(c.dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema":"m18.verdict/v1","comparisons":[{"decision":"maybe"}],"summary":{"outcome":"pass"}}`), 0o644)
	tests := [][]string{
		{},
		{"--verdict", filepath.Join(c.dir, "missing.json")},
		{"--verdict", bad},
		{"--verdict", bad, "--comment", "sometimes"},
		{"--verdict", bad, "--repo", "noslash"},
		{"--nope"},
	}
	for _, args := range tests {
		if code, _, stderr := c.run(args...); code != exitBadInput || (len(args) > 0 && args[0] != "--nope" && stderr == "") {
			t.Errorf("%v: exit %d, want %d; stderr %q", args, code, exitBadInput, stderr)
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
