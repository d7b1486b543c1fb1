package input

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/internal/gatetest"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

var update = flag.Bool("update", false, "rewrite testdata/result_{base,head}.json")

// TestWriteResultFixture regenerates testdata/result_{base,head}.json with
// -update; the reader test reads them like any user file.
func TestWriteResultFixture(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/result_*.json")
	}
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	base := gatetest.ResultDoc("ci/fast_regression_check", "abcdef012345", start, []float64{0.20, 0.21, 0.19, 0.20, 0.22}, 0)
	head := gatetest.ResultDoc("ci/fast_regression_check", "abcdef012345", start.Add(time.Hour), []float64{0.24, 0.25, 0.23, 0.24, 0.26}, 0)
	for name, d := range map[string]*result.Document{"result_base.json": base, "result_head.json": head} {
		if err := result.WriteFile(filepath.Join("testdata", name), d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReaders(t *testing.T) {
	type want struct {
		key    Key
		unit   string
		hib    bool
		n      int
		first  float64
		median float64 // checked when > 0
	}
	tests := []struct {
		file    string
		format  Format
		samples int // number of keys
		want    []want
	}{
		{"testdata/bench/base.txt", FormatBench, 6, []want{
			{Key{"example.com/sortbench:Sort/n=100-2", NoOperation, "sec/op"}, "sec/op", false, 6, 8977e-9, 0},
			{Key{"example.com/sortbench:Sort/n=1000-2", NoOperation, "B/op"}, "B/op", false, 6, 8192, 0},
			{Key{"example.com/sortbench:Sort/n=1000-2", NoOperation, "allocs/op"}, "allocs/op", false, 6, 1, 0},
		}},
		{"testdata/criterion/sort/pdqsort/new/sample.json", FormatCriterion, 1, []want{
			{Key{"sort/pdqsort", NoOperation, "time"}, "ns", false, 10, 1012345.0 / 41, 0},
		}},
		{"testdata/criterion/sort/merge/new/sample.json", FormatCriterion, 1, []want{
			{Key{"sort/merge", NoOperation, "time"}, "ns", false, 6, 25100, 0},
		}},
		{"testdata/hyperfine.json", FormatHyperfine, 2, []want{
			{Key{"sleep 0.1", NoOperation, "time"}, "s", false, 10, 0.10205, 0},
			{Key{"sleep 0.2", NoOperation, "time"}, "s", false, 6, 0.20231, 0},
		}},
		{"testdata/engram_report.json", FormatEngram, 5 + 3*7, []want{
			{Key{"m17_baseline", "overall", "p99"}, "ms", false, 1, 0.501, 0},
			{Key{"m17_baseline", "overall", "throughput"}, "ops/s", true, 1, 999.9, 0},
			{Key{"m17_baseline", "overall", "error_rate"}, "fraction", false, 1, 0.0001, 0},
			{Key{"m17_baseline", "Store", "p99.9"}, "ms", false, 1, 1.18, 0},
			{Key{"m17_baseline", "Recall", "error_rate"}, "fraction", false, 1, 3.0 / 25498, 0},
			{Key{"m17_baseline", "Search", "throughput"}, "ops/s", true, 1, 4503 / 60.02, 0},
		}},
		{"testdata/result_base.json", FormatResult, 3 * 7, []want{
			{Key{"ci/fast_regression_check", "overall", "p50"}, "ms", false, 5, 0.20, 0.20},
			{Key{"ci/fast_regression_check", "Store", "p99"}, "ms", false, 5, 0.40, 0.40},
			{Key{"ci/fast_regression_check", "Recall", "throughput"}, "ops/s", true, 5, 500, 500},
			{Key{"ci/fast_regression_check", "overall", "error_rate"}, "fraction", false, 5, 0, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if f, err := Detect(data); err != nil || f != tt.format {
				t.Errorf("Detect = %q, %v; want %q", f, err, tt.format)
			}
			s, err := Load(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Samples) != tt.samples {
				t.Errorf("%d samples, want %d: %v", len(s.Samples), tt.samples, s.Keys())
			}
			for _, w := range tt.want {
				sm := s.Samples[w.key]
				if sm == nil {
					t.Errorf("no sample %v; have %v", w.key, s.Keys())
					continue
				}
				if sm.Unit != w.unit || sm.HigherIsBetter != w.hib || len(sm.Values) != w.n || !approx(sm.Values[0], w.first) {
					t.Errorf("%v: unit %q hib %v n %d first %v; want %q %v %d %v", w.key, sm.Unit, sm.HigherIsBetter, len(sm.Values), sm.Values[0], w.unit, w.hib, w.n, w.first)
				}
			}
		})
	}
}

func approx(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

func TestResultFixtureSide(t *testing.T) {
	s, err := Load("testdata/result_base.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Fingerprints) != 1 || s.Fingerprints[0] != "abcdef012345" || s.Commit == "" || !strings.Contains(s.Hardware, "Test CPU") {
		t.Errorf("side: fingerprints %v commit %q hardware %q", s.Fingerprints, s.Commit, s.Hardware)
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"empty.txt", "", "empty.txt: file is empty"},
		{"x.json", `{"foo": 1}`, `x.json: unrecognised JSON: no "schema"`},
		{"bad.json", `{"foo": `, "bad.json: invalid JSON"},
		{"verdict.json", `{"schema": "m18.verdict/v1"}`, `field "schema" is "m18.verdict/v1"`},
		{"future.json", `{"schema": "m18.result/v2"}`, `field "schema" is "m18.result/v2"`},
		{"result.json", `{"schema": "m18.result/v1", "bogus": 1}`, `result.json: m18 result: field "bogus" is not in m18.result/v1`},
		{"samples.json", `{"schema": "m18.samples/v1", "benchmarks": [{"name": "a", "values": [1], "higher_is_beter": true}]}`, `samples.json: m18 samples: field "higher_is_beter" is not in m18.samples/v1`},
		{"noscenario.json", `{"schema": "m18.result/v1", "repetitions": []}`, `field "run.scenario" is empty`},
		{"engram.json", `{"config_name": "x", "p50_latency_ms": 1, "p95_latency_ms": 1, "p99_latency_ms": 1, "overall_throughput": 1}`, `engram.json: Engram loadtest report: field "overall_error_rate" is missing`},
		{"engram2.json", `{"config_name": "x", "p50_latency_ms": "fast"}`, `field "p50_latency_ms": JSON string cannot be a float64`},
		{"engram3.json", `{"p99_latency_ms": 1}`, `field "config_name" is missing`},
		{"engram4.json", `{"config_name": "x", "p50_latency_ms": 1, "p95_latency_ms": 1, "p99_latency_ms": 1, "overall_throughput": 1, "overall_error_rate": 0, "per_operation_stats": {"Store": {"p50_latency_us": 3}}}`, `field "per_operation_stats.Store.count" is missing`},
		{"sample.json", `{"sampling_mode": "Linear", "iters": [1, 2], "times": [5]}`, `field "times" has 1 entries, "iters" 2`},
		{"sample2.json", `{"iters": [0], "times": [5]}`, `field "iters[0]" is 0, want > 0`},
		{"hf.json", `{"results": [{"command": "a"}]}`, `field "results[0].times" is missing or empty`},
		{"hf2.json", `{"results": [{"times": [1]}]}`, `field "results[0].command" is missing or empty`},
		{"bench.txt", "goos: linux\nPASS\nok  \tx\t0.1s\n", "bench.txt: go test -bench output: no benchmark lines"},
		{"bench2.txt", "BenchmarkX 100 12 ns/op 7\n", "bench2.txt: go test -bench output: line 1: missing units"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := testenv.WriteFile(t, dir, tt.name, tt.content)
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v does not name the file", err)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}
