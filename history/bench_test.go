package history

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/engram/m18-gate/runners/result"
)

// fixture100k is a results branch of 100 000 runs of one scenario on one
// fingerprint (the worst case for the index: one series), 5 runs for each
// of 20 000 commits over about two years, and the repository under test:
// those 20 000 commits in a line, then 200 more without results.
type fixture100k struct {
	plain, compacted *Snapshot
	source           *git.Repository
	commits          []string // oldest first
	when             []time.Time
}

const (
	benchCommits  = 20000
	benchRunsEach = 5
	benchTail     = 200
)

var (
	benchOnce sync.Once
	bench     *fixture100k
)

func load100k(b *testing.B) *fixture100k {
	benchOnce.Do(func() {
		start := time.Now()
		bench = build100k(b)
		b.Logf("built 100 000 stored results in %s", time.Since(start).Round(time.Millisecond))
	})
	return bench
}

// mkCommit stores a commit of tree by "dev" at when and returns its hash.
func mkCommit(b testing.TB, s storer.EncodedObjectStorer, tree plumbing.Hash, when time.Time, msg string, parents ...plumbing.Hash) plumbing.Hash {
	b.Helper()
	sig := object.Signature{Name: "dev", Email: "dev@example.com", When: when}
	h, err := writeCommit(s, &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: tree, ParentHashes: parents})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

func build100k(b testing.TB) *fixture100k {
	f := &fixture100k{}
	src, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		b.Fatal(err)
	}
	f.source = src
	empty, err := editTree(src.Storer, plumbing.ZeroHash, edits{})
	if err != nil {
		b.Fatal(err)
	}
	base := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	var parent []plumbing.Hash
	for i := range benchCommits + benchTail {
		when := base.Add(time.Duration(i) * 50 * time.Minute)
		h := mkCommit(b, src.Storer, empty, when, fmt.Sprint(i), parent...)
		parent = []plumbing.Hash{h}
		f.commits = append(f.commits, h.String())
		f.when = append(f.when, when)
	}

	// One small valid document, specialised per run by replacing fields.
	tmpl := doc(spec{scenario: "ci/fast", fp: "aaaaaaaaaaaa", commit: strings.Repeat("c", 40), run: "RUNID", start: base, commitTime: base, p99: []float64{1}})
	tmpl.Schema = result.SchemaVersion
	raw, err := json.Marshal(tmpl)
	if err != nil {
		b.Fatal(err)
	}
	tj := string(raw)
	baseStamp, _ := json.Marshal(base)
	type runRec struct {
		path string
		data []byte
	}
	var runs []runRec
	for i := range benchCommits {
		c := f.commits[i]
		ct, _ := json.Marshal(f.when[i])
		for j := range benchRunsEach {
			st := f.when[i].Add(time.Duration(j+1) * time.Minute)
			sj, _ := json.Marshal(st)
			id := fmt.Sprintf("r%06d-%d", i, j)
			d := strings.Replace(tj, strings.Repeat("c", 40), c, 1)
			d = strings.Replace(d, `"RUNID"`, `"`+id+`"`, 1)
			d = strings.Replace(d, `"start":`+string(baseStamp), `"start":`+string(sj), 1)
			d = strings.Replace(d, `"commit_time":`+string(baseStamp), `"commit_time":`+string(ct), 1)
			p := ResultPath(Key{Scenario: "ci/fast", Fingerprint: "aaaaaaaaaaaa", Start: st, Commit: c, RunID: id})
			runs = append(runs, runRec{p, []byte(d)})
		}
	}
	if _, err := result.Unmarshal(runs[len(runs)-1].data); err != nil {
		b.Fatalf("fixture document: %v", err)
	}

	mkBranch := func(compactBefore time.Time) *Snapshot {
		repo, err := git.Init(memory.NewStorage(), nil)
		if err != nil {
			b.Fatal(err)
		}
		e := edits{}
		bundles := map[string]*bytes.Buffer{}
		indexes := map[string]*bytes.Buffer{}
		for _, r := range runs {
			k, _ := ParseResultPath(r.path)
			if k.Start.Before(compactBefore) {
				parts := strings.Split(r.path, "/")
				bp := strings.Join(parts[:4], "/") + "/" + BundleName
				if bundles[bp] == nil {
					bundles[bp], indexes[bp] = &bytes.Buffer{}, &bytes.Buffer{}
				}
				indexes[bp].WriteString(r.path + "\n")
				line, _ := json.Marshal(bundleLine{Path: r.path, Result: r.data})
				bundles[bp].Write(line)
				bundles[bp].WriteByte('\n')
				continue
			}
			h, err := writeBlob(repo.Storer, r.data)
			if err != nil {
				b.Fatal(err)
			}
			e[r.path] = &h
		}
		for p, buf := range bundles {
			h, err := writeBlob(repo.Storer, buf.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			e[p] = &h
			ih, err := writeBlob(repo.Storer, indexes[p].Bytes())
			if err != nil {
				b.Fatal(err)
			}
			e[strings.TrimSuffix(p, BundleName)+BundleIndexName] = &ih
		}
		tree, err := editTree(repo.Storer, plumbing.ZeroHash, e)
		if err != nil {
			b.Fatal(err)
		}
		tip := mkCommit(b, repo.Storer, tree, base, "fixture")
		if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(DefaultBranch), tip)); err != nil {
			b.Fatal(err)
		}
		snap, err := OpenRepository(repo, "")
		if err != nil {
			b.Fatal(err)
		}
		return snap
	}
	f.plain = mkBranch(time.Time{})
	// Compacted: every month but the last one in bundles.
	last := f.when[benchCommits-1]
	f.compacted = mkBranch(time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC))
	return f
}

// BenchmarkBaseline100k selects a baseline among 100 000 stored runs of
// one series. Target: well under 1 s per selection.
func BenchmarkBaseline100k(b *testing.B) {
	f := load100k(b)
	lastWithRuns := f.commits[benchCommits-1]
	tip := f.commits[len(f.commits)-1]
	mid := benchCommits / 2
	for _, tc := range []struct {
		name string
		q    Query
		want string
	}{
		{"exact", Query{Commit: lastWithRuns, Source: f.source}, "exact"},
		{"ancestor-200-back", Query{Commit: tip, Source: f.source}, "first-parent"},
		{"commit-time-no-source", Query{Commit: tip, CommitTime: f.when[mid]}, "commit-time"},
	} {
		for _, variant := range []struct {
			name string
			snap *Snapshot
		}{{"plain", f.plain}, {"compacted", f.compacted}} {
			b.Run(tc.name+"/"+variant.name, func(b *testing.B) {
				q := tc.q
				q.Scenario, q.Fingerprint = "ci/fast", "aaaaaaaaaaaa"
				for b.Loop() {
					// A fresh Snapshot each time: no cached bundle.
					snap := &Snapshot{Branch: variant.snap.Branch, Tip: variant.snap.Tip, s: variant.snap.s, root: variant.snap.root, bundles: map[plumbing.Hash][][]byte{}}
					bl, err := snap.Baseline(q)
					if err != nil {
						b.Fatal(err)
					}
					if bl.Method != tc.want || len(bl.Runs) != benchRunsEach {
						b.Fatalf("chose %s by %s with %d runs: %s", bl.Commit, bl.Method, len(bl.Runs), bl.Why)
					}
				}
			})
		}
	}
}

// realisticResult is a result the size of a real one: 10 repetitions,
// three operations and overall, each with two encoded HDR histograms
// (random bytes stand in for compressed histograms: they do not compress).
func realisticResult(t testing.TB, rng *rand.Rand, i int, start time.Time) Result {
	d := doc(spec{scenario: "ci/fast_regression_check", commit: fmt.Sprintf("%040x", i+1), run: fmt.Sprintf("run-%04d", i), start: start, commitTime: start.Add(-time.Hour), p99: make([]float64, 10)})
	hist := func() string {
		buf := make([]byte, 900)
		for j := range buf {
			buf[j] = byte(rng.IntN(256))
		}
		return "HISTFAAA" + base64.StdEncoding.EncodeToString(buf)
	}
	for r := range d.Repetitions {
		rep := &d.Repetitions[r]
		for _, op := range []string{result.OpStore, result.OpRecall, result.OpSearch} {
			st := result.OpStats{Count: 5000, Success: 4990, Errors: 10, ErrorRate: 0.002, Throughput: 500 + rng.Float64(),
				Latency:   result.Latency{P50: rng.Float64(), P90: rng.Float64(), P95: rng.Float64(), P99: rng.Float64(), P999: rng.Float64(), Max: 10 * rng.Float64(), Mean: rng.Float64()},
				Histogram: hist(), ServiceHistogram: hist()}
			st.Service = st.Latency
			rep.Operations[op] = st
		}
		rep.Overall.Histogram, rep.Overall.ServiceHistogram = hist(), hist()
	}
	var buf bytes.Buffer
	if err := result.Encode(&buf, d); err != nil {
		t.Fatal(err)
	}
	res, err := ParseResult(d.Run.RunID, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// dirBytes sums the sizes of the files under dir.
func dirBytes(t testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tipPackBytes is the size of a pack of everything reachable from the
// tip's tree: about what a reader's depth-1 fetch downloads.
func tipPackBytes(t testing.TB, s *Snapshot) int64 {
	var hashes []plumbing.Hash
	var walk func(*object.Tree)
	walk = func(tr *object.Tree) {
		hashes = append(hashes, tr.Hash)
		for _, te := range tr.Entries {
			if te.Mode == filemode.Dir {
				sub, err := object.GetTree(s.s, te.Hash)
				if err != nil {
					t.Fatal(err)
				}
				walk(sub)
			} else {
				hashes = append(hashes, te.Hash)
			}
		}
	}
	walk(s.root)
	var buf bytes.Buffer
	if _, err := packfile.NewEncoder(&buf, s.s, false).Encode(hashes, 10); err != nil {
		t.Fatal(err)
	}
	return int64(buf.Len())
}

// BenchmarkBytesPerResult pushes realistic results one by one to a bare
// repository, then compacts them, and reports bytes per stored run: added
// to the remote's object store per push, held in the tip's blobs, and in a
// pack of the tip (what a reader fetches), before and after compaction.
// Run with -benchtime=1x: each iteration is the whole experiment.
func BenchmarkBytesPerResult(b *testing.B) {
	const n = 24
	for b.Loop() {
		dir := bare(b)
		r := remote(dir)
		now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
		r.Now = func() time.Time { return now }
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))
		var docBytes int64
		objects := filepath.Join(dir, "objects")
		before := dirBytes(b, objects)
		for i := range n {
			res := realisticResult(b, rng, i, now.AddDate(0, -4, 0).Add(time.Duration(i)*3*24*time.Hour))
			docBytes += int64(len(res.Data))
			if _, err := r.Append(ctx, res); err != nil {
				b.Fatal(err)
			}
		}
		pushed := dirBytes(b, objects) - before
		snap, err := r.Open(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sz, err := snap.Size()
		if err != nil {
			b.Fatal(err)
		}
		packBefore := tipPackBytes(b, snap)
		rep, err := r.Compact(ctx, CompactOptions{})
		if err != nil {
			b.Fatal(err)
		}
		snap, err = r.Open(ctx)
		if err != nil {
			b.Fatal(err)
		}
		packAfter := tipPackBytes(b, snap)
		b.ReportMetric(float64(docBytes)/n, "doc-B/run")
		b.ReportMetric(float64(pushed)/n, "remote-disk-B/push")
		b.ReportMetric(float64(sz.Bytes)/n, "tip-B/run")
		b.ReportMetric(float64(rep.After.Bytes)/n, "tip-compacted-B/run")
		b.ReportMetric(float64(packBefore)/n, "tip-pack-B/run")
		b.ReportMetric(float64(packAfter)/n, "tip-pack-compacted-B/run")
		b.Logf("%d runs of %d B: remote grew %d B per push (loose objects); tip %s → %s after compact (%d bundles); pack of the tip %d → %d B per run",
			n, docBytes/n, pushed/n, sz, rep.After, len(rep.Bundles), packBefore/n, packAfter/n)
	}
}
