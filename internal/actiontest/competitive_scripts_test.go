package actiontest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/internal/testenv"
)

// TestCompetitiveM17Scripts runs the M17-compatible scripts' competitor
// side against a real PostgreSQL: m18_performance_check.sh TASK PHASE
// --competitive with M18_COMPETITOR measures Engram (here the reference
// target) and the competitor with the same scenario and seed, into the
// M17 file names and competitive_vs_NAME_… beside them;
// compare_m18_performance.sh TASK --competitive shows the position and
// exits 0 for identical phases, 2 when the policy file's milestone target
// is missed, 3 when the competitor was measured before only.
func TestCompetitiveM17Scripts(t *testing.T) {
	needEndToEnd(t, "runs the load scripts against PostgreSQL for about 30 s", "bash", "curl")
	pg := competitortest.Postgres(t)
	root := testenv.ModuleRoot(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	testenv.Build(t, bin+"/", "./cmd/...")
	work := filepath.Join(tmp, "engram")
	scenario := filepath.Join(work, "graph.toml")
	writeFile(t, scenario, fixture(t, "competitive.toml"))
	missed := filepath.Join(work, "missed.toml")
	writeFile(t, missed, fmt.Sprintf("[milestone.%q]\ncompetitor = \"postgres\"\np99_ms = 0.001\nnote = \"out of reach on purpose\"\n", scenario))
	port := competitortest.FreePort(t)
	check := filepath.Join(root, "scripts", "m18_performance_check.sh")
	compare := filepath.Join(root, "scripts", "compare_m18_performance.sh")
	perf := filepath.Join(work, "tmp", "m18_performance")

	run := func(env []string, script string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command("bash", append([]string{script}, args...)...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "M18_BIN="+bin, "M18_SCENARIO="+scenario, "M18_DURATION=1s", "M18_REPETITIONS=4",
			fmt.Sprintf("M18_ENDPOINT=http://127.0.0.1:%d", port), `M18_TARGET_COMMAND=m18-target --addr "$M18_ADDR"`,
			"M18_COMPETITOR=postgres", "M18_COMPETITOR_URL="+pg)
		cmd.Env = append(cmd.Env, env...)
		return runCommand(t, cmd)
	}
	if out, code := run(nil, check, "005", "before", "--competitive"); code != 0 || !strings.Contains(out, "Competitor: postgres") {
		t.Fatalf("before: exit %d\n%s", code, tail(out, 30))
	}
	vs, _ := filepath.Glob(filepath.Join(perf, "competitive_vs_postgres_005_before_*.json"))
	eng, _ := filepath.Glob(filepath.Join(perf, "competitive_005_before_*.json"))
	if len(vs) != 1 || len(eng) != 1 {
		t.Fatalf("files: competitor %v, Engram %v", vs, eng)
	}
	if out, code := run(nil, compare, "005", "--competitive"); code != 3 || !strings.Contains(out, "No 'after' competitive results") {
		t.Fatalf("before only: exit %d\n%s", code, out)
	}
	// The after phase measured Engram only: the competitor's after is
	// missing, and the comparison says how to measure it.
	copyTo := func(src, name string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(perf, name), string(data))
	}
	copyTo(eng[0], "competitive_005_after_20991231_235959.json")
	if out, code := run(nil, compare, "005", "--competitive"); code != 3 || !strings.Contains(out, "postgres was measured before but not after") {
		t.Fatalf("competitor after missing: exit %d\n%s", code, out)
	}
	// Identical phases: the position is shown and has not moved.
	copyTo(vs[0], "competitive_vs_postgres_005_after_20991231_235959.json")
	out, code := run(nil, compare, "005", "--competitive")
	if code != 0 || !strings.Contains(out, "position against postgres") || !strings.Contains(out, "PatternCompletion") {
		t.Fatalf("identical phases: exit %d, want 0 with the position\n%s", code, out)
	}
	// A milestone target out of reach: a competitive regression.
	out, code = run([]string{"M18_CONFIG=" + missed}, compare, "005", "--competitive")
	if code != 2 || !strings.Contains(out, "milestone MISSED") || !strings.Contains(out, "COMPETITIVE REGRESSION") {
		t.Fatalf("missed milestone: exit %d, want 2\n%s", code, out)
	}
}
