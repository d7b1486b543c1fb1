package history

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// graph is a synthetic repository under test:
//
//	A ── B ── C ─────── M ── D      main (first parents)
//	      \            /
//	       F1 ──── F2 ┘             feature, merged at M
type graph struct {
	repo                  *git.Repository
	a, b, c, m, d, f1, f2 string
	when                  map[string]time.Time
}

func newGraph(t *testing.T) *graph {
	t.Helper()
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &graph{repo: repo, when: map[string]time.Time{}}
	mk := func(msg string, at time.Duration, parents ...string) string {
		tree, err := editTree(repo.Storer, plumbing.ZeroHash, edits{})
		if err != nil {
			t.Fatal(err)
		}
		when := t0.Add(at)
		var ph []plumbing.Hash
		for _, p := range parents {
			ph = append(ph, plumbing.NewHash(p))
		}
		h := mkCommit(t, repo.Storer, tree, when, msg, ph...)
		g.when[h.String()] = when
		return h.String()
	}
	g.a = mk("A", 1*time.Hour)
	g.b = mk("B", 2*time.Hour, g.a)
	g.f1 = mk("F1", 3*time.Hour, g.b)
	g.c = mk("C", 4*time.Hour, g.b)
	g.f2 = mk("F2", 5*time.Hour, g.f1) // newer than C and B, but not on main's line
	g.m = mk("M", 6*time.Hour, g.c, g.f2)
	g.d = mk("D", 7*time.Hour, g.m)
	return g
}

// run is a result of commit c on fingerprint fp, measured "after" its
// commit time.
func (g *graph) run(t *testing.T, scenario, fp, c, id string, after time.Duration) Result {
	return res(t, spec{scenario: scenario, fp: fp, commit: c, run: id, start: g.when[c].Add(after), commitTime: g.when[c]})
}

func TestBaselineSelection(t *testing.T) {
	g := newGraph(t)
	dir := bare(t)
	r := remote(dir)
	ctx := context.Background()
	const fp, other = "aaaaaaaaaaaa", "bbbbbbbbbbbb"
	_, err := r.Append(ctx,
		// exact: the merge base has runs, so do its ancestors.
		g.run(t, "exact", fp, g.m, "m1", time.Minute), g.run(t, "exact", fp, g.m, "m2", 2*time.Minute),
		g.run(t, "exact", fp, g.m, "m3", 3*time.Minute), g.run(t, "exact", fp, g.b, "b1", time.Minute),
		// ancestor: B (first-parent ancestor), F2 (newer, but only on the
		// merged feature branch) and D (a descendant) have runs; M does not.
		g.run(t, "ancestor", fp, g.b, "b1", time.Minute), g.run(t, "ancestor", fp, g.b, "b2", 30*time.Hour),
		g.run(t, "ancestor", fp, g.f2, "f1", time.Minute), g.run(t, "ancestor", fp, g.d, "d1", time.Minute),
		// feature-only: only the merged branch's commit has runs.
		g.run(t, "feature-only", fp, g.f2, "f1", time.Minute),
		// other fingerprint only.
		g.run(t, "elsewhere", other, g.m, "m1", time.Minute),
		// accepted: A has runs; the change at C was accepted; later C gets runs.
		g.run(t, "accepted", fp, g.a, "a1", time.Minute),
		g.run(t, "accepted-then-measured", fp, g.a, "a1", time.Minute), g.run(t, "accepted-then-measured", fp, g.c, "c1", time.Minute),
		// accepted without a commit: every run before the marker is out.
		g.run(t, "accepted-by-time", fp, g.b, "b1", time.Minute), g.run(t, "accepted-by-time", fp, g.c, "c1", 48*time.Hour),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Marker{
		{Scenario: "accepted", Commit: g.c, Reason: "new index trades write latency for recall", By: "alice", At: g.when[g.c].Add(time.Hour)},
		{Scenario: "accepted-then-measured", Fingerprint: fp, Commit: g.c, Reason: "intended", By: "bob", At: g.when[g.c].Add(time.Hour)},
		{Scenario: "accepted-by-time", Reason: "intended, no commit", By: "carol", At: g.when[g.c].Add(24 * time.Hour)},
	} {
		if _, err := r.Accept(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := r.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short := func(c string) string { return c[:12] }

	for _, tc := range []struct {
		name, scenario, commit string
		source                 bool
		commitTime             time.Time
		runs                   int
		wantCommit, wantMethod string
		wantRuns               []string // run ids, newest first
		wantNone               string   // substring of the "no baseline" error
		wantWarn               string
	}{
		{name: "exact merge base", scenario: "exact", commit: g.m, source: true, runs: 2, wantCommit: short(g.m), wantMethod: "exact", wantRuns: []string{"m3", "m2"}},
		{name: "exact without source", scenario: "exact", commit: g.m[:10], wantCommit: short(g.m), wantMethod: "exact", wantRuns: []string{"m3", "m2", "m1"}},
		{name: "first-parent ancestor", scenario: "ancestor", commit: g.m, source: true, wantCommit: short(g.b), wantMethod: "first-parent", wantRuns: []string{"b2", "b1"}},
		{name: "ancestor off the first-parent line", scenario: "feature-only", commit: g.m, source: true, wantCommit: short(g.f2), wantMethod: "ancestry", wantRuns: []string{"f1"}},
		{name: "no ancestor has runs", scenario: "feature-only", commit: g.c, source: true, wantNone: "no results for"},
		{name: "by commit time", scenario: "ancestor", commit: g.m, commitTime: g.when[g.m], wantCommit: short(g.f2), wantMethod: "commit-time", wantRuns: []string{"f1"}},
		{name: "by commit time before F2", scenario: "ancestor", commit: g.c, commitTime: g.when[g.c], wantCommit: short(g.b), wantMethod: "commit-time", wantRuns: []string{"b2", "b1"}},
		{name: "no time known: newest, with a warning", scenario: "ancestor", commit: g.m, wantCommit: short(g.d), wantMethod: "commit-time", wantWarn: "may be newer than the merge base"},
		{name: "other fingerprint only", scenario: "elsewhere", commit: g.m, source: true, wantNone: "bbbbbbbbbbbb"},
		{name: "accepted step stops the walk", scenario: "accepted", commit: g.d, source: true, wantNone: "restarts the baseline"},
		{name: "marker after the merge base does not apply", scenario: "accepted", commit: g.b, source: true, wantCommit: short(g.a), wantMethod: "first-parent"},
		{name: "accepted commit's own runs are the baseline", scenario: "accepted-then-measured", commit: g.d, source: true, wantCommit: short(g.c), wantMethod: "first-parent", wantRuns: []string{"c1"}},
		{name: "accepted by time, ancestry", scenario: "accepted-by-time", commit: g.m, source: true, wantCommit: short(g.c), wantMethod: "first-parent"},
		{name: "accepted by time excludes older runs", scenario: "accepted-by-time", commit: g.b, source: true, wantNone: "no results for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := Query{Scenario: tc.scenario, Fingerprint: fp, Commit: tc.commit, CommitTime: tc.commitTime, Runs: tc.runs}
			if tc.source {
				q.Source = g.repo
			}
			b, err := snap.Baseline(q)
			if tc.wantNone != "" {
				var none *NoBaselineError
				if !errors.As(err, &none) || !errors.Is(err, ErrNoBaseline) {
					t.Fatalf("got %v, %v; want no baseline", b, err)
				}
				if !strings.Contains(err.Error(), tc.wantNone) {
					t.Fatalf("no-baseline message lacks %q:\n%v", tc.wantNone, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Commit != tc.wantCommit || b.Method != tc.wantMethod {
				t.Fatalf("chose %s by %s (%s); want %s by %s", b.Commit, b.Method, b.Why, tc.wantCommit, tc.wantMethod)
			}
			if tc.wantRuns != nil {
				var got []string
				for _, st := range b.Runs {
					got = append(got, st.Doc.Run.RunID)
				}
				if strings.Join(got, ",") != strings.Join(tc.wantRuns, ",") {
					t.Fatalf("runs %v, want %v", got, tc.wantRuns)
				}
			}
			var warns []string
			for _, w := range b.Warnings {
				warns = append(warns, w.Error())
			}
			if tc.wantWarn != "" && !strings.Contains(strings.Join(warns, "\n"), tc.wantWarn) {
				t.Fatalf("warnings %q lack %q", warns, tc.wantWarn)
			}
			if tc.wantWarn == "" && len(warns) > 0 {
				t.Fatalf("unexpected warnings: %q", warns)
			}
		})
	}

	// The other-fingerprint answer names the fingerprint with its hardware.
	_, err = snap.Baseline(Query{Scenario: "elsewhere", Fingerprint: fp, Commit: g.m})
	var none *NoBaselineError
	if !errors.As(err, &none) || len(none.Nearest) != 1 || none.Nearest[0].Hash != other || !strings.Contains(none.Nearest[0].Describe, "Test CPU bbbbbbbbbbbb") {
		t.Fatalf("nearest fingerprints: %+v (%v)", none, err)
	}
	// A scenario nobody ran says so.
	if _, err := snap.Baseline(Query{Scenario: "never", Fingerprint: fp, Commit: g.m}); !errors.Is(err, ErrNoBaseline) || !strings.Contains(err.Error(), "no other fingerprint") {
		t.Fatalf("unknown scenario: %v", err)
	}
	if _, err := snap.Baseline(Query{Scenario: "exact", Fingerprint: fp, Commit: "main"}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("bad commit: %v", err)
	}
}
