// Package dashtest builds what the dashboard's tests need: a source
// repository with one commit per run and result documents with a planted
// regression — Store's latency steps up at one commit and the target's CPU
// with it, while Recall stays put.
package dashtest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/engram/m18-gate/history"
	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/result"
)

// T0 is the first run's start.
var T0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// Planted describes the planted regression.
type Planted struct {
	// Runs is the number of runs; Bad the index of the first bad one.
	Runs, Bad int
	// Step is the relative rise of Store's latencies from Bad on.
	Step float64
	// Scenario and Fingerprint of every run.
	Scenario, Fingerprint string
	// Commits are the source repository's commits, oldest first: one per
	// run, plus Extra commits without runs just before the first bad one
	// (they are among the commits between last good and first bad).
	Commits []string
	// Subjects are the commits' subjects.
	Subjects []string
	Extra    int
	// Source is the source repository: in memory, or on disk in SourceDir
	// when that is set before Make.
	Source    *git.Repository
	SourceDir string
}

// Default is the planted regression the tests use: 24 runs, +40 % from
// run 12, two commits without runs in between.
func Default() Planted {
	return Planted{Runs: 24, Bad: 12, Step: 0.4, Scenario: "ci/fast_regression_check", Fingerprint: "fp-test-0001", Extra: 2}
}

// Make builds the source repository and the documents.
func Make(t testing.TB, p Planted) (Planted, []*result.Document) {
	t.Helper()
	var repo *git.Repository
	var err error
	if p.SourceDir != "" {
		repo, err = git.PlainInit(p.SourceDir, false)
	} else {
		repo, err = git.Init(memory.NewStorage(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	var parent []string
	commit := func(subject string, when time.Time) string {
		h, err := commitTo(repo, subject, when, parent)
		if err != nil {
			t.Fatal(err)
		}
		parent = []string{h}
		p.Commits = append(p.Commits, h)
		p.Subjects = append(p.Subjects, subject)
		return h
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var docs []*result.Document
	for i := 0; i < p.Runs; i++ {
		when := T0.Add(time.Duration(i) * 6 * time.Hour)
		if i == p.Bad {
			for e := 0; e < p.Extra; e++ {
				commit(fmt.Sprintf("engine: refactor %d", e), when.Add(-time.Duration(p.Extra-e)*time.Minute))
			}
		}
		subject := fmt.Sprintf("change %d", i)
		if i == p.Bad {
			subject = "store: fsync every write"
		}
		c := commit(subject, when.Add(-time.Minute))
		factor := 1.0
		if i >= p.Bad {
			factor += p.Step
		}
		docs = append(docs, doc(p, i, c, when, factor, rng))
	}
	p.Source = repo
	if len(p.Commits) > 0 {
		head := plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), plumbing.NewHash(p.Commits[len(p.Commits)-1]))
		if err := repo.Storer.SetReference(head); err != nil {
			t.Fatal(err)
		}
		if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, head.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return p, docs
}

// commitTo commits an empty tree change (a file named after the subject).
func commitTo(repo *git.Repository, subject string, when time.Time, parents []string) (string, error) {
	st := repo.Storer
	var blobHash, treeHash = writeObjects(st, subject)
	if blobHash.IsZero() || treeHash.IsZero() {
		return "", fmt.Errorf("writing objects for %q", subject)
	}
	sig := object.Signature{Name: "Dev", Email: "dev@example.com", When: when}
	c := &object.Commit{Author: sig, Committer: sig, Message: subject + "\n\nbody\n", TreeHash: treeHash}
	for _, p := range parents {
		c.ParentHashes = append(c.ParentHashes, hash(p))
	}
	obj := st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return "", err
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

func doc(p Planted, i int, commit string, start time.Time, factor float64, rng *rand.Rand) *result.Document {
	d := &result.Document{
		Schema: result.SchemaVersion,
		Run: result.Run{
			Scenario: p.Scenario, RunID: fmt.Sprintf("run-%02d", i), Seed: 1,
			Start: start, End: start.Add(5 * time.Minute), ToolVersion: "test",
			Commit: commit, Ref: "main", CommitTime: start.Add(-time.Minute), Target: "builtin",
			Endpoint: "http://127.0.0.1:1",
			Hardware: result.Fingerprint{Hash: p.Fingerprint, CPUModel: "Test CPU", Arch: "amd64", LogicalCores: 2,
				PhysicalCores: 1, Sockets: 1, NUMANodes: 1, MemoryBytes: 8 << 30, OS: "linux"},
		},
		ConfigName: p.Scenario,
	}
	for r := 0; r < 3; r++ {
		noise := func() float64 { return 1 + 0.02*(rng.Float64()-0.5) }
		store := opStats(2.0*factor*noise(), 500)
		recall := opStats(1.0*noise(), 500)
		overall := opStats((2.0*factor+1.0)/2*noise(), 1000)
		d.Repetitions = append(d.Repetitions, result.Repetition{Index: r, Start: start, End: start.Add(time.Minute), DurationSeconds: 60,
			Operations: map[string]result.OpStats{result.OpStore: store, "Recall": recall}, Overall: overall})
	}
	cpu := 0.6
	if factor > 1 {
		cpu = 0.6 * factor
	}
	d.Tasks = map[string]any{"016": map[string]any{"target": procstat.Summary{Samples: 60, CPUCores: cpu, RSSMiB: 120, RSSMaxMiB: 130}}}
	return d
}

func opStats(p99 float64, n uint64) result.OpStats {
	return result.OpStats{Count: n, Success: n, Throughput: float64(n) / 60,
		Latency: result.Latency{P50: p99 / 3, P95: p99 / 1.5, P99: p99, P999: p99 * 1.5, Max: p99 * 2, Mean: p99 / 2.5}}
}

// Dir returns a fresh directory for a site under t's temporary directory.
func Dir(t testing.TB) string { return filepath.Join(t.TempDir(), "site") }

// History stores docs on the results branch of a new bare repository (on
// disk, under t's temporary directory) and returns its path.
func History(t testing.TB, docs []*result.Document) string {
	t.Helper()
	bare := filepath.Join(t.TempDir(), "results.git")
	if _, err := git.PlainInit(bare, true); err != nil {
		t.Fatal(err)
	}
	var rs []history.Result
	for _, d := range docs {
		var b bytes.Buffer
		if err := result.Encode(&b, d); err != nil {
			t.Fatal(err)
		}
		r, err := history.ParseResult(d.Run.RunID+".json", b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if _, err := (history.Remote{URL: "file://" + bare}).Append(context.Background(), rs...); err != nil {
		t.Fatal(err)
	}
	return bare
}
