package testenv

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// skipRecorder is a testing.TB whose Skipf records instead of skipping.
type skipRecorder struct {
	testing.TB
	skips []string
}

func (r *skipRecorder) Skipf(format string, args ...any) {
	r.skips = append(r.skips, fmt.Sprintf(format, args...))
}

func TestTool(t *testing.T) {
	if p := Tool(t, "sh"); !filepath.IsAbs(p) {
		t.Errorf("Tool(sh) = %q, want an absolute path", p)
	}
	tests := []struct {
		names []string
		want  []string
	}{
		{[]string{"sh"}, nil},
		{[]string{"sh", "m18-no-such-tool"}, []string{"m18-no-such-tool is not on PATH (Debian: apt-get install m18-no-such-tool; .ci/run installs it)"}},
	}
	for _, tt := range tests {
		r := &skipRecorder{TB: t}
		Tools(r, tt.names...)
		if !slices.EqualFunc(r.skips, tt.want, strings.HasPrefix) {
			t.Errorf("Tools(%q) skipped %q, want %q", tt.names, r.skips, tt.want)
		}
	}
}

func TestInstall(t *testing.T) {
	tests := []struct{ name, want string }{
		{"jq", "Debian: apt-get install jq"},
		{"callgrind_control", "Debian: apt-get install valgrind"},
		{"qemu-aarch64", "Debian: apt-get install qemu-user"},
		{"act", "go install github.com/nektos/act"},
	}
	for _, tt := range tests {
		if got := install(tt.name); got != tt.want {
			t.Errorf("install(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
