package history

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestCompactThenPrune(t *testing.T) {
	dir := bare(t)
	now := time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC)
	r := remote(dir)
	r.Now = func() time.Time { return now }
	ctx := context.Background()
	day := 24 * time.Hour
	var rs []Result
	type run struct {
		scenario, id string
		age          time.Duration
	}
	runs := []run{
		{"ci/a", "a-300-1", 300 * day}, {"ci/a", "a-300-2", 300*day - time.Hour}, {"ci/a", "a-200", 200 * day},
		{"ci/a", "a-100", 100 * day}, {"ci/a", "a-20", 20 * day}, {"ci/a", "a-1", day},
		{"ci/b", "b-250", 250 * day}, {"ci/b", "b-240", 240 * day}, // a series no longer measured
	}
	for i, rn := range runs {
		rs = append(rs, res(t, spec{scenario: rn.scenario, commit: fmt.Sprintf("%040x", i+1), run: rn.id, start: now.Add(-rn.age)}))
	}
	if _, err := r.Append(ctx, rs...); err != nil {
		t.Fatal(err)
	}
	orig := map[string]Result{}
	for _, x := range rs {
		orig[x.Path()] = x
	}

	// Compact packs every month that ended more than 30 days ago.
	rep, err := r.Compact(ctx, CompactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pushed == nil || len(rep.Removed) != 6 || len(rep.Bundles) != 4 {
		t.Fatalf("compact packed %d runs into %v", len(rep.Removed), rep.Bundles)
	}
	if rep.Before.Runs != 8 || rep.After.Runs != 8 || rep.After.Files != 2+2*len(rep.Bundles) {
		t.Fatalf("sizes: before %v, after %v", rep.Before, rep.After)
	}
	t.Logf("compact: before %v; after %v", rep.Before, rep.After)
	again, err := r.Compact(ctx, CompactOptions{})
	if err != nil || again.Pushed != nil {
		t.Fatalf("second compact should do nothing: %+v, %v", again, err)
	}

	// Readers read bundles transparently: same runs, same documents.
	snap, err := r.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, warns := snap.List(Filter{})
	if len(warns) > 0 || len(entries) != len(runs) {
		t.Fatalf("list after compact: %d entries, %v", len(entries), warns)
	}
	bundled := 0
	for _, e := range entries {
		st, err := snap.Load(e)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st.Doc, orig[e.Path].Doc) {
			t.Errorf("%s: document changed by compaction", e.Path)
		}
		if e.Bundle != "" {
			bundled++
			if data, err := snap.Show(e.Path); err != nil || !strings.Contains(string(data), `"run_id":"`+e.RunID+`"`) {
				t.Errorf("show %s from bundle: %v", e.Path, err)
			}
		}
	}
	if bundled != 6 {
		t.Errorf("%d runs in bundles, want 6", bundled)
	}

	// Prune refuses a retention shorter than charts show, unless forced.
	if _, err := r.Prune(ctx, PruneOptions{KeepDays: 7}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("prune --keep-days 7: %v", err)
	}
	dry, err := r.Prune(ctx, PruneOptions{KeepLatest: 1, DryRun: true})
	if err != nil || dry.Pushed != nil || len(dry.Removed) != 4 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	tipBefore := tipOf(t, dir)
	if tipOf(t, dir) != tipBefore {
		t.Fatal("dry run pushed")
	}
	// Keep 180 days, and the newest run of every series whatever its age.
	pr, err := r.Prune(ctx, PruneOptions{KeepLatest: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a-200", "a-300-1", "a-300-2", "b-250"}
	var got []string
	for _, p := range pr.Removed {
		k, _ := ParseResultPath(p)
		got = append(got, k.RunID)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") || pr.Kept != 1 {
		t.Fatalf("prune removed %v (kept %d old), want %v and 1 kept", got, pr.Kept, want)
	}
	if pr.Pushed.Parent != tipBefore.String() {
		t.Fatalf("prune did not append a commit on top of %s", tipBefore)
	}
	t.Logf("prune: before %v; after %v", pr.Before, pr.After)
	snap, err = r.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, warns = snap.List(Filter{})
	if len(entries) != 4 || len(warns) > 0 {
		t.Logf("%v", entries)
		t.Fatalf("after prune: %d runs, %v", len(entries), warns)
	}
	// The bundle that kept b-240 was rewritten with only that line.
	if _, err := snap.Load(entries[len(entries)-1]); err != nil {
		t.Fatal(err)
	}
	if n := linear(t, dir, DefaultBranch); n != 3 {
		t.Errorf("%d commits, want 3 (append, compact, prune)", n)
	}
	if _, err := exec.LookPath("git"); err == nil {
		runGit(t, dir, "fsck", "--strict", "--no-dangling")
		// Pruned runs remain readable in history.
		runGit(t, dir, "show", DefaultBranch+"~1:results/ci+b")
	}
}
