package actiontest

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
)

// TestActionlint runs actionlint over every workflow (and, through
// `uses: ./`, the action's metadata). .ci/run installs it; elsewhere the
// test skips when it is not on PATH.
func TestActionlint(t *testing.T) {
	bin := testenv.Tool(t, "actionlint")
	cmd := exec.Command(bin, "-no-color")
	cmd.Dir = testenv.ModuleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
}

// TestShellcheck checks the action's scripts and the M17-compatible scripts
// when shellcheck is installed (Debian package shellcheck).
func TestShellcheck(t *testing.T) {
	bin := testenv.Tool(t, "shellcheck")
	root := testenv.ModuleRoot(t)
	files, _ := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	action, _ := filepath.Glob(filepath.Join(root, "scripts", "action", "*.sh"))
	files = append(files, action...)
	if len(files) == 0 {
		t.Fatal("no scripts found")
	}
	for i, f := range files {
		files[i], _ = filepath.Rel(root, f)
	}
	cmd := exec.Command(bin, append([]string{"-x"}, files...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}
