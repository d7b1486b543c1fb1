package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/testenv"
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBenchGateScript runs scripts/bench_gate.sh as a user would, one trial
// of each kind in its default design — the action's default gate, run by
// the action's measure.sh and gate.sh: duet pairs in looks at 10, 15 and
// 20 pairs — shrunk to 1-second runs and a slowdown large enough to be certain: the
// slowed head is detected by its target's CPU per request, the identical
// head raises no alarm, and the summary lines report both rates and the
// minutes per gate. The slowed head's regression is confirmed by a re-run
// at the first look of the plan compare --confirm-looks gives (the
// script's CONFIRM=auto, the action's default), counted in the trial's
// pairs; the identical head needs none.
func TestBenchGateScript(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs 32 target processes")
	}
	testenv.Tools(t, "bash", "jq", "bc")
	keep := t.TempDir()
	// ci/pr_gate at 200 requests/s over 100 memories, as a scenario file
	// (SCENARIO): m18-run then runs without the wrapper's flags.
	b, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(t), "runners", "scenario", "builtin", "ci", "pr_gate.toml"))
	if err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(t.TempDir(), "small.toml")
	small := strings.NewReplacer("rate = 300.0", "rate = 200.0", "num_nodes = 2_000", "num_nodes = 100").Replace(string(b))
	if small == string(b) {
		t.Fatal("ci/pr_gate.toml no longer sets rate = 300.0 and num_nodes = 2_000: update this test")
	}
	if err := os.WriteFile(scenario, []byte(small), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(testenv.ModuleRoot(t), "scripts", "bench_gate.sh"), "1")
	cmd.Env = append(os.Environ(), "SCENARIO="+scenario, "DURATION=1s", "WARMUP=0s", "SLOWDOWN=100", "KEEP="+keep)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench_gate.sh: %v\n%s", err, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^bench_gate: signal cpu; 1 trials each; the action's ab gate \(looks at 10, 1\.5× and 2× as many pairs, duet auto, confirm auto\) of \S+/small\.toml \(duration 1s, warm-up 0s, rate the scenario's, nodes the scenario's\); slowdown 100 %$`),
		regexp.MustCompile(`(?m)^trial aa-1 +exit 0 .* (10|15|20) pairs +regressed: none \| cpu_per_op `),
		regexp.MustCompile(`(?m)^trial slow-1 +exit 1 .* [0-9]+ pairs \([0-9]+ to confirm: confirmed\) +regressed: .*overall/cpu_per_op [0-9.]+%.*\| cpu_per_op [0-9.]+% \[[0-9.]+, [0-9.]+\] regressed$`),
		regexp.MustCompile(`(?m)^detection of --slowdown 100: 1/1 \(100 %\)$`),
		regexp.MustCompile(`(?m)^false alarms on A/A: +0/1 \(0 %\)$`),
		regexp.MustCompile(`(?m)^minutes per gate: +[0-9]+\.[0-9]$`),
	} {
		if !want.Match(out) {
			t.Errorf("the output does not match %s:\n%s", want, out)
		}
	}
	// A look's pairs (10 for a slowdown this large), then the re-run's
	// first look, as --confirm-looks plans it: at least 9 (the signed-rank
	// test's floor 2/2ⁿ reaches half of 0.01 at n = 9).
	m := regexp.MustCompile(`(?m)^trial slow-1 .* ([0-9]+) pairs \(([0-9]+) to confirm`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no slow-1 trial line with a confirmation:\n%s", out)
	}
	all, extra := atoi(t, string(m[1])), atoi(t, string(m[2]))
	if look := all - extra; extra < 9 || look != 10 && look != 15 && look != 20 {
		t.Errorf("slow-1 used %d pairs with %d to confirm; want a look's 10, 15 or 20 + at least 9", all, extra)
	}
	// KEEP holds each gate's out/ directory as the action leaves it, with
	// the scripts' logs: the pairs ran as duets.
	for _, f := range []string{"aa-1/verdict.json", "slow-1/verdict.json", "slow-1/first-verdict.json", "slow-1/base/*small-009.json", "slow-1/head/*small-009.json",
		fmt.Sprintf("slow-1/confirm/base/*small-%03d.json", extra-1), fmt.Sprintf("slow-1/confirm/head/*small-%03d.json", extra-1)} {
		if m, _ := filepath.Glob(filepath.Join(keep, f)); len(m) != 1 {
			t.Errorf("KEEP lacks %s (found %q)", f, m)
		}
	}
	if log, err := os.ReadFile(filepath.Join(keep, "slow-1", "measure.log")); err != nil || !regexp.MustCompile(`pair 10/20 of \S+/small\.toml done \(duet: base and head at once`).Match(log) {
		t.Errorf("slow-1's measure.log (%v) does not say its pairs ran as duets:\n%s", err, log)
	}
	if _, err := os.Stat(filepath.Join(keep, "aa-1", "confirm")); err == nil {
		t.Error("the identical head, which did not regress, measured confirming pairs")
	}
	v, err := verdict.ReadFile(filepath.Join(keep, "slow-1", "verdict.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c := v.Confirmation; c == nil || c.Pairs != extra || c.First.Pairs != all-extra || v.Summary.Outcome != verdict.OutcomeRegression ||
		c.Sequential == nil || c.Sequential.Continue || c.Sequential.Looks[c.Sequential.Look-1] != extra {
		t.Errorf("slow-1 verdict: confirmation %+v, outcome %s; want %d pairs, a look of the re-run's plan, confirming a regression on %d", c, v.Summary.Outcome, extra, all-extra)
	}
}
