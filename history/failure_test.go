package history

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// commitDirect writes files straight into the bare repository's branch
// (test setup for content no writer of ours would produce).
func commitDirect(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	repo, tip := openBranch(t, dir, DefaultBranch)
	c, err := repo.CommitObject(tip)
	if err != nil {
		t.Fatal(err)
	}
	e := edits{}
	for p, data := range files {
		h, err := writeBlob(repo.Storer, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		e[p] = &h
	}
	tree, err := editTree(repo.Storer, c.TreeHash, e)
	if err != nil {
		t.Fatal(err)
	}
	h := mkCommit(t, repo.Storer, tree, t0, "corrupt things\n", c.Hash)
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(DefaultBranch), h)); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptFilesAreReportedAndSkipped(t *testing.T) {
	dir := bare(t)
	r := remote(dir)
	ctx := context.Background()
	commit := "abcdefabcdefabcdefabcdefabcdefabcdefabcd"
	good := []Result{
		res(t, spec{commit: commit, run: "good1", start: t0}),
		res(t, spec{commit: commit, run: "good2", start: t0.Add(time.Minute)}),
	}
	if _, err := r.Append(ctx, good...); err != nil {
		t.Fatal(err)
	}
	corrupt := ResultPath(Key{Scenario: "ci/fast_regression_check", Fingerprint: "aaaaaaaaaaaa", Start: t0.Add(2 * time.Minute), Commit: commit, RunID: "corrupt"})
	future := ResultPath(Key{Scenario: "ci/fast_regression_check", Fingerprint: "aaaaaaaaaaaa", Start: t0.Add(3 * time.Minute), Commit: commit, RunID: "v2"})
	commitDirect(t, dir, map[string]string{
		corrupt: `{"schema":"m18.result/v1","run":{`,
		future:  `{"schema":"m18.result/v2","run":{}}`,
		"results/ci+fast_regression_check/aaaaaaaaaaaa/2026-03/14/notes.txt":  "hello",
		"results/ci+fast_regression_check/aaaaaaaaaaaa/2026-02/" + BundleName: "garbage line\n",
		"results/README.md": "stray",
		"accepted/ci+fast_regression_check/" + AllFingerprints + "/broken-marker.json": "{",
	})

	snap, err := r.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, warns := snap.List(Filter{})
	if len(entries) != 4 {
		t.Errorf("listed %d runs, want 4 (2 good, 1 corrupt, 1 unknown version)", len(entries))
	}
	wantWarn(t, warns, "notes.txt", BundleName+":1", "results/README.md")

	points, warns := snap.Series("ci/fast_regression_check", "aaaaaaaaaaaa", "overall", "p99")
	if len(points) != 2 || points[0].RunID != "good1" || points[1].RunID != "good2" {
		t.Errorf("series kept %d points, want good1 and good2", len(points))
	}
	wantWarn(t, warns, corrupt, future+": unknown schema: field \"schema\" is \"m18.result/v2\"")

	// The corrupt and future runs are the newest; baseline skips them.
	b, err := snap.Baseline(Query{Scenario: "ci/fast_regression_check", Fingerprint: "aaaaaaaaaaaa", Commit: commit})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Runs) != 2 || b.Runs[0].Doc.Run.RunID != "good2" {
		t.Fatalf("baseline runs %d (%s)", len(b.Runs), b.Why)
	}
	wantWarn(t, b.Warnings, corrupt, future, "broken-marker.json")

	// Writers carry on on top of the corrupt files and leave them alone.
	if _, err := r.Append(ctx, res(t, spec{commit: commit, run: "good3", start: t0.Add(time.Hour)})); err != nil {
		t.Fatal(err)
	}
	snap, err = r.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{corrupt, future, "results/README.md"} {
		if _, err := snap.Show(p); err != nil {
			t.Errorf("%s lost after append: %v", p, err)
		}
	}
}

func wantWarn(t *testing.T, warns []error, subs ...string) {
	t.Helper()
	var all []string
	for _, w := range warns {
		all = append(all, w.Error())
	}
	joined := strings.Join(all, "\n")
	for _, s := range subs {
		if !strings.Contains(joined, s) {
			t.Errorf("no warning mentions %q; warnings:\n%s", s, joined)
		}
	}
}

// hook installs a pre-receive hook in a bare repository.
func hook(t *testing.T, dir, script string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell hooks")
	}
	p := filepath.Join(dir, "hooks", "pre-receive")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// tipOf returns the branch tip of a bare repository.
func tipOf(t *testing.T, dir string) plumbing.Hash {
	t.Helper()
	_, tip := openBranch(t, dir, DefaultBranch)
	return tip
}

func TestFailedPushesLoseNothing(t *testing.T) {
	gitBin(t) // file:// remotes run git's receive-pack, which runs the hooks
	dir := bare(t)
	r := remote(dir)
	ctx := context.Background()
	commit := "1234567123456712345671234567123456712345"
	first := res(t, spec{commit: commit, run: "kept", start: t0})
	if _, err := r.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	before := tipOf(t, dir)

	// The remote refuses: the error says why; nothing changes.
	hook(t, dir, `echo "results branch is frozen for maintenance" >&2; exit 1`)
	_, err := r.Append(ctx, res(t, spec{commit: commit, run: "refused", start: t0.Add(time.Minute)}))
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "hook declined") {
		t.Fatalf("refused push: %v", err)
	}
	if tip := tipOf(t, dir); tip != before {
		t.Fatalf("a refused push moved the branch from %s to %s", before, tip)
	}

	// The push is interrupted while the remote is receiving: the branch
	// holds the old tip or the whole new commit, never part of it.
	hook(t, dir, `sleep 3; exit 0`)
	ctx2, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	_, err = r.Append(ctx2, res(t, spec{commit: commit, run: "interrupted", start: t0.Add(2 * time.Minute)}))
	cancel()
	if err == nil {
		t.Fatal("interrupted push reported success")
	}
	t.Logf("interrupted push: %v", err)
	time.Sleep(3500 * time.Millisecond) // let the orphaned hook finish
	runGit(t, dir, "fsck", "--strict", "--no-dangling")

	// The remote disappears.
	gone := remote(filepath.Join(t.TempDir(), "gone.git"))
	if _, err := gone.Append(ctx, first); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing remote: %v", err)
	}
	notRepo := remote(t.TempDir())
	if _, err := notRepo.Open(ctx); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("not a repository: %v", err)
	}

	// Once the remote accepts again, everything is there.
	if err := os.Remove(filepath.Join(dir, "hooks", "pre-receive")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Append(ctx, res(t, spec{commit: commit, run: "after", start: t0.Add(3 * time.Minute)})); err != nil {
		t.Fatal(err)
	}
	snap, err := r.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entries, warns := snap.List(Filter{})
	runs, lw := snap.LoadAll(entries)
	if len(warns)+len(lw) > 0 {
		t.Fatalf("warnings: %v %v", warns, lw)
	}
	ids := map[string]bool{}
	for _, st := range runs {
		ids[st.Doc.Run.RunID] = true
	}
	if !ids["kept"] || !ids["after"] || ids["refused"] {
		t.Fatalf("runs on the branch: %v", ids)
	}
	t.Logf("interrupted run stored: %v (either is correct)", ids["interrupted"])
	linear(t, dir, DefaultBranch)
	runGit(t, dir, "fsck", "--strict", "--no-dangling")
}

func TestTokenNeverPrinted(t *testing.T) {
	const token = "ghs_s3cr3tT0ken"
	var gotUser, gotPass string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		gotUser, gotPass, _ = req.BasicAuth()
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Bad credentials", http.StatusUnauthorized)
	}))
	defer srv.Close()
	ca := serverCA(srv)
	for _, rm := range []Remote{
		{URL: srv.URL + "/acme/engram.git", Token: token, CABundle: ca},
		{URL: strings.Replace(srv.URL, "https://", "https://x-access-token:"+token+"@", 1) + "/acme/engram.git", CABundle: ca},
	} {
		_, err := rm.Open(context.Background())
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("got %v, want ErrUnreachable", err)
		}
		if strings.Contains(err.Error(), token) {
			t.Fatalf("error prints the token: %v", err)
		}
		if !strings.Contains(err.Error(), "contents: write") {
			t.Errorf("error does not name the fix: %v", err)
		}
		if gotUser != "x-access-token" || gotPass != token {
			t.Errorf("server saw basic auth %q/%q, want x-access-token and the token", gotUser, "…")
		}
	}
	if got := scrubUserinfo("fetch https://u:p@h/x and file:///a/b"); got != "fetch https://***@h/x and file:///a/b" {
		t.Errorf("scrubUserinfo: %q", got)
	}
}

// serverCA is the PEM certificate of an httptest TLS server, to trust it.
func serverCA(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// authLog is a git server stand-in that records, per request, whether it
// carried credentials, and answers 401 (or redirects, when to is set).
type authLog struct {
	mu    sync.Mutex
	seen  []string // "path auth=true|false"
	to    string   // redirect every request here (path kept) when set
	stall chan struct{}
}

func (a *authLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _, hasAuth := r.BasicAuth()
	a.mu.Lock()
	a.seen = append(a.seen, fmt.Sprintf("%s auth=%v", r.URL.Path, hasAuth))
	a.mu.Unlock()
	if a.stall != nil {
		select {
		case <-a.stall:
		case <-r.Context().Done():
		}
		return
	}
	if a.to != "" {
		http.Redirect(w, r, a.to+r.URL.RequestURI(), http.StatusFound)
		return
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
	http.Error(w, "Bad credentials", http.StatusUnauthorized)
}

func (a *authLog) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

func TestTokenOnlyOverHTTPSToTheRepositoryHost(t *testing.T) {
	const token = "ghs_s3cr3tT0ken"
	// Plain http with a token: refused before any request.
	plain := &authLog{}
	srv := httptest.NewServer(plain)
	defer srv.Close()
	_, err := Remote{URL: srv.URL + "/acme/engram.git", Token: token}.Open(context.Background())
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "plain http") || strings.Contains(err.Error(), token) {
		t.Errorf("token over http: %v", err)
	}
	if got := plain.requests(); len(got) != 0 {
		t.Errorf("the http server was contacted: %v", got)
	}
	// The repository's host redirects to another origin: the token goes to
	// the first, never to the second.
	other := &authLog{}
	otherSrv := httptest.NewTLSServer(other)
	defer otherSrv.Close()
	home := &authLog{to: otherSrv.URL}
	homeSrv := httptest.NewTLSServer(home)
	defer homeSrv.Close()
	_, err = Remote{URL: homeSrv.URL + "/acme/engram.git", Token: token, CABundle: serverCA(homeSrv)}.Open(context.Background())
	if err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("redirected: %v", err)
	}
	for _, r := range other.requests() {
		if strings.HasSuffix(r, "auth=true") {
			t.Errorf("the token followed the redirect to another origin: %v", other.requests())
		}
	}
	if h := home.requests(); len(h) == 0 || !strings.HasSuffix(h[0], "auth=true") {
		t.Errorf("the repository's host saw %v, want the token", h)
	}
}

func TestFetchTimesOut(t *testing.T) {
	stuck := &authLog{stall: make(chan struct{})}
	srv := httptest.NewTLSServer(stuck)
	defer srv.Close()
	defer close(stuck.stall)
	start := time.Now()
	_, err := Remote{URL: srv.URL + "/acme/engram.git", Token: "ghs_stalled", CABundle: serverCA(srv), Timeout: 300 * time.Millisecond}.Open(context.Background())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Errorf("stalled remote: %v", err)
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("took %v to give up", el)
	}
}

func TestOversizedResultRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MaxResultBytes + 1)
	f.Close()
	_, err = ReadResult(p)
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "huge.json: 32.0 MiB, over the 32.0 MiB limit for a result file") {
		t.Errorf("oversized result: %v", err)
	}
}
