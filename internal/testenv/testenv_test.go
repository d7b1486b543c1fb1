package testenv

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestModuleRoot(t *testing.T) {
	root := ModuleRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "module github.com/engram/m18-gate") {
		t.Errorf("%s/go.mod is not this module's:\n%s", root, b)
	}
	wd, _ := os.Getwd()
	if want := filepath.Join(root, "internal", "testenv"); wd != want {
		t.Errorf("root %s: the package directory would be %s, it is %s", root, want, wd)
	}
}

func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a command: skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "fakegithub")
	Build(t, bin, "./internal/fakegithub/cmd/fakegithub")
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	if !strings.Contains(string(out), "-token") {
		t.Errorf("%s -h: %s", bin, out)
	}
}

func TestEngramScenarios(t *testing.T) {
	d := EngramScenarios(t) // skips when absent
	files, err := filepath.Glob(filepath.Join(d, "*.toml"))
	if err != nil || len(files) == 0 {
		t.Errorf("%s holds no .toml files (%v)", d, err)
	}
}

func TestRun(t *testing.T) {
	code, stdout, stderr := Run(func(args []string, stdout, stderr io.Writer) int {
		io.WriteString(stdout, strings.Join(args, " "))
		io.WriteString(stderr, "bad")
		return 3
	}, "a", "b")
	if code != 3 || stdout != "a b" || stderr != "bad" {
		t.Errorf("Run = %d, %q, %q; want 3, \"a b\", \"bad\"", code, stdout, stderr)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := WriteFile(t, dir, "p.toml", "[defaults]\n")
	if got, err := os.ReadFile(path); err != nil || string(got) != "[defaults]\n" || path != filepath.Join(dir, "p.toml") {
		t.Errorf("WriteFile = %q holding %q, %v", path, got, err)
	}
}
