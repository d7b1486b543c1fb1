package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/dashtest"
)

func TestExportOpenMetrics(t *testing.T) {
	p := dashtest.Default()
	p.Runs, p.Bad = 6, 3
	p, docs := dashtest.Make(t, p)
	bare := dashtest.History(t, docs)
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
