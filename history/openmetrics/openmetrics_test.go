package openmetrics

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/dashtest"
	"github.com/engram/m18-gate/internal/testenv"
)

func TestWrite(t *testing.T) {
	p := dashtest.Default()
	p.Runs, p.Bad = 4, 2
	p, docs := dashtest.Make(t, p)
	var b bytes.Buffer
	if err := Write(&b, docs); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasSuffix(out, "# EOF\n") {
		t.Errorf("no final # EOF")
	}
	// Run 0 started at dashtest.T0 (1772330400 s); its Store p99 is the
	// median of three repetitions near 2 ms, written in seconds.
	ts := " 1.7723304e+09\n"
	line := `m18_run_latency_seconds{scenario="ci/fast_regression_check",fingerprint="fp-test-0001",target="builtin",operation="Store",quantile="0.99"} `
	var found bool
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, line) && strings.HasSuffix(l+"\n", ts) {
			found = true
			v := strings.TrimSuffix(strings.TrimPrefix(l, line), strings.TrimSuffix(ts, "\n"))
			if !strings.HasPrefix(v, "0.00") {
				t.Errorf("Store p99 of run 0 = %s s, want about 0.002", v)
			}
		}
	}
	if !found {
		t.Errorf("no Store p99 sample of run 0 at %s:\n%s", strings.TrimSpace(ts), out[:min(len(out), 3000)])
	}
	if n := strings.Count(out, "m18_run_info{"); n != p.Runs {
		t.Errorf("%d info samples, want one per run (%d)", n, p.Runs)
	}
	for _, want := range []string{"# TYPE m18_run_latency_seconds gauge", "# UNIT m18_run_latency_seconds seconds", `commit="` + p.Commits[0] + `"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestPromtoolBackfill feeds the export to Prometheus's own tools: the
// backfill Prometheus documents for OpenMetrics files must accept it.
func TestPromtoolBackfill(t *testing.T) {
	promtool := testenv.Tool(t, "promtool")
	_, docs := dashtest.Make(t, dashtest.Default())
	var b bytes.Buffer
	if err := Write(&b, docs); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "history.om")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	blocks := filepath.Join(dir, "blocks")
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", file, blocks).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	ents, _ := os.ReadDir(blocks)
	if len(ents) == 0 {
		t.Fatalf("promtool wrote no block:\n%s", out)
	}
	if err := os.MkdirAll(filepath.Join(blocks, "wal"), 0o755); err != nil { // dump reads a WAL too
		t.Fatal(err)
	}
	dump, err := exec.Command(promtool, "tsdb", "dump", blocks).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb dump: %v\n%s", err, dump)
	}
	// Every run's Store p99 is in the blocks.
	n := 0
	for _, l := range strings.Split(string(dump), "\n") {
		if strings.Contains(l, `__name__="m18_run_latency_seconds"`) && strings.Contains(l, `operation="Store"`) && strings.Contains(l, `quantile="0.99"`) {
			n++
		}
	}
	if n != len(docs) {
		t.Errorf("%d Store p99 samples in the backfilled blocks, want %d", n, len(docs))
	}
}
