package actiontest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/fakeslack"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/hw"
	"github.com/engram/m18-gate/runners/result"
)

// stepChange describes a history planted on a results branch: Before runs
// at p99 Low, then After runs at p99 High, one a day, the newest a day ago.
type stepChange struct {
	Scenario, Fingerprint string
	Before, After         int
	Low, High             float64
}

// commit is the planted commit of run i: 40 hex digits, the first 12 (the
// label of its point) unique.
func (s stepChange) commit(i int) string { return fmt.Sprintf("c0de%02d", i) + strings.Repeat("0", 34) }

// plant writes the runs as task documents and stores them on the bare
// repository's m18-results branch with m18-history push. It returns the
// path of the newest document (a stand-in for the task document a nightly
// leg writes: same scenario and fingerprint).
func (s stepChange) plant(t *testing.T, bin, bare string) string {
	t.Helper()
	dir := t.TempDir()
	n := s.Before + s.After
	now := time.Now().UTC().Truncate(time.Second)
	var files []string
	for i := range n {
		p99 := s.Low
		if i >= s.Before {
			p99 = s.High
		}
		start := now.Add(-time.Duration(n-i) * 24 * time.Hour)
		st := result.OpStats{Count: 1000, Success: 1000, Throughput: 400, Latency: result.Latency{P50: 1, P99: p99}}
		d := &result.Document{
			Run: result.Run{Scenario: s.Scenario, RunID: fmt.Sprintf("planted-%02d", i), Start: start, End: start.Add(time.Minute),
				Commit: s.commit(i), Hardware: result.Fingerprint{Hash: s.Fingerprint}},
			Repetitions: []result.Repetition{{Start: start, End: start.Add(time.Minute), Overall: st, Operations: map[string]result.OpStats{}}},
			Tasks:       map[string]any{"006": map[string]any{"budget": "pr"}},
			Validation:  &result.Validation{Passed: true, Checks: []result.Check{{Name: "p99.9_ms", Measured: p99, Expected: 50, Passed: true}}},
		}
		f := filepath.Join(dir, fmt.Sprintf("run-%02d.json", i))
		if err := result.WriteFile(f, d); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	cmd := exec.Command(filepath.Join(bin, "m18-history"), append([]string{"push", "--repo", bare}, files...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("planting the history: %v\n%s", err, out)
	}
	return files[len(files)-1]
}

// changePointLine matches the alert's line for the planted step: the
// series, the means before and after, and the first commit of the new level.
func changePointLine(s stepChange) *regexp.Regexp {
	return regexp.MustCompile(regexp.QuoteMeta(s.Scenario+" · overall · p99: ") + fmt.Sprintf("%g", s.Low) +
		` → [0-9.]+ ms \(\+[0-9.]+%\) from ` + s.commit(s.Before)[:12])
}

// TestChangePointsScript runs scripts/action/changepoints.sh, the nightly's
// last step, against a bare history repository with a planted step change:
// the change point is found and alerted once, and every broken part (the
// history unreachable, a series in a format m18-gate does not read, an
// unknown metric, Slack refusing the alert) fails the step.
func TestChangePointsScript(t *testing.T) {
	testenv.Tools(t, "bash")
	root := testenv.ModuleRoot(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	testenv.Build(t, bin+"/", "./cmd/...")
	bare := filepath.Join(tmp, "history.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	step := stepChange{Scenario: "tasks/006_tails_pr", Fingerprint: "f00df00df00d", Before: 12, After: 6, Low: 5, High: 40}
	newest := step.plant(t, bin, bare)
	results := filepath.Join(tmp, "task-results")
	writeFile(t, filepath.Join(results, "task-006.json"), readFile(t, newest))

	// The bug this step had: m18-history series --json printed a bare
	// array, which m18-gate changepoints rejects. A stand-in that does so
	// again must fail the step, not pass it as "no change point".
	oldFormat := filepath.Join(tmp, "old-format")
	for _, name := range []string{"m18-gate", "m18-report"} {
		if err := os.MkdirAll(oldFormat, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(bin, name), filepath.Join(oldFormat, name)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(oldFormat, "m18-history"), "#!/usr/bin/env bash\necho '[{\"start\": \"2026-01-01T00:00:00Z\", \"values\": [1]}]'\n")
	os.Chmod(filepath.Join(oldFormat, "m18-history"), 0o755)

	slack := fakeslack.Start(t)
	run := func(t *testing.T, env ...string) (string, int) {
		t.Helper()
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "action", "changepoints.sh"))
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "M18_BIN="+bin, "M18_TASK_RESULTS="+results, "M18_HISTORY_REPO="+bare,
			"M18_SLACK_WEBHOOK="+slack.URL, "GITHUB_STEP_SUMMARY="+filepath.Join(tmp, "summary.md"),
			"GITHUB_REPOSITORY=acme/engram", "GITHUB_SHA="+strings.Repeat("ab", 20), "GITHUB_RUN_ID=42",
			"GITHUB_SERVER_URL=https://github.com", "GITHUB_EVENT_PATH=", "GITHUB_TOKEN=")
		cmd.Env = append(cmd.Env, env...)
		return runCommand(t, cmd)
	}

	t.Run("change point found and alerted", func(t *testing.T) {
		slack.Reset()
		out, code := run(t)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		t.Logf("step output:\n%s", out)
		got := slack.Texts()
		t.Logf("Slack payloads: %q", got)
		if len(got) != 1 {
			t.Fatalf("%d Slack payloads, want 1: %q\n%s", len(got), got, out)
		}
		want := changePointLine(step)
		if !strings.HasPrefix(got[0], "*m18-gate* CHANGE POINT: 1 new change point in the nightly history — acme/engram @ abababababab") ||
			!want.MatchString(got[0]) || !strings.Contains(got[0], "<https://github.com/acme/engram/actions/runs/42|Workflow run>") {
			t.Errorf("Slack payload:\n%s\nwant the headline, a line matching %s and the run link", got[0], want)
		}
		if strings.Contains(out, slack.URL) {
			t.Error("the webhook URL appears in the step's output")
		}
		summary := readFile(t, filepath.Join(tmp, "summary.md"))
		if !strings.Contains(summary, "tasks/006_tails_pr overall p99 (18 points)") || !strings.Contains(summary, "new") {
			t.Errorf("job summary:\n%s", summary)
		}
	})

	broken := []struct {
		name string
		env  []string
		hook int
	}{
		{"history unreachable", []string{"M18_HISTORY_REPO=" + filepath.Join(tmp, "missing.git")}, http.StatusOK},
		{"series in a format m18-gate does not read", []string{"M18_BIN=" + oldFormat, "PATH=" + oldFormat + ":" + os.Getenv("PATH")}, http.StatusOK},
		{"unknown metric", []string{"M18_METRICS=p99 p42"}, http.StatusOK},
		{"Slack refuses the alert", nil, http.StatusNotFound},
		{"nothing to look at", []string{"M18_TASK_RESULTS=" + filepath.Join(tmp, "empty")}, http.StatusOK},
	}
	for _, b := range broken {
		t.Run(b.name, func(t *testing.T) {
			slack.Reset(b.hook)
			out, code := run(t, b.env...)
			if code == 0 {
				t.Fatalf("the step passed:\n%s", out)
			}
			if b.hook == http.StatusOK && len(slack.Texts()) != 0 {
				t.Errorf("a failed step alerted Slack: %q", slack.Texts())
			}
			if strings.Contains(out, slack.URL) {
				t.Error("the webhook URL appears in the step's output")
			}
			t.Logf("exit %d: %s", code, tail(out, 3))
		})
	}
}

// readFile returns the contents of path.
func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// probeFingerprint is this machine's fingerprint hash, as m18-run records it.
func probeFingerprint(t *testing.T) string {
	t.Helper()
	fp, err := hw.Probe(context.Background(), hw.Options{SkipPerf: true})
	if err != nil && fp.Hash == "" {
		t.Fatalf("hardware probe: %v", err)
	}
	return fp.Hash
}

// nightlyLeg is the leg of .github/workflows/nightly.yml the end-to-end
// test runs: the tails suite, task 006 (about 35 s at the pr budget).
var nightlyLeg = []string{"--matrix", "suite:tails", "--matrix", "arch:x64"}

// TestNightlyEndToEnd runs .github/workflows/nightly.yml with nektos/act
// on this machine, as a workflow_dispatch with budget pr would on a tier2
// runner, against a bare history repository (the repository variable
// M18_HISTORY_REPO) whose task 006 history holds a planted step change:
//
//   - the task runs through the action's tasks input, its criteria reach
//     the verdict (measured value and limit) and the check run;
//   - its document is written to the history branch, under this commit;
//   - the change-point step finds the planted step among the newest
//     points and alerts Slack, whose payload a local receiver captures.
//
// Only the tails leg on x64 runs (act --matrix); the repository under test
// is a fresh commit of this module's files.
func TestNightlyEndToEnd(t *testing.T) {
	w := newE2E(t, "the nightly workflow", "ghs_e2eToken123", "git", "bash", "curl")
	w.startFakeGitHub()
	w.writeStubs()
	bin := filepath.Join(w.tmp, "bin")
	testenv.Build(t, bin+"/", "./cmd/m18-history")
	w.bare = filepath.Join(w.tmp, "history.git")
	w.git(w.tmp, "init", "-q", "--bare", w.bare)
	step := stepChange{Scenario: "tasks/006_tails_pr", Fingerprint: probeFingerprint(t), Before: 12, After: 6, Low: 2, High: 40}
	step.plant(t, bin, w.bare)
	w.copyModule()
	slack := fakeslack.Start(t)

	event := filepath.Join(w.tmp, "workflow_dispatch.json")
	writeFile(t, event, `{"inputs": {"budget": "pr"}, "ref": "refs/heads/main",
  "repository": {"name": "m18-gate", "full_name": "engram/m18-gate", "default_branch": "main", "owner": {"login": "engram"}}}`)
	args := append([]string{"workflow_dispatch",
		"-W", ".github/workflows/nightly.yml", "-j", "tier2",
		"-e", event, "--input", "budget=pr",
		"-P", "self-hosted=-self-hosted",
		"-s", "M18_SLACK_WEBHOOK=" + slack.URL,
		"--var", "M18_HISTORY_REPO=" + w.bare,
	}, nightlyLeg...)
	args = append(args, w.localActions(t)...)
	out, actErr := w.execAct(t, "act-nightly.log", 10*time.Minute, w.token, args...)
	t.Logf("nightly tails leg at budget pr: act exit %v", actErr)
	if !strings.Contains(out, "m18-gate: tasks 006 at budget pr") {
		t.Fatalf("the action did not run task 006 at budget pr\n%s", tail(out, 80))
	}

	// The verdict holds the task's criteria; a failed one fails the job
	// and the check run, as a regression would.
	v, err := verdict.ReadFile(filepath.Join(w.artifacts, "m18-nightly-tails-x64", "verdict.json"))
	if err != nil {
		t.Fatalf("no verdict in the artifact: %v\n%s", err, tail(out, 80))
	}
	failed := 0
	var tailCrit *verdict.Criterion
	for i, c := range v.Criteria {
		if c.Task != "006" || c.Scenario != step.Scenario {
			t.Errorf("criterion %+v: want task 006 of %s", c, step.Scenario)
		}
		if !c.Passed {
			failed++
			t.Logf("criterion failed on this machine: %s", c.Message)
		}
		if c.Name == "p99.9_ms" {
			tailCrit = &v.Criteria[i]
		}
	}
	if tailCrit == nil || tailCrit.Measured <= 0 || tailCrit.Limit <= 0 {
		t.Errorf("no p99.9_ms criterion with a measured value and a limit in %+v", v.Criteria)
	}
	wantOutcome, wantConclusion := verdict.OutcomePass, "success"
	if failed > 0 {
		wantOutcome, wantConclusion = verdict.OutcomeRegression, "failure"
	}
	if v.Summary.Outcome != wantOutcome || (actErr != nil) != (failed > 0) {
		t.Errorf("%d criteria failed: outcome %s (want %s), act exit %v\n%s", failed, v.Summary.Outcome, wantOutcome, actErr, tail(out, 60))
	}
	if got := w.checkConclusion(t, w.commits["main"]); got != wantConclusion {
		t.Errorf("check run conclusion %q, want %q", got, wantConclusion)
	}

	// The task document is on the history branch, under this commit.
	var stored []string
	for _, f := range w.historyFiles(t) {
		if strings.HasPrefix(f, "results/tasks+006_tails_pr/"+step.Fingerprint+"/") && strings.Contains(f, w.commits["main"][:12]) {
			stored = append(stored, f)
		}
	}
	if len(stored) != 1 {
		t.Errorf("history holds %d task 006 documents of commit %.12s, want 1: %v", len(stored), w.commits["main"], w.historyFiles(t))
	}

	// The change point among the newest runs reached Slack.
	want := changePointLine(step)
	var alert string
	for _, p := range slack.Texts() {
		if strings.Contains(p, "CHANGE POINT") {
			alert = p
		}
	}
	if alert == "" || !want.MatchString(alert) || !strings.Contains(alert, "engram/m18-gate @ "+w.commits["main"][:12]) {
		t.Errorf("Slack payloads %q: want a change-point alert matching %s for engram/m18-gate @ %.12s\n%s", slack.Texts(), want, w.commits["main"], tail(out, 60))
	}
	if strings.Contains(out, slack.URL) || strings.Contains(out, fakeslack.Secret) {
		t.Error("the webhook URL appears in the job's log")
	}
}

// copyModule commits this module's files (tracked and new, not ignored) as
// the first commit of main in a fresh repository, the one act runs in.
func (w *e2e) copyModule() {
	t := w.t
	list := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	list.Dir = w.root
	names, err := list.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	w.repo = filepath.Join(w.tmp, "m18-gate")
	for _, name := range strings.Split(strings.TrimRight(string(names), "\x00"), "\x00") {
		src := filepath.Join(w.root, name)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the worktree, or a symlink
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(w.repo, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	w.initRepo("engram/m18-gate")
	w.commit("main", "the action under test")
}

// localActions maps the remote actions action.yml uses (whatever their
// pins) to the stand-ins of writeStubs, for act --local-repository.
func (w *e2e) localActions(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, m := range regexp.MustCompile(`uses:\s*(actions/(setup-go|upload-artifact)@[^\s#]+)`).FindAllStringSubmatch(string(data), -1) {
		args = append(args, "--local-repository", m[1]+"="+filepath.Join(w.stubs, m[2]))
	}
	if len(args) != 4 {
		t.Fatalf("action.yml: found %d of the 2 remote actions the stand-ins replace (setup-go, upload-artifact)", len(args)/2)
	}
	return args
}
