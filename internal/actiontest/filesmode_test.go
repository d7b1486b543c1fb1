package actiontest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/testenv"
)

// TestFilesMode runs the action's scripts for mode files as the composite
// steps do: bench.sh copies the result files the workflow produced (here
// hyperfine exports and go test -bench output, matched by globs) and gate.sh
// compares them, unpaired, writing the verdict and its outputs.
func TestFilesMode(t *testing.T) {
	testenv.Tools(t, "bash")
	root := testenv.ModuleRoot(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	testenv.Build(t, bin+"/", "./cmd/m18-gate")
	ws := filepath.Join(tmp, "ws")
	// hyperfine: five runs each, the head 30 % slower.
	writeFile(t, filepath.Join(ws, "results", "base", "h.json"), `{"results": [{"command": "./app", "times": [1.00, 1.01, 0.99, 1.02, 1.00, 0.98]}]}`)
	writeFile(t, filepath.Join(ws, "results", "head", "h.json"), `{"results": [{"command": "./app", "times": [1.30, 1.31, 1.29, 1.32, 1.30, 1.33]}]}`)
	work := filepath.Join(tmp, "work")
	out := filepath.Join(tmp, "github_output")
	env := append(os.Environ(), "M18_BIN="+bin, "M18_WORK="+work, "M18_MODE=files", "GITHUB_WORKSPACE="+ws, "GITHUB_OUTPUT="+out,
		"M18_BASE_FILES=results/base/*.json", "M18_HEAD_FILES=results/head/*.json")
	for _, script := range []string{"bench.sh", "gate.sh"} {
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "action", script))
		cmd.Env, cmd.Dir = env, ws
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, b)
		}
	}
	outputs, _ := os.ReadFile(out)
	if !strings.Contains(string(outputs), "verdict=regression") || !strings.Contains(string(outputs), "exit-code=1") {
		t.Errorf("outputs:\n%s", outputs)
	}
	v, err := verdict.ReadFile(filepath.Join(work, "out", "verdict.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Comparisons) != 1 || v.Comparisons[0].Decision != verdict.Regressed || strings.Contains(v.Comparisons[0].Reason, "paired") {
		t.Errorf("comparisons: %+v", v.Comparisons)
	}
	// A glob that matches nothing is an error naming the input.
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "action", "bench.sh"))
	cmd.Env = append(env, "M18_HEAD_FILES=nope/*.json")
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "head-files 'nope/*.json' matched no file") {
		t.Errorf("an empty glob: %v\n%s", err, b)
	}
}
