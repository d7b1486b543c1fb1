package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"

	"github.com/engram/m18-gate/history"
	"github.com/engram/m18-gate/internal/dashtest"
	"github.com/engram/m18-gate/runners/result"
)

func TestExportOpenMetrics(t *testing.T) {
	p := dashtest.Default()
	p.Runs, p.Bad = 6, 3
	p, docs := dashtest.Make(t, p)
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
	out := filepath.Join(t.TempDir(), "h.om")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"export", "--repo", "file://" + bare, "--openmetrics", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "m18_run_info{"); n != p.Runs || !strings.HasSuffix(string(b), "# EOF\n") {
		t.Errorf("%d runs exported (want %d), or no # EOF", n, p.Runs)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"export", "--repo", "file://" + bare}, &stdout, &stderr); code != 3 || !strings.Contains(stderr.String(), "--openmetrics") {
		t.Errorf("export without a format: exit %d, %s", code, stderr.String())
	}
}
