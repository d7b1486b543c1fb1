package history

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/result"
)

func TestAppendCreatesBranchAndAppends(t *testing.T) {
	dir := bare(t)
	r := remote(dir)
	ctx := context.Background()

	a := res(t, spec{commit: "1111111111111111111111111111111111111111", run: "a", start: t0})
	p, err := r.Append(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if p.Parent != "" || p.Tries != 1 || len(p.Added) != 1 || p.Added[0] != a.Path() {
		t.Fatalf("first push: %+v", p)
	}
	b := res(t, spec{commit: "2222222222222222222222222222222222222222", run: "b", start: t0.Add(time.Hour)})
	c := res(t, spec{scenario: "ci/other", commit: "2222222222222222222222222222222222222222", run: "c", start: t0.Add(time.Hour)})
	p2, err := r.Append(ctx, b, c)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Parent != p.Commit || len(p2.Added) != 2 {
		t.Fatalf("second push: %+v (first %s)", p2, p.Commit)
	}
	for _, want := range []string{"scenario: ci/fast_regression_check", "commit: 2222222222222222222222222222222222222222", "runner: self-hosted,m18"} {
		if !strings.Contains(p2.Message, want) {
			t.Errorf("commit message lacks %q:\n%s", want, p2.Message)
		}
	}

	// Storing the same document again changes nothing.
	p3, err := r.Append(ctx, a)
	if err != nil || !p3.Unchanged || p3.Commit != p2.Commit {
		t.Fatalf("re-append: %+v, %v", p3, err)
	}
	// A different document under the same run is refused.
	a2 := res(t, spec{commit: "1111111111111111111111111111111111111111", run: "a", start: t0, p99: []float64{9}})
	if _, err := r.Append(ctx, a2); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "run ids must be unique") {
		t.Fatalf("conflicting append: %v", err)
	}

	snap, err := r.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, warns := snap.List(Filter{})
	if len(warns) > 0 || len(entries) != 3 {
		t.Fatalf("list: %d entries, warnings %v", len(entries), warns)
	}
	st, err := snap.Load(entries[1])
	if err != nil {
		t.Fatal(err)
	}
	if st.Doc.Run.RunID == "" || string(st.Data) != string(map[string][]byte{"a": a.Data, "b": b.Data, "c": c.Data}[st.Doc.Run.RunID]) {
		t.Errorf("stored bytes differ from the given document for run %q", st.Doc.Run.RunID)
	}
	if n := linear(t, dir, DefaultBranch); n != 2 {
		t.Errorf("branch has %d commits, want 2", n)
	}

	// Real git agrees: the repository is sound and files are readable
	// with git show.
	gitBin(t)
	runGit(t, dir, "fsck", "--strict", "--no-dangling")
	shown := runGit(t, dir, "show", DefaultBranch+":"+a.Path())
	if _, err := result.Unmarshal([]byte(shown)); err != nil {
		t.Errorf("git show %s: %v", a.Path(), err)
	}
	log := runGit(t, dir, "log", "--format=%s", DefaultBranch)
	if !strings.Contains(log, "results: 2 runs") || !strings.Contains(log, "results: ci/fast_regression_check @ 111111111111") {
		t.Errorf("git log:\n%s", log)
	}
}

func TestParseResultRefuses(t *testing.T) {
	good := doc(spec{commit: "abcdef1", run: "x", start: t0})
	for _, tc := range []struct {
		name string
		edit func(*result.Document)
		want string
	}{
		{"no fingerprint", func(d *result.Document) { d.Run.Hardware.Hash = "" }, "run.hardware.hash"},
		{"no start", func(d *result.Document) { d.Run.Start = time.Time{} }, "run.start"},
		{"no run id", func(d *result.Document) { d.Run.RunID = "" }, "run.run_id"},
		{"bad commit", func(d *result.Document) { d.Run.Commit = "main" }, "not a git commit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := *good
			tc.edit(&d)
			var b strings.Builder
			if err := result.Encode(&b, &d); err != nil {
				t.Fatal(err)
			}
			_, err := ParseResult("r.json", []byte(b.String()))
			if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "r.json") {
				t.Fatalf("got %v, want ErrBadInput naming r.json and %q", err, tc.want)
			}
		})
	}
	if _, err := ParseResult("v2.json", []byte(`{"schema":"m18.result/v2"}`)); !errors.Is(err, ErrBadInput) || !errors.Is(err, ErrBadInput) {
		t.Fatalf("unknown version: %v", err)
	}
}
