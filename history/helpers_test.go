package history

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

// t0 is the reference time of the tests' synthetic results.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// spec describes a synthetic result.
type spec struct {
	scenario, fp, commit, run string
	start, commitTime         time.Time
	p99                       []float64 // one per repetition
}

// doc builds a result document for sp.
func doc(sp spec) *result.Document {
	if sp.scenario == "" {
		sp.scenario = "ci/fast_regression_check"
	}
	if sp.fp == "" {
		sp.fp = "aaaaaaaaaaaa"
	}
	if sp.run == "" {
		sp.run = fmt.Sprintf("run-%d", sp.start.UnixNano())
	}
	if len(sp.p99) == 0 {
		sp.p99 = []float64{1, 2, 3}
	}
	d := &result.Document{
		Run: result.Run{
			Scenario: sp.scenario, ScenarioSHA256: strings.Repeat("ab", 32), Seed: 42, RunID: sp.run,
			Start: sp.start, End: sp.start.Add(time.Minute), ToolVersion: "test",
			Commit: sp.commit, CommitTime: sp.commitTime, Labels: []string{"self-hosted", "m18"},
			Endpoint: "http://127.0.0.1:1", Target: "builtin",
			Hardware: result.Fingerprint{Hash: sp.fp, CPUModel: "Test CPU " + sp.fp, Arch: "amd64", LogicalCores: 2, PhysicalCores: 1,
				Sockets: 1, NUMANodes: 1, MemoryBytes: 8 << 30, Kernel: "6.1", OS: "linux", GoVersion: "go1.26"},
		},
		ConfigName: sp.scenario,
	}
	for i, v := range sp.p99 {
		st := result.OpStats{Count: 1000, Success: 1000, Throughput: 100, Latency: result.Latency{P50: v / 2, P99: v, Max: v * 2, Mean: v / 2},
			Histogram: "HISTFAAAACl4nJNpmSzMwMDAxQABzFCaEUzOmGMPYX2wDwNhFkYmJgDeMgXi"}
		d.Repetitions = append(d.Repetitions, result.Repetition{Index: i, Start: sp.start, End: sp.start.Add(time.Second), DurationSeconds: 1,
			Operations: map[string]result.OpStats{result.OpStore: st}, Overall: st})
	}
	return d
}

// res encodes sp and parses it for storage.
func res(t testing.TB, sp spec) Result {
	t.Helper()
	var buf bytes.Buffer
	if err := result.Encode(&buf, doc(sp)); err != nil {
		t.Fatal(err)
	}
	r, err := ParseResult(sp.run, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// bare creates an empty bare repository with go-git and returns its path.
func bare(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "results.git")
	if _, err := git.PlainInit(dir, true); err != nil {
		t.Fatal(err)
	}
	return dir
}

// remote returns a Remote for a bare repository, with quick retries.
func remote(dir string) Remote {
	return Remote{URL: "file://" + dir, BaseDelay: 5 * time.Millisecond, MaxDelay: 100 * time.Millisecond, Now: func() time.Time { return t0.Add(24 * time.Hour) }}
}

// gitBin returns the path of the real git binary, skipping checks that
// need it when it is absent.
func gitBin(t testing.TB) string {
	t.Helper()
	return testenv.Tool(t, "git")
}

// runGit runs the real git (verification only) in dir.
func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gitBin(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// openBranch opens the repository at dir with go-git and returns it and
// the tip of branch.
func openBranch(t testing.TB, dir, branch string) (*git.Repository, plumbing.Hash) {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatal(err)
	}
	return repo, ref.Hash()
}

// linear checks, with go-git, that every commit of the branch has at most
// one parent, and returns the number of commits.
func linear(t testing.TB, dir, branch string) int {
	t.Helper()
	repo, tip := openBranch(t, dir, branch)
	n := 0
	c, err := repo.CommitObject(tip)
	for err == nil {
		n++
		if c.NumParents() > 1 {
			t.Fatalf("commit %s has %d parents: history is not linear", c.Hash, c.NumParents())
		}
		if c.NumParents() == 0 {
			return n
		}
		c, err = c.Parent(0)
	}
	t.Fatal(err)
	return n
}
