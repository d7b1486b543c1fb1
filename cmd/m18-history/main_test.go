package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"

	gseries "github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

func writeResult(t *testing.T, dir, run, commit string, start time.Time) string {
	t.Helper()
	d := &result.Document{
		Run: result.Run{Scenario: "ci/fast", RunID: run, Start: start, End: start.Add(time.Minute), Commit: commit, CommitTime: start.Add(-time.Hour),
			Hardware: result.Fingerprint{Hash: "aaaaaaaaaaaa", CPUModel: "Test CPU", LogicalCores: 2}},
		Repetitions: []result.Repetition{{Overall: result.OpStats{Count: 10, Latency: result.Latency{P50: 1.5, P99: 4.5}}}},
	}
	p := filepath.Join(dir, run+".json")
	if err := result.WriteFile(p, d); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLI(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "")
	repo := filepath.Join(t.TempDir(), "r.git")
	if _, err := git.PlainInit(repo, true); err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	commit := strings.Repeat("ab", 20)
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	f1 := writeResult(t, in, "r1", commit, start)
	f2 := writeResult(t, in, "r2", commit, start.Add(time.Minute))
	out := filepath.Join(t.TempDir(), "baseline")

	steps := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"--help"}, exitOK, ""},
		{[]string{"--version"}, exitOK, "m18-history "},
		{nil, exitBadInput, ""},
		{[]string{"frobnicate"}, exitBadInput, "unknown command"},
		{[]string{"push", f1}, exitBadInput, "--repo is required"},
		{[]string{"push", "--repo", filepath.Join(in, "missing.git"), f1}, exitBadInput, "does not exist"},
		{[]string{"push", "--repo", repo, filepath.Join(in, "nope.json")}, exitBadInput, "nope.json"},
		{[]string{"baseline", "--repo", repo, "--scenario", "ci/fast", "--fingerprint", "aaaaaaaaaaaa", "--commit", commit, "--out", out}, exitNoBaseline, "no baseline"},
		{[]string{"push", "--repo", repo, f1, f2}, exitOK, "stored 2 results"},
		{[]string{"push", "--repo", repo, f1}, exitOK, "already stored"},
		{[]string{"baseline", "--repo", repo, "--head", f1, "--commit", commit[:12], "--out", out}, exitOK, "exact"},
		{[]string{"baseline", "--repo", repo, "--scenario", "ci/fast", "--fingerprint", "bbbbbbbbbbbb", "--commit", commit, "--out", out}, exitNoBaseline, "aaaaaaaaaaaa"},
		{[]string{"list", "--repo", repo}, exitOK, "ci/fast\taaaaaaaaaaaa"},
		{[]string{"series", "--repo", repo, "--scenario", "ci/fast", "--fingerprint", "aaaaaaaaaaaa"}, exitOK, "\t4.5\n"},
		{[]string{"series", "--repo", repo, "--scenario", "ci/fast", "--fingerprint", "aaaaaaaaaaaa", "--metric", "p42", "--json"}, exitBadInput, `--metric "p42"`},
		{[]string{"show", "--repo", repo, "results/ci+fast/aaaaaaaaaaaa/" + start.Format("2006-01/02/2006-01-02T150405Z") + "_abababababab_r1.json"}, exitOK, `"run_id": "r1"`},
		{[]string{"accept", "--repo", repo, "--scenario", "ci/fast", "--reason", "intended", "--commit", commit}, exitOK, "recorded accepted/ci+fast/all-fingerprints/"},
		{[]string{"accept", "--repo", repo, "--scenario", "ci/fast"}, exitBadInput, "--reason"},
		{[]string{"compact", "--repo", repo}, exitOK, "size after"},
		{[]string{"prune", "--repo", repo, "--keep-days", "7"}, exitBadInput, "--force"},
		{[]string{"prune", "--repo", repo, "--dry-run"}, exitOK, "prune: nothing to do"},
	}
	for _, s := range steps {
		code, stdout, stderr := testenv.Run(run, s.args...)
		if code != s.code || !strings.Contains(stdout+stderr, s.contains) {
			t.Fatalf("m18-history %s: exit %d (want %d), output lacks %q?\nstdout:\n%s\nstderr:\n%s", strings.Join(s.args, " "), code, s.code, s.contains, stdout, stderr)
		}
	}
	// series --json is the m18.series/v1 document m18-gate changepoints reads.
	// --head takes the scenario and fingerprint from a result document.
	code, stdout, stderr := testenv.Run(run, "series", "--repo", repo, "--head", f1, "--metric", "p50", "--json")
	if code != exitOK {
		t.Fatalf("series --json: exit %d\n%s", code, stderr)
	}
	seriesFile := testenv.WriteFile(t, in, "series.json", stdout)
	got, err := gseries.Load([]string{seriesFile}, "", "")
	if err != nil {
		t.Fatalf("m18-gate changepoints cannot read series --json: %v\n%s", err, stdout)
	}
	if len(got) != 1 || got[0].Scenario != "ci/fast" || got[0].Metric != "p50" || got[0].Operation != "overall" || len(got[0].Points) != 2 {
		t.Errorf("series --json read back as %+v", got)
	}
	files, err := os.ReadDir(out)
	if err != nil || len(files) != 2 {
		t.Fatalf("baseline --out holds %v (%v), want 2 files", files, err)
	}
	for _, f := range files {
		if _, err := result.ReadFile(filepath.Join(out, f.Name())); err != nil {
			t.Error(err)
		}
	}
}
