package history

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/testenv"
)

// buildCLI builds cmd/m18-history into a temporary directory.
func buildCLI(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "m18-history")
	testenv.Build(t, bin, "./cmd/m18-history")
	return bin
}

// TestConcurrentWriterProcesses starts 20 m18-history processes that push
// one result each to the same bare repository at once: every result must
// arrive, history must stay linear and git fsck clean.
func TestConcurrentWriterProcesses(t *testing.T) {
	writers := 20
	if testing.Short() {
		writers = 6
	}
	bin := buildCLI(t)
	dir := bare(t)
	files := make([]string, writers)
	paths := make([]string, writers)
	in := t.TempDir()
	for i := range writers {
		r := res(t, spec{
			scenario: fmt.Sprintf("ci/matrix-%d", i%4), fp: fmt.Sprintf("%012x", i%3+1),
			commit: fmt.Sprintf("%040x", 0xc0ffee), run: fmt.Sprintf("w%02d", i), start: t0.Add(time.Duration(i) * time.Second),
		})
		files[i] = filepath.Join(in, fmt.Sprintf("w%02d.json", i))
		if err := os.WriteFile(files[i], r.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths[i] = r.Path()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 170*time.Second)
	defer cancel()
	start := time.Now()
	type outcome struct {
		tries  int
		out    string
		err    error
		writer int
	}
	outcomes := make([]outcome, writers)
	var wg sync.WaitGroup
	triesRE := regexp.MustCompile(`tries: (\d+)`)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, bin, "push", "--repo", "file://"+dir, "--tries", "60", "--retry-for", "150s", files[i])
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			o := outcome{writer: i, out: stdout.String() + stderr.String(), err: err}
			if m := triesRE.FindStringSubmatch(stdout.String()); m != nil {
				o.tries, _ = strconv.Atoi(m[1])
			}
			outcomes[i] = o
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	var tries []int
	for _, o := range outcomes {
		if o.err != nil {
			t.Errorf("writer %d: %v\n%s", o.writer, o.err, o.out)
		}
		tries = append(tries, o.tries)
	}
	sort.Ints(tries)
	t.Logf("%d writer processes finished in %s; tries per writer (sorted): %v", writers, elapsed.Round(time.Millisecond), tries)

	snap, err := remote(dir).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	entries, warns := snap.List(Filter{})
	if len(warns) > 0 {
		t.Errorf("warnings: %v", warns)
	}
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Path] = true
	}
	for i, p := range paths {
		if !got[p] {
			t.Errorf("writer %d's result %s is missing", i, p)
		}
	}
	if len(entries) != writers {
		t.Errorf("%d results on the branch, want %d", len(entries), writers)
	}
	if n := linear(t, dir, DefaultBranch); n != writers {
		t.Errorf("%d commits on the branch, want %d (one per writer)", n, writers)
	}
	if _, err := exec.LookPath("git"); err == nil {
		runGit(t, dir, "fsck", "--strict", "--no-dangling")
	}
}
