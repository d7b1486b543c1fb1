package actiontest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/verdict"
)

// benchSource is the consumer's benchmark: ROUNDS hashes of 4 KiB per op,
// with the B/s of b.SetBytes beside sec/op.
const benchSource = `package checksum

import (
	"crypto/sha256"
	"testing"
)

const rounds = %d

func Sum(b []byte) [32]byte {
	var s [32]byte
	for range rounds {
		copy(b[len(b)-32:], s[:])
		s = sha256.Sum256(b)
	}
	return s
}

func BenchmarkSum(b *testing.B) {
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		Sum(buf)
	}
}
`

// TestActionBenchEndToEnd runs the three-line go test -bench gate with act:
// mode bench builds nothing, runs the consumer's benchmark in the base and
// head checkouts interleaved, and gates it paired. A head doing twice the
// work must fail the job with one regression (B/s follows sec/op: not
// two); a head that changes only docs must pass.
func TestActionBenchEndToEnd(t *testing.T) {
	w := newE2E(t, "the go test -bench gate", "ghs_e2eToken123", "git", "bash", "go")
	w.workflow = ".github/workflows/bench.yml"
	w.startFakeGitHub()
	w.writeStubs()
	w.repo = filepath.Join(w.tmp, "checksum")
	w.initRepo("acme/widgets")
	writeFile(t, filepath.Join(w.repo, "go.mod"), "module example.com/checksum\n\ngo 1.24\n")
	writeFile(t, filepath.Join(w.repo, "checksum_test.go"), fmt.Sprintf(benchSource, 4))
	writeFile(t, filepath.Join(w.repo, ".github", "workflows", "bench.yml"), fixture(t, "bench.yml"))
	writeFile(t, filepath.Join(w.repo, "README.md"), "checksum\n")
	w.commit("main", "base")
	w.commits["base"] = w.commits["main"]
	w.git(w.repo, "checkout", "-q", "-b", "slow")
	writeFile(t, filepath.Join(w.repo, "checksum_test.go"), fmt.Sprintf(benchSource, 8))
	w.commit("slow", "twice the rounds")
	w.git(w.repo, "checkout", "-q", "main")
	w.git(w.repo, "checkout", "-q", "-b", "same")
	writeFile(t, filepath.Join(w.repo, "README.md"), "checksum, documented\n")
	w.commit("same", "docs only")
	const reps = 10

	t.Run("regression", func(t *testing.T) {
		w.git(w.repo, "checkout", "-q", "slow")
		out, err := w.runAct(t, "pull_request", w.prEvent(1, "slow"), reps)
		if err == nil {
			v, verr := verdict.ReadFile(filepath.Join(w.artifacts, "m18-e2e", "verdict.json"))
			if verr != nil {
				t.Fatalf("the job passed and left no verdict: %v\n%s", verr, tail(out, 60))
			}
			for _, c := range v.Comparisons {
				if c.Decision == verdict.Unchanged || c.Decision == verdict.Improved {
					t.Fatalf("the gate called twice the work %s: %s", c.Decision, c.Reason)
				}
			}
			t.Skipf("this machine is too noisy right now to tell twice the work in %d pairs (the gate said inconclusive, honestly, and passed): %s", reps, v.Summary.Answer)
		}
		if !strings.Contains(out, "E2E-OUTPUT verdict=regression regressions=1") {
			t.Errorf("outputs are not verdict=regression regressions=1 (sec/op, with B/s following it):\n%s", tail(out, 60))
		}
		v, err := verdict.ReadFile(filepath.Join(w.artifacts, "m18-e2e", "verdict.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range v.Comparisons {
			paired := strings.Contains(c.Reason, "interleaved pairs") || c.Follows == "sec/op"
			if c.Decision != verdict.Regressed || !paired {
				t.Errorf("%s %s: %s: %s", c.Scenario, c.Metric, c.Decision, c.Reason)
			}
		}
		if c := w.comment(t, 1); !strings.Contains(c, "1 regression") || !strings.Contains(c, "sec/op") {
			t.Errorf("the PR comment does not report one sec/op regression:\n%s", c)
		}
		runs, _ := filepath.Glob(filepath.Join(w.artifacts, "m18-e2e", "head", "head-*.txt"))
		if len(runs) != reps {
			t.Errorf("%d head runs in the artifact, want %d", len(runs), reps)
		}
	})
	t.Run("identical", func(t *testing.T) {
		w.git(w.repo, "checkout", "-q", "same")
		out, err := w.runAct(t, "pull_request", w.prEvent(2, "same"), reps)
		if err != nil {
			t.Fatalf("the job failed for a head identical to its base: %v\n%s", err, tail(out, 60))
		}
		// pass, or inconclusive on a noisy machine: never a regression.
		if !strings.Contains(out, "regressions=0") || strings.Contains(out, "E2E-OUTPUT verdict=regression") {
			t.Errorf("outputs are not regressions=0:\n%s", tail(out, 40))
		}
	})
}
