package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

// compareRuns are the m18 results of ci/fast_regression_check the command
// tests compare: base and same (A/A: median p50 0.2 ms, 10 runs each), slow
// (+20 %), other (as base, on another machine), few and fewBase (two runs
// each).
type compareRuns struct{ base, same, slow, other, few, fewBase string }

func writeCompareRuns(t *testing.T, dir string) compareRuns {
	t.Helper()
	w := func(name, fingerprint string, p50 float64, n int, seed uint64) string {
		return writeResult(t, dir, name, "ci/fast_regression_check", fingerprint, p50, n, seed, nil)
	}
	return compareRuns{
		base: w("base", "aaaaaaaaaaaa", 0.2, 10, 1), same: w("same", "aaaaaaaaaaaa", 0.2, 10, 2),
		slow: w("slow", "aaaaaaaaaaaa", 0.24, 10, 3), other: w("other", "bbbbbbbbbbbb", 0.2, 10, 4),
		few: w("few", "aaaaaaaaaaaa", 0.2, 2, 5), fewBase: w("fewbase", "aaaaaaaaaaaa", 0.2, 2, 6),
	}
}

// writeResult writes an m18 result of scenario with n repetitions, each a
// minute after the last, whose latencies have median p50 (2 % noise), a
// competitor's run when comp is set, and returns its path.
func writeResult(t *testing.T, dir, name, scenario, fingerprint string, p50 float64, n int, seed uint64, comp *result.Competitor) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seed) * time.Hour)
	d := &result.Document{
		Run: result.Run{Scenario: scenario, RunID: name, Start: start, End: start,
			Hardware: result.Fingerprint{Hash: fingerprint}, Competitor: comp},
		ConfigName: scenario,
	}
	for i := range n {
		v := p50 * (1 + 0.02*r.NormFloat64())
		st := result.OpStats{Count: 1000, Success: 1000, Throughput: 100 * (1 + 0.01*r.NormFloat64()), Latency: result.Latency{P50: v, P95: 1.5 * v, P99: 2 * v, P999: 3 * v, Mean: 1.1 * v}}
		d.Repetitions = append(d.Repetitions, result.Repetition{Index: i, Start: start.Add(time.Duration(i) * time.Minute), Overall: st,
			Operations: map[string]result.OpStats{result.OpPatternCompletion: st}})
	}
	path := filepath.Join(dir, name+".json")
	if err := result.WriteFile(path, d); err != nil {
		t.Fatal(err)
	}
	return path
}

// cmdCase is one run of m18-gate: its arguments, the exit code it must end
// with, and text its stdout and stderr must hold.
type cmdCase struct {
	name           string
	args           []string
	exit           int
	stdout, stderr string
}

// runCases runs each case as a subtest.
func runCases(t *testing.T, cases []cmdCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := testenv.Run(run, tt.args...)
			if code != tt.exit || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.exit, stdout, stderr)
			}
		})
	}
}

func TestCompareExitCodes(t *testing.T) {
	dir := t.TempDir()
	r := writeCompareRuns(t, dir)
	base, same, slow, other := r.base, r.same, r.slow, r.other
	cfg := testenv.WriteFile(t, dir, "gate.toml", "[scenario.\"ci/fast_regression_check\"]\ncompetitive = true\n")
	bad := testenv.WriteFile(t, dir, "bad.toml", "[defaults]\ntreshold = 5\n")
	out := filepath.Join(dir, "verdict.json")
	md := filepath.Join(dir, "comment.md")

	tests := []cmdCase{
		{"A/A passes", []string{"compare", "--base", base, "--head", same}, 0, "unchanged", ""},
		{"slowdown regresses", []string{"compare", "--base", base, "--head", slow, "--output", out, "--markdown", md}, 1, "regressed", "m18-gate compare: internal regression: "},
		{"competitive flag", []string{"compare", "--competitive", "--base", base, "--head", slow}, 2, "regressed", "m18-gate compare: competitive regression: "},
		{"competitive config", []string{"compare", "--config", cfg, "--base", base, "--head", slow}, 2, "regressed", ""},
		{"threshold 25%", []string{"compare", "--threshold", "25%", "--base", base, "--head", slow}, 0, "", ""},
		{"files listed after the flag", []string{"compare", "--base", base, same, "--head", slow}, 1, "regressed", ""},
		{"fraction threshold refused", []string{"compare", "--threshold", "0.05", "--base", base, "--head", slow}, 3, "", "write 5% for 5 %"},
		{"missing file", []string{"compare", "--base", filepath.Join(dir, "nope.json"), "--head", slow}, 3, "", "nope.json"},
		{"no head", []string{"compare", "--base", base}, 3, "", "needs --base FILE... and --head FILE..."},
		{"fingerprints differ", []string{"compare", "--base", base, "--head", other}, 3, "", "--allow-fingerprint-mismatch"},
		{"fingerprints allowed", []string{"compare", "--allow-fingerprint-mismatch", "--base", base, "--head", other}, 0, "", ""},
		{"bad config", []string{"compare", "--config", bad, "--base", base, "--head", slow}, 3, "", `bad.toml:2: [defaults] unknown key "treshold" (did you mean "threshold"?)`},
		{"unknown command", []string{"frobnicate"}, 3, "", `unknown command "frobnicate"`},
		{"help", []string{"help"}, 0, "Exit codes", ""},
		{"version", []string{"--version"}, 0, "m18-gate ", ""},
		{"bad flag", []string{"compare", "--nope"}, 3, "", "flag provided but not defined: -nope"},
		{"compare help", []string{"compare", "--help"}, 0, "", "Usage: m18-gate compare"},
		{"paired", []string{"compare", "--paired", "--base", base, "--head", slow, "--output", filepath.Join(dir, "paired.json")}, 1, "regressed", ""},
		{"sequential: a regression stops the first look", []string{"compare", "--paired", "--looks", "10,20", "--base", base, "--head", slow}, 1, "sequential: look 1 of 2 (10 pairs; α 0.005 of 0.01 spent here): stopped: regression", ""},
		{"sequential: undecided asks for the next look", []string{"compare", "--paired", "--looks", "10,20", "--threshold", "1%", "--base", base, "--head", same}, 4, "look 1 of 2", "not decided at this look: look 1 of 2 at 10 pairs"},
		{"sequential: the last look decides", []string{"compare", "--paired", "--looks", "5,10", "--threshold", "1%", "--base", base, "--head", same}, 0, "look 2 of 2 (10 pairs; α 0.005 of 0.01 spent here): last look", ""},
		{"sequential: too few pairs", []string{"compare", "--paired", "--looks", "12,20", "--base", base, "--head", same}, 3, "", "10 pairs: the first look of the plan 12,20 is at 12 pairs"},
		{"sequential needs paired", []string{"compare", "--looks", "10,20", "--base", base, "--head", same}, 3, "", "add --paired"},
		{"one look is no plan", []string{"compare", "--paired", "--looks", "10", "--base", base, "--head", same}, 3, "", "--looks: looks \"10\": want at least two looks"},
		{"calibrate", []string{"calibrate", "--runs", base, same, "--output", filepath.Join(dir, "cal.json")}, 0, "MDE", ""},
		{"a file before any flag", []string{"calibrate", "stray.json", "--runs", base}, 3, "", `unexpected argument "stray.json" (files go after --runs)`},
		{"calibrate without runs", []string{"calibrate"}, 3, "", "calibrate needs --runs FILE..."},
		{"changepoints without series", []string{"changepoints", "--recent", "3"}, 3, "", "changepoints needs --series FILE..."},
		{"a series before any flag", []string{"changepoints", "stray.json", "--series", base}, 3, "", `unexpected argument "stray.json" (files go after --series)`},
		{"calibrated compare", []string{"compare", "--calibration", filepath.Join(dir, "cal.json"), "--base", base, "--head", same, "--output", filepath.Join(dir, "v2.json")}, 0, "", ""},
		{"changepoints", []string{"changepoints", "--series", base, same, slow, "--metric", "p50"}, 0, "E-divisive needs at least 8", ""},
		{"changepoints json", []string{"changepoints", "--json", "--series", base, same, slow}, 0, `"change_points": []`, ""},
	}
	runCases(t, tests)

	v, err := verdict.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if v.Summary.Outcome != verdict.OutcomeRegression || v.Markdown == "" {
		t.Errorf("verdict file: %+v", v.Summary)
	}
	if data, err := os.ReadFile(md); err != nil || !strings.Contains(string(data), "regress") {
		t.Errorf("markdown: %v %q", err, data)
	}
	pv, err := verdict.ReadFile(filepath.Join(dir, "paired.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pv.Comparisons {
		if c.Metric != result.MetricErrorRate && !strings.Contains(c.Reason, "paired t test of log ratios over 10 interleaved pairs") {
			t.Errorf("--paired: %s %s was not paired: %s", c.Operation, c.Metric, c.Reason)
		}
	}
	v2, err := verdict.ReadFile(filepath.Join(dir, "v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v2.Comparisons {
		if c.MDE == nil {
			t.Errorf("%s %s: no MDE with --calibration", c.Operation, c.Metric)
		}
	}
}

func TestScenariosOfTier(t *testing.T) {
	dir := t.TempDir()
	cfg := testenv.WriteFile(t, dir, "gate.toml", "[tiers]\npr = [\"ci/fast_regression_check\", \"ci/smoke\"]\nnightly = []\n")
	tests := []struct {
		name   string
		args   []string
		exit   int
		stdout string
		stderr string
	}{
		{"listed", []string{"scenarios", "--config", cfg, "--tier", "pr"}, 0, "ci/fast_regression_check\nci/smoke\n", ""},
		{"empty tier", []string{"scenarios", "--config", cfg, "--tier", "nightly"}, 3, "", `no scenarios for tier "nightly"`},
		{"unknown tier", []string{"scenarios", "--config", cfg, "--tier", "weekly"}, 3, "", `no scenarios for tier "weekly"`},
		{"missing config", []string{"scenarios", "--config", filepath.Join(dir, "nope.toml")}, 3, "", "nope.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != tt.exit {
				t.Fatalf("exit %d, want %d; stderr: %s", got, tt.exit, stderr.String())
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.stderr)
			}
		})
	}
}

// TestSubcommandHelpShowsItsOwnExitCodes: calibrate and changepoints have
// no regression to report, so their --help must not promise exit 1 or 2.
func TestSubcommandHelpShowsItsOwnExitCodes(t *testing.T) {
	tests := []struct {
		cmd       string
		want, not []string
	}{
		{"compare", []string{"0   no regression", "1   internal regression", "2   competitive regression", "3   bad flags"}, nil},
		{"calibrate", []string{"0   calibrated", "3   bad flags"}, []string{"regression"}},
		{"changepoints", []string{"0   searched", "3   bad flags"}, []string{"regression"}},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run([]string{tt.cmd, "--help"}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d", code)
			}
			help := stdout.String() + stderr.String()
			_, codes, ok := strings.Cut(help, "Exit codes")
			if !ok {
				t.Fatalf("no exit codes in --help:\n%s", help)
			}
			for _, w := range tt.want {
				if !strings.Contains(codes, w) {
					t.Errorf("exit codes lack %q:\n%s", w, codes)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(codes, w) {
					t.Errorf("exit codes mention %q, which %s never exits for:\n%s", w, tt.cmd, codes)
				}
			}
		})
	}
}

// TestCompareOutcomeFile: --outcome writes the one word the action's
// verdict output uses, which tells an inconclusive pass from a clean one.
func TestCompareOutcomeFile(t *testing.T) {
	dir := t.TempDir()
	r := writeCompareRuns(t, dir)
	tests := []struct {
		name       string
		base, head string
		code       int
		want       string
	}{
		{"slower head", r.base, r.slow, 1, "regression"},
		{"two runs a side cannot decide", r.fewBase, r.few, 0, "inconclusive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome := filepath.Join(t.TempDir(), "outcome")
			var stdout, stderr bytes.Buffer
			code := run([]string{"compare", "--quiet", "--base", tt.base, "--head", tt.head, "--outcome", outcome}, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, stderr.String())
			}
			got, err := os.ReadFile(outcome)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(got)) != tt.want {
				t.Errorf("outcome %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCriteriaCommand(t *testing.T) {
	dir := t.TempDir()
	task := func(name string, passed bool) string {
		d := &result.Document{
			Run:   result.Run{Scenario: "tasks/003_bursts", RunID: name, Commit: "c0ffee", Hardware: result.Fingerprint{Hash: "aaaaaaaaaaaa"}},
			Tasks: map[string]any{"003": map[string]any{}},
			Validation: &result.Validation{Passed: passed, Checks: []result.Check{
				{Name: "003_bursts/recovery_max_s", Measured: 7, Expected: 5, Passed: passed, Message: "003_bursts/recovery_max_s: measured 7 s, expected ≤ 5 s"},
			}},
		}
		path := filepath.Join(dir, name+".json")
		if err := result.WriteFile(path, d); err != nil {
			t.Fatal(err)
		}
		return path
	}
	failed, met := task("failed", false), task("met", true)
	r := writeCompareRuns(t, dir)
	base, same := r.base, r.same
	combined := filepath.Join(dir, "verdict.json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"compare", "--quiet", "--base", base, "--head", same, "--output", combined}, &stdout, &stderr); code != 0 {
		t.Fatalf("compare: exit %d: %s", code, stderr.String())
	}

	tests := []cmdCase{
		{"failed criterion", []string{"criteria", "--results", failed, "--output", filepath.Join(dir, "v1.json")}, 1, "FAILED", "internal regression: 1 criterion failed"},
		{"met criterion", []string{"criteria", "--results", met}, 0, "PASS: no regression · 1 criterion met", ""},
		{"added to a compare verdict", []string{"criteria", "--verdict", combined, "--results", failed, "--output", combined}, 1, "unchanged", "1 criterion failed"},
		{"not a task document", []string{"criteria", "--results", base}, 3, "", "base.json: not a task document"},
		{"no results", []string{"criteria"}, 3, "", "criteria needs --results"},
	}
	runCases(t, tests)
	v, err := verdict.ReadFile(combined)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Comparisons) == 0 || len(v.Criteria) != 1 || v.Summary.Outcome != verdict.OutcomeRegression {
		t.Errorf("combined verdict: %d comparisons, criteria %+v, outcome %s", len(v.Comparisons), v.Criteria, v.Summary.Outcome)
	}
	if c := v.Criteria[0]; c.Measured != 7 || c.Limit != 5 || c.Task != "003" {
		t.Errorf("criterion %+v: want measured 7, limit 5, task 003", c)
	}
}
