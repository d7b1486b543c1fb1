package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/verdict"
)

// TestAB runs the local A/B gate on a small scenario: a head three times
// slower is a regression (or, on a machine too busy to tell, honestly
// inconclusive, never unchanged), and every run and the verdict are
// written.
func TestAB(t *testing.T) {
	if testing.Short() {
		t.Skip("10 one-second runs: skipped with -short")
	}
	// testdata/ab.toml is recall-heavy, so the target's --slowdown (which
	// scales handler time) shows in end-to-end latency.
	sc := filepath.Join("testdata", "ab.toml")
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	code := run([]string{"ab", "--scenario", sc, "--slowdown", "200", "--repetitions", "5", "--duration", "1s", "--warmup", "200ms",
		"--rate", "100", "--out", out, "--quiet"}, &stdout, &stderr)
	for _, side := range []string{"base", "head"} {
		if m, _ := filepath.Glob(filepath.Join(out, side+"-*.json")); len(m) != 5 {
			t.Errorf("%d %s results, want 5", len(m), side)
		}
	}
	v, err := verdict.ReadFile(filepath.Join(out, "verdict.json"))
	if err != nil {
		t.Fatalf("no verdict (exit %d): %v\n%s", code, err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "verdict written to") {
		t.Errorf("stdout does not name the verdict:\n%s", stdout.String())
	}
	for _, c := range v.Comparisons {
		if c.Metric == "p50" && c.Decision != "" {
			switch c.Decision {
			case verdict.Unchanged, verdict.Improved:
				t.Fatalf("a head three times slower was called %s: %s", c.Decision, c.Reason)
			case verdict.Inconclusive:
				t.Skipf("this machine is too busy to tell even a 200 %% slowdown at n = 5 (honestly inconclusive): %s", c.Reason)
			}
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1 (regression)\n%s%s", code, stdout.String(), stderr.String())
	}
}

// TestABFlags: a mistyped flag is named with the right one, and too few
// repetitions are refused before anything runs.
func TestABFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"ab", "--slowdwn", "10"}, &stdout, &stderr); code != 3 || !strings.Contains(stderr.String(), "did you mean --slowdown?") {
		t.Errorf("mistyped flag: exit %d\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"ab", "--repetitions", "1"}, &stdout, &stderr); code != 3 || !strings.Contains(stderr.String(), "at least 2") {
		t.Errorf("--repetitions 1: exit %d\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"ab", "--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String()+stderr.String(), "Exit codes") {
		t.Errorf("--help: exit %d, no exit codes\n%s", code, stderr.String())
	}
}
