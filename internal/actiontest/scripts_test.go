package actiontest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/internal/testenv"
)

// TestM17CompatibleScripts runs scripts/m18_performance_check.sh and
// scripts/compare_m18_performance.sh as Engram's developers run the M17
// ones: the same arguments, file names, seeds and exit codes, against a
// target started by M18_TARGET_COMMAND on loopback.
func TestM17CompatibleScripts(t *testing.T) {
	needEndToEnd(t, "runs the load scripts for about a minute", "bash", "curl")
	root := testenv.ModuleRoot(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	testenv.Build(t, bin+"/", "./cmd/...")
	work := filepath.Join(tmp, "engram") // the developer's checkout
	scenario := filepath.Join(work, "small.toml")
	writeFile(t, scenario, fixture(t, "e2e.toml"))
	// The developer's gate policy, found by compare_m18_performance.sh in
	// the working directory.
	writeFile(t, filepath.Join(work, ".github", "m18-gate.toml"), fixture(t, "gate.toml"))
	port := competitortest.FreePort(t)
	check := filepath.Join(root, "scripts", "m18_performance_check.sh")
	compare := filepath.Join(root, "scripts", "compare_m18_performance.sh")

	run := func(t *testing.T, env []string, script string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command("bash", append([]string{script}, args...)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "M18_BIN="+bin, "M18_SCENARIO="+scenario, "M18_DURATION=2s",
			fmt.Sprintf("M18_ENDPOINT=http://127.0.0.1:%d", port))
		cmd.Env = append(cmd.Env, env...)
		return runCommand(t, cmd)
	}
	target := func(slowdown int) string {
		return fmt.Sprintf(`m18-target --addr "$M18_ADDR" --slowdown %d`, slowdown)
	}
	resultName := regexp.MustCompile(`^(competitive_)?[0-9]+_(before|after)_[0-9]{8}_[0-9]{6}\.json$`)
	newest := func(t *testing.T, pattern string) string {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(work, "tmp", "m18_performance", pattern))
		if len(m) == 0 {
			t.Fatalf("no file matches %s", pattern)
		}
		if !resultName.MatchString(filepath.Base(m[len(m)-1])) {
			t.Errorf("result file %s does not follow {competitive_}TASK_PHASE_YYYYmmdd_HHMMSS.json", filepath.Base(m[len(m)-1]))
		}
		return m[len(m)-1]
	}
	seedOf := func(t *testing.T, path string) uint64 {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Run struct {
				Seed uint64 `json:"seed"`
			} `json:"run"`
			P99 *float64 `json:"p99_latency_ms"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.P99 == nil {
			t.Errorf("%s lacks the Engram report field p99_latency_ms", path)
		}
		return doc.Run.Seed
	}

	t.Run("usage", func(t *testing.T) {
		if out, code := run(t, nil, check, "001", "during"); code != 1 || !strings.Contains(out, "before' or 'after'") {
			t.Errorf("a bad phase: exit %d, want 1 with the M17 message\n%s", code, out)
		}
		if out, code := run(t, nil, compare, "001"); code != 3 || !strings.Contains(out, "No 'before' results found for task 001") {
			t.Errorf("no results: exit %d, want 3 naming the missing phase\n%s", code, out)
		}
	})

	t.Run("regression", func(t *testing.T) {
		// Before and after run one after the other, not interleaved, so
		// drift falls between them: 8 runs a side give the unpaired test
		// room (its smallest p at 6 a side, 0.002, barely survives
		// Benjamini–Hochberg on a noisy machine).
		reps := []string{"M18_REPETITIONS=8"}
		if out, code := run(t, append(reps, "M18_TARGET_COMMAND="+target(0)), check, "001", "before"); code != 0 {
			t.Fatalf("before: exit %d\n%s", code, tail(out, 30))
		}
		skipIfCutShort(t, newest(t, "001_before_*.json"), 8)
		if seed := seedOf(t, newest(t, "001_before_*.json")); seed != 0xDEADBEEF {
			t.Errorf("seed %d, want 0xDEADBEEF", seed)
		}
		if out, code := run(t, reps, compare, "001"); code != 3 || !strings.Contains(out, "No 'after' results") {
			t.Errorf("only before: exit %d, want 3\n%s", code, out)
		}
		if out, code := run(t, append(reps, "M18_TARGET_COMMAND="+target(100)), check, "001", "after"); code != 0 {
			t.Fatalf("after: exit %d\n%s", code, tail(out, 30))
		}
		skipIfCutShort(t, newest(t, "001_after_*.json"), 8)
		out, code := run(t, nil, compare, "001")
		verdicts, _ := filepath.Glob(filepath.Join(work, "tmp", "m18_performance", "001_verdict_*.json"))
		if len(verdicts) != 1 {
			t.Fatalf("want one verdict file beside the results, got %v\n%s", verdicts, out)
		}
		if code == 0 && honestlyInconclusive(t, verdicts[0]) {
			// before and after ran one after the other, not interleaved:
			// drift on a busy machine can hide the slowdown, honestly.
			t.Skipf("this machine drifted too much between the before and after runs to tell the slowdown (the gate said inconclusive)\n%s", out)
		}
		if code != 1 {
			t.Errorf("a target twice as slow: compare exit %d, want 1 (internal regression)\n%s", code, out)
		}
		if !strings.Contains(out, "regressed") {
			t.Errorf("the comparison table names no regressed metric:\n%s", out)
		}
	})

	t.Run("identical", func(t *testing.T) {
		// The same runs on both sides can only be "no regression".
		src := newest(t, "001_before_*.json")
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(src)
		writeFile(t, filepath.Join(dir, "002_before_20250101_000000.json"), string(data))
		writeFile(t, filepath.Join(dir, "002_after_20250101_000001.json"), string(data))
		if out, code := run(t, nil, compare, "002"); code != 0 {
			t.Errorf("identical results: exit %d, want 0\n%s", code, out)
		}
	})

	t.Run("competitive", func(t *testing.T) {
		env := []string{"M18_REPETITIONS=2", "M18_TARGET_COMMAND=" + target(0)}
		if out, code := run(t, env, check, "003", "before", "--competitive"); code != 0 {
			t.Fatalf("competitive before: exit %d\n%s", code, tail(out, 30))
		}
		if seed := seedOf(t, newest(t, "competitive_003_before_*.json")); seed != 0xABCD1234 {
			t.Errorf("competitive seed %d, want 0xABCD1234", seed)
		}
		if out, code := run(t, nil, compare, "003", "--competitive"); code != 3 || !strings.Contains(out, "No 'after' competitive results") {
			t.Errorf("competitive, only before: exit %d, want 3\n%s", code, out)
		}
	})
}

// skipIfCutShort skips when m18-run stopped a result's repetitions early:
// it ends a run at the first repetition whose load generator could not keep
// the schedule (exit 4), which happens on a machine busy with other work,
// and then there are too few runs for the statistics.
func skipIfCutShort(t *testing.T, path string, want int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Repetitions []json.RawMessage `json:"repetitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Repetitions) < want {
		t.Skipf("%s holds %d of %d repetitions: m18-run stopped when this busy machine made the load generator late (exit 4); the statistics need them all", filepath.Base(path), len(doc.Repetitions), want)
	}
}
