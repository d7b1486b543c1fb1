package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
)

// TestBenchGateScript runs scripts/bench_gate.sh as a user would, one trial
// of each kind in its default design (duet pairs decided once), shrunk to
// 10 pairs of 1-second runs and a slowdown large enough to be certain: the
// slowed head is detected by its target's CPU per request, the identical
// head raises no alarm, and the summary lines report both rates and the
// minutes per gate.
func TestBenchGateScript(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs 32 target processes")
	}
	for _, tool := range []string{"bash", "jq", "bc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH", tool)
		}
	}
	keep := t.TempDir()
	cmd := exec.Command("bash", filepath.Join(testenv.ModuleRoot(t), "scripts", "bench_gate.sh"), "1")
	cmd.Env = append(os.Environ(), "PAIRS=10", "DURATION=1s", "WARMUP=0s", "RATE=200", "NODES=100", "SLOWDOWN=100", "KEEP="+keep)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench_gate.sh: %v\n%s", err, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^bench_gate: signal cpu; 1 trials each; 10 pairs, base and head at once \(duet\)`),
		regexp.MustCompile(`(?m)^trial aa-1 +exit 0 .* 10 pairs +regressed: none \| cpu_per_op `),
		regexp.MustCompile(`(?m)^trial slow-1 +exit 1 .* 10 pairs +regressed: .*overall/cpu_per_op [0-9.]+%.*\| cpu_per_op [0-9.]+% \[[0-9.]+, [0-9.]+\] regressed$`),
		regexp.MustCompile(`(?m)^detection of --slowdown 100: 1/1 \(100 %\)$`),
		regexp.MustCompile(`(?m)^false alarms on A/A: +0/1 \(0 %\)$`),
		regexp.MustCompile(`(?m)^minutes per gate: +[0-9]+\.[0-9]$`),
	} {
		if !want.Match(out) {
			t.Errorf("the output does not match %s:\n%s", want, out)
		}
	}
	for _, f := range []string{"aa-1/verdict.json", "slow-1/verdict.json", "slow-1/base/010.json", "slow-1/head/010.json"} {
		if _, err := os.Stat(filepath.Join(keep, f)); err != nil {
			t.Errorf("KEEP lacks %s: %v", f, err)
		}
	}
}
