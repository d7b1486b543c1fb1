package main

import (
	"bytes"
	"context"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/history"
	"github.com/engram/m18-gate/internal/dashtest"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

const repoURL = "https://github.com/engram/engram"

// history builds a results repository (bare, on disk) holding the planted
// regression, and the source repository beside it.
func plantedHistory(t *testing.T) (dashtest.Planted, string) {
	t.Helper()
	p := dashtest.Default()
	p.SourceDir = filepath.Join(t.TempDir(), "engram")
	p, docs := dashtest.Make(t, p)
	bare := dashtest.History(t, docs)
	if _, err := (history.Remote{URL: "file://" + bare}).Accept(context.Background(), history.Marker{
		Scenario: p.Scenario, Commit: p.Commits[3], Reason: "new index format", By: "reviewer", At: dashtest.T0.Add(20 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return p, bare
}

func TestBuildAndPublish(t *testing.T) {
	p, bare := plantedHistory(t)
	out := filepath.Join(t.TempDir(), "site")
	code, stdout, stderr := testenv.Run(run, "build", "--repo", "file://"+bare, "--source-repo", p.SourceDir, "--repo-url", repoURL, "--out", out)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s%s", code, stdout, stderr)
	}
	chart := render.ChartPath(p.Scenario, p.Fingerprint, result.OpStore, result.MetricP99)
	page, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(chart)))
	if err != nil {
		t.Fatal(err)
	}
	text := html.UnescapeString(string(page))
	for _, want := range []string{"store: fsync every write", "engine: refactor 0", repoURL + "/commit/" + p.Commits[p.Bad+p.Extra], "new index format"} {
		if !strings.Contains(text, want) {
			t.Errorf("chart page lacks %q", want)
		}
	}

	code, stdout, stderr = testenv.Run(run, "publish", "--repo", "file://"+bare, "--source-repo", p.SourceDir, "--repo-url", repoURL)
	if code != 0 || !strings.Contains(stdout, "published") {
		t.Fatalf("publish: exit %d\n%s%s", code, stdout, stderr)
	}
	snap, err := (history.Remote{URL: "file://" + bare, Branch: "gh-pages"}).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := snap.Show(chart)
	if err != nil || !bytes.Equal(got, page) {
		t.Errorf("gh-pages holds another %s than build wrote (%v)", chart, err)
	}
	code, stdout, _ = testenv.Run(run, "publish", "--repo", "file://"+bare, "--source-repo", p.SourceDir, "--repo-url", repoURL)
	if code != 0 || !strings.Contains(stdout, "already holds") {
		t.Errorf("republishing the same dashboard: exit %d, %s", code, stdout)
	}
	// The results branch is untouched by publishing.
	res, err := (history.Remote{URL: "file://" + bare}).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if es, _ := res.List(history.Filter{}); len(es) != p.Runs {
		t.Errorf("results branch holds %d runs after publishing, want %d", len(es), p.Runs)
	}
}

func TestBadInput(t *testing.T) {
	_, bare := plantedHistory(t)
	foreign := t.TempDir()
	testenv.WriteFile(t, foreign, "notes.txt", "mine")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"build", "--out", t.TempDir()}, "--repo is required"},
		{[]string{"build", "--repo", "file://" + bare}, "--out DIR is required"},
		{[]string{"build", "--repo", "file://" + bare, "--out", foreign}, "holds no dashboard"},
		{[]string{"build", "--repo", "file://" + bare, "--out", t.TempDir(), "--source-repo", t.TempDir()}, "--source-repo"},
		{[]string{"build", "--repo", "file://" + bare, "--out", t.TempDir(), "--repo-url", "github.com/x"}, "--repo-url"},
		{[]string{"publish", "--repo", "file://" + bare, "--branch", "m18-results"}, "is the results branch"},
		{[]string{"build", "--repo", filepath.Join(t.TempDir(), "missing"), "--out", t.TempDir()}, "does not exist"},
	} {
		code, _, stderr := testenv.Run(run, tc.args...)
		if code != 3 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 3 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(foreign, "notes.txt")); string(b) != "mine" {
		t.Errorf("a refused build touched the directory")
	}
}
