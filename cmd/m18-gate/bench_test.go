package main

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/result"
)

func TestBenchCommand(t *testing.T) {
	dir := t.TempDir()
	// A benchmark whose time per op is 1000 ns (+ up to 2 %) or 1300 ns,
	// with the B/s of b.SetBytes beside it.
	bench := func(ns int) string {
		return `ns=$((` + itoa(ns) + ` + RANDOM % 20)); echo "BenchmarkParse-2 1000 $ns ns/op $((4096000 / ns)) MB/s"`
	}
	tests := []struct {
		name       string
		head       string
		exit       int
		want       string
		regressed  int
		followsRow string
	}{
		{"slower head", bench(1300), 1, "REGRESSION: 1 regression", 1, "regressed (as sec/op)"},
		{"same head", bench(1000), 0, "no regression", 0, "(as sec/op)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			v := filepath.Join(out, "verdict.json")
			var stdout, stderr bytes.Buffer
			code := run([]string{"bench", "--base-cmd", bench(1000), "--head-cmd", tt.head, "--count", "6",
				"--out", out, "--output", v}, &stdout, &stderr)
			if code != tt.exit || !strings.Contains(stdout.String(), tt.want) || !strings.Contains(stdout.String(), tt.followsRow) {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.exit, stdout.String(), stderr.String())
			}
			got, err := verdict.ReadFile(v)
			if err != nil {
				t.Fatal(err)
			}
			if got.Summary.Regressed != tt.regressed || len(got.Comparisons) != 2 {
				t.Errorf("summary %+v over %d comparisons; want %d regressions, sec/op and B/s counted once", got.Summary, len(got.Comparisons), tt.regressed)
			}
			for _, c := range got.Comparisons {
				if c.Metric == "sec/op" && !strings.Contains(c.Reason, "paired") {
					t.Errorf("sec/op decided unpaired: %s", c.Reason)
				}
			}
			runs, _ := filepath.Glob(filepath.Join(out, "*-0*.txt"))
			if len(runs) != 12 {
				t.Errorf("%d run files kept, want 12", len(runs))
			}
		})
	}
	var stderr bytes.Buffer
	if code := run([]string{"bench", "--base-cmd", "true"}, new(bytes.Buffer), &stderr); code != exitUsage || !strings.Contains(stderr.String(), "--head-cmd") {
		t.Errorf("no head: exit %d, %s", code, stderr.String())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCompareGatesCPUPerOp: the target's CPU time per request, recorded by
// m18-run in each repetition, is a metric of its own that compare gates; a
// +10 % CPU cost regresses while latency and throughput are unchanged.
func TestCompareGatesCPUPerOp(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, cpu float64, seed uint64) string {
		r := rand.New(rand.NewPCG(seed, seed))
		start := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
		d := &result.Document{
			Run:        result.Run{Scenario: "ci/fast", RunID: name, Start: start, End: start, Hardware: result.Fingerprint{Hash: "aaaaaaaaaaaa"}},
			ConfigName: "ci/fast",
		}
		for i := range 10 {
			v := 0.2 * (1 + 0.02*r.NormFloat64())
			st := result.OpStats{Count: 1000, Success: 1000, Throughput: 1000, Latency: result.Latency{P50: v, P95: v, P99: v, P999: v, Mean: v}}
			d.Repetitions = append(d.Repetitions, result.Repetition{Index: i, Overall: st, Operations: map[string]result.OpStats{},
				Target: &result.TargetCost{PID: 42, Source: "procfs", Requests: 1000, CPUPerOpMs: cpu * (1 + 0.02*r.NormFloat64())}})
		}
		path := filepath.Join(dir, name+".json")
		if err := result.WriteFile(path, d); err != nil {
			t.Fatal(err)
		}
		return path
	}
	base, head := write("base", 0.5, 1), write("head", 0.55, 2)
	out := filepath.Join(dir, "v.json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"compare", "--base", base, "--head", head, "--output", out}, &stdout, &stderr); code != exitRegression {
		t.Fatalf("exit %d, want 1:\n%s%s", code, stdout.String(), stderr.String())
	}
	v, err := verdict.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Comparisons {
		want := verdict.Unchanged
		if c.Metric == result.MetricCPUPerOp {
			want = verdict.Regressed
		}
		if c.Metric == result.MetricErrorRate || c.Metric == result.MetricThroughput {
			continue // constant: 0 → 0 and 1000 → 1000
		}
		if c.Decision != want {
			t.Errorf("%s %s: %s, want %s (%s)", c.Operation, c.Metric, c.Decision, want, c.Reason)
		}
	}
	if v.Summary.Regressed != 1 {
		t.Errorf("%d regressions, want only cpu_per_op", v.Summary.Regressed)
	}
}
