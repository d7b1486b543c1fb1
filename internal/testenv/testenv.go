// Package testenv is what tests need of the checkout they run in: the
// module root, the go command, this module's commands built for a test to
// run as processes, Engram's scenario files beside the checkout, the small
// input files a test writes (WriteFile), and the programs a test runs
// (Tool: the test is skipped, saying how to install one that is missing). It is for tests only: its
// functions take a testing.TB and fail or skip the test instead of returning
// errors.
package testenv

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// ModuleRoot returns the directory holding go.mod, walking up from the
// working directory (a test's package directory); it fails t when there is
// none.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the package directory")
		}
		dir = parent
	}
}

// GoTool returns the go command of the toolchain that built the test
// ($GOROOT/bin/go), or "go" from PATH when that does not exist.
func GoTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// Build runs "go build -o out pkg" in the module root and fails t, with the
// compiler's output, when it fails. pkg is relative to the module root
// ("./cmd/m18-history", or "./cmd/..." with out a directory ending in a
// path separator).
func Build(t testing.TB, out, pkg string) {
	t.Helper()
	cmd := exec.Command(GoTool(), "build", "-o", out, pkg)
	cmd.Dir = ModuleRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -o %s %s: %v\n%s", out, pkg, err, b)
	}
}

// EngramScenarios returns Engram's scenario directory, shared/engram-scenarios
// beside the checkout (../shared/engram-scenarios from the module root), or
// skips t when it is absent: the files sit there in CI, not in every
// checkout.
func EngramScenarios(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Skipf("cannot locate ../shared/engram-scenarios: %v", err)
	}
	d := filepath.Join(filepath.Dir(root), "shared", "engram-scenarios")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("Engram's scenario files are not at %s (they sit beside the checkout in CI): %v", d, err)
	}
	return d
}

// ReportCPU reports the CPU time per operation since cpu0 (a CPUTime) as
// the benchmark metric cpu-ns/op; on an idle machine it is about wall time
// × the cores kept busy.
func ReportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64((CPUTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// Run calls run, a command's run function, with args and returns its exit
// code and what it wrote to stdout and stderr.
func Run(run func(args []string, stdout, stderr io.Writer) int, args ...string) (code int, stdout, stderr string) {
	var out, errb strings.Builder
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// WriteFile writes text to the file name in dir and returns its path; it
// fails t when the write does.
func WriteFile(t testing.TB, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// MainAs runs the tests of m, or, when the environment variable env is "1",
// acts as the command whose run function is given: the test binary then is
// the command, so that a test can run it as a child process (re-executing
// os.Executable with env=1) to signal it, kill it, or start it elsewhere.
func MainAs(m *testing.M, env string, run func(args []string, stdout, stderr io.Writer) int) {
	if os.Getenv(env) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// Tool returns the path of the program name on PATH; without it, it skips
// t, saying how to install it.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not on PATH (%s; .ci/run installs it): skipped", name, install(name))
	}
	return p
}

// Tools skips t when one of the programs names is not on PATH (see Tool).
func Tools(t testing.TB, names ...string) {
	t.Helper()
	for _, name := range names {
		Tool(t, name)
	}
}

// install says how to install the program name on Debian.
func install(name string) string {
	pkg := name
	switch name {
	case "actionlint":
		return "go install github.com/rhysd/actionlint/cmd/actionlint"
	case "act":
		return "go install github.com/nektos/act"
	case "callgrind_control", "cg_annotate":
		pkg = "valgrind"
	case "perf":
		pkg = "linux-perf"
	case "qemu-aarch64":
		pkg = "qemu-user"
	case "ip":
		pkg = "iproute2"
	case "promtool":
		pkg = "prometheus"
	case "chromedriver":
		pkg = "chromium-driver"
	case "numastat":
		pkg = "numactl"
	case "ps":
		pkg = "procps"
	case "awk":
		pkg = "gawk"
	}
	return "Debian: apt-get install " + pkg
}
