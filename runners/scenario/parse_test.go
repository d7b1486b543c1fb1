package scenario

import (
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/tomlcheck"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// valid is a complete file; tests splice one change into it.
const valid = `name = "t"
description = "test"

[duration]
total_seconds = 30

[arrival]
pattern = "constant"
rate = 100.0

[operations]
store_weight = 1
recall_weight = 1
embedding_search_weight = 2
pattern_completion_weight = 0

[data]
num_nodes = 1_000
embedding_dim = 768
memory_spaces = 2

[validation]
expected_p99_latency_ms = 10.0

[chaos]
enabled = false
`

// replace swaps one line of valid (matched exactly) for repl.
func replace(t *testing.T, old, repl string) string {
	t.Helper()
	if !strings.Contains(valid, old+"\n") {
		t.Fatalf("test bug: %q not in the valid file", old)
	}
	return strings.Replace(valid, old+"\n", repl+"\n", 1)
}

// withArrival is the valid file with its [arrival] keys (a constant 100
// ops/s) replaced by keys.
func withArrival(t *testing.T, keys string) string {
	t.Helper()
	return replace(t, "pattern = \"constant\"\nrate = 100.0", keys)
}

func TestParseValid(t *testing.T) {
	sc, err := Parse("t.toml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	want := Operations{Store: 0.25, Recall: 0.25, Search: 0.5}
	if sc.Operations != want {
		t.Errorf("operations = %+v, want normalised %+v", sc.Operations, want)
	}
	if sc.Weights() != want {
		t.Errorf("Weights() = %+v, want %+v", sc.Weights(), want)
	}
	if sc.Arrival.Pattern != "constant" || sc.Arrival.Rate != 100 {
		t.Errorf("arrival = %+v", sc.Arrival)
	}
	if sc.Data.NumNodes != 1000 || sc.Data.EmbeddingDim != 768 || sc.Data.MemorySpaces != 2 {
		t.Errorf("data = %+v", sc.Data)
	}
	if !reflect.DeepEqual(sc.Data.Distribution, DefaultDistribution) {
		t.Errorf("distribution = %+v, want Engram's default %+v", sc.Data.Distribution, DefaultDistribution)
	}
	v := sc.Validation
	if v.ExpectedP99LatencyMs == nil || *v.ExpectedP99LatencyMs != 10 || v.ExpectedThroughputOpsSec != nil || v.MaxErrorRate != nil {
		t.Errorf("validation = %+v", v)
	}
	if sc.Ref != "t.toml" || len(sc.SHA256) != 64 || string(sc.Raw) != valid {
		t.Errorf("Ref %q SHA256 %q Raw %d bytes", sc.Ref, sc.SHA256, len(sc.Raw))
	}
}

func TestParseForms(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		want func(*Scenario) bool
	}{
		{"inline distribution", replace(t, "memory_spaces = 2", `memory_spaces = 2
embedding_distribution = { type = "clustered", num_clusters = 50, std_dev = 0.15 } # trailing comment`),
			func(s *Scenario) bool {
				return s.Data.Distribution == Distribution{Type: "clustered", NumClusters: 50, StdDev: 0.15}
			}},
		{"table distribution", replace(t, "memory_spaces = 2", `memory_spaces = 2

[data.embedding_distribution]
type = "clustered"
num_clusters = 50
std_dev = 0.15`),
			func(s *Scenario) bool {
				return s.Data.Distribution == Distribution{Type: "clustered", NumClusters: 50, StdDev: 0.15}
			}},
		{"dotted distribution", replace(t, "memory_spaces = 2", `memory_spaces = 2
embedding_distribution.type = "uniform"`),
			func(s *Scenario) bool { return s.Data.Distribution.Type == "uniform" }},
		{"clustered defaults", replace(t, "memory_spaces = 2", `embedding_distribution = { type = "clustered" }`),
			func(s *Scenario) bool {
				return s.Data.Distribution == DefaultDistribution && s.Data.MemorySpaces == 1
			}},
		{"hot_spot defaults", replace(t, "memory_spaces = 2", `embedding_distribution = { type = "hot_spot" }`),
			func(s *Scenario) bool {
				d := s.Data.Distribution
				return d.Type == "hot_spot" && d.HotFraction == 0.01 && d.HotProbability == 0.9 && d.StdDev == 0.01 && d.Center() == nil
			}},
		{"hot_spot with Engram's center", replace(t, "memory_spaces = 2", `embedding_distribution = { type = "hot_spot", center = [0.5, -0.5, 1], hot_fraction = 0.1, hot_probability = 0.5 }`),
			func(s *Scenario) bool {
				d := s.Data.Distribution
				return reflect.DeepEqual(d.Center(), []float64{0.5, -0.5, 1}) && d.HotFraction == 0.1 && d.HotProbability == 0.5
			}},
		{"integer rate", replace(t, "rate = 100.0", "rate = 100"),
			func(s *Scenario) bool { return s.Arrival.Rate == 100 }},
		{"digit separators", replace(t, "num_nodes = 1_000", "num_nodes = 1_000_000"),
			func(s *Scenario) bool { return s.Data.NumNodes == 1_000_000 }},
		{"poisson", withArrival(t, `pattern = "poisson"
lambda = 250.5`),
			func(s *Scenario) bool { return s.Arrival.Pattern == "poisson" && s.Arrival.Rate == 250.5 }},
		{"exponential lambda", withArrival(t, `pattern = "exponential"
lambda = 40`),
			func(s *Scenario) bool { return s.Arrival.Pattern == "exponential" && s.Arrival.Rate == 40 }},
		{"exponential rate", withArrival(t, `pattern = "exponential"
rate = 40`),
			func(s *Scenario) bool { return s.Arrival.Rate == 40 }},
		{"periodic_burst", withArrival(t, `pattern = "periodic_burst"
base_rate = 2000.0
burst_rate = 15000.0
burst_duration_sec = 30
burst_period_sec = 300`),
			func(s *Scenario) bool {
				a := s.Arrival
				return a.BaseRate == 2000 && a.BurstRate == 15000 && a.BurstDurationSec == 30 && a.BurstPeriodSec == 300 &&
					a.MeanRate() == 15000*0.1+2000*0.9 && a.PeakRate() == 15000
			}},
		{"no duration table: Engram's 300 s", strings.Replace(valid, "[duration]\ntotal_seconds = 30\n", "", 1),
			func(s *Scenario) bool { return s.Duration.TotalSeconds == 300 }},
		{"no validation or chaos", valid[:strings.Index(valid, "[validation]")],
			func(s *Scenario) bool { return s.Validation == (Validation{}) && !s.Chaos.Enabled }},
		{"M18 duration keys", replace(t, "total_seconds = 30", "total_seconds = 30\nwarmup_seconds = 0\nmax_requests = 5000"),
			func(s *Scenario) bool {
				e := s.Effective()
				return e.WarmupSeconds == 0 && e.MaxRequests == 5000
			}},
		{"weights need not sum to 1", replace(t, "store_weight = 1", "store_weight = 40.0"),
			func(s *Scenario) bool {
				o := s.Operations
				return math.Abs(o.Store+o.Recall+o.Search+o.PatternCompletion-1) < 1e-12 && math.Abs(o.Store-40.0/43) < 1e-12
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("t.toml", []byte(tc.file))
			if err != nil {
				t.Fatalf("Parse: %v\nfile:\n%s", err, tc.file)
			}
			if !tc.want(sc) {
				t.Errorf("unexpected result: %+v", *sc)
			}
		})
	}
}

func TestEffective(t *testing.T) {
	for _, tc := range []struct {
		name         string
		d            Duration
		rate         float64
		wantWarmup   float64
		wantRequests uint64
	}{
		{"10% of a short run", Duration{TotalSeconds: 20}, 1000, 2, 31_000},
		{"capped at 10 s", Duration{TotalSeconds: 600}, 100, 10, 91_000},
		{"explicit values kept", Duration{TotalSeconds: 60, WarmupSeconds: 3, MaxRequests: 7}, 1000, 3, 7},
		{"explicit zero warmup from a file", Duration{TotalSeconds: 60, warmupSet: true}, 10, 0, 1900},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Scenario{Duration: tc.d, Arrival: Arrival{Pattern: "constant", Rate: tc.rate}}
			e := s.Effective()
			if e.WarmupSeconds != tc.wantWarmup || e.MaxRequests != tc.wantRequests || e.TotalSeconds != tc.d.TotalSeconds {
				t.Errorf("Effective() = %+v, want warmup %v max_requests %d", e, tc.wantWarmup, tc.wantRequests)
			}
		})
	}
}

// TestParseErrors checks each kind of bad input: its message names the file,
// line, table and key, and says what to do.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		want string // the whole message of the (single) problem
	}{
		{"unknown key with suggestion", replace(t, "store_weight = 1", "store_weigth = 1"),
			`scenario my.toml:12: [operations] unknown key "store_weigth" (did you mean "store_weight"?)`},
		{"unknown top-level key", replace(t, `description = "test"`, `desciption = "test"`),
			`scenario my.toml:2: unknown key "desciption" (did you mean "description"?)`},
		{"key in the wrong table", replace(t, "store_weight = 1", "store_weight = 1\nrate = 5"),
			`scenario my.toml:13: [operations] unknown key "rate" ("rate" belongs in [arrival])`},
		{"unknown key, nothing close", replace(t, "enabled = false", "enabled = false\nlatency_injection = 5"),
			`scenario my.toml:27: [chaos] unknown key "latency_injection" (valid keys: enabled)`},
		{"unknown table", valid + "[extra]\nx = 1\n",
			`scenario my.toml:27: unknown key "extra" (valid keys: name, description, duration, arrival, operations, data, validation, chaos)`},
		{"negative rate", replace(t, "rate = 100.0", "rate = -5"),
			`scenario my.toml:9: [arrival] rate must be > 0 (got -5)`},
		{"zero rate", replace(t, "rate = 100.0", "rate = 0.0"),
			`scenario my.toml:9: [arrival] rate must be > 0 (got 0)`},
		{"absurd rate", replace(t, "rate = 100.0", "rate = 1e12"),
			`scenario my.toml:9: [arrival] rate must be ≤ 1e+07 (got 1e+12)`},
		{"key of another pattern", replace(t, "rate = 100.0", "rate = 100.0\nlambda = 3"),
			`scenario my.toml:10: [arrival] lambda does not apply to pattern "constant" (it takes rate)`},
		{"unknown pattern", replace(t, `pattern = "constant"`, `pattern = "constnat"`),
			`scenario my.toml:8: [arrival] pattern must be one of constant, poisson, exponential, periodic_burst, diurnal, bursts, ramp, steps, burst_sequence, composite (got "constnat"); did you mean "constant"?`},
		{"missing rate", replace(t, "rate = 100.0", ""),
			`scenario my.toml:7: [arrival] missing required key "rate" (pattern "constant" needs rate)`},
		{"burst longer than period", withArrival(t, `pattern = "periodic_burst"
base_rate = 10
burst_rate = 100
burst_duration_sec = 30
burst_period_sec = 10`),
			`scenario my.toml:11: [arrival] burst_duration_sec must be ≤ burst_period_sec (got 30 > 10)`},
		{"weights all zero", replace(t, "store_weight = 1\nrecall_weight = 1\nembedding_search_weight = 2", "store_weight = 0\nrecall_weight = 0\nembedding_search_weight = 0"),
			`scenario my.toml:11: [operations] all weights are zero; give at least one of store_weight, recall_weight, embedding_search_weight, pattern_completion_weight a value > 0`},
		{"negative weight", replace(t, "recall_weight = 1", "recall_weight = -1"),
			`scenario my.toml:13: [operations] recall_weight must be ≥ 0 (got -1)`},
		{"embedding_dim zero", replace(t, "embedding_dim = 768", "embedding_dim = 0"),
			`scenario my.toml:19: [data] embedding_dim must be ≥ 1 (got 0)`},
		{"embedding_dim negative", replace(t, "embedding_dim = 768", "embedding_dim = -768"),
			`scenario my.toml:19: [data] embedding_dim must be ≥ 1 (got -768)`},
		{"wrong type: string for number", replace(t, "rate = 100.0", `rate = "fast"`),
			`scenario my.toml:9: [arrival] rate must be a number (got string "fast")`},
		{"wrong type: float for integer", replace(t, "num_nodes = 1_000", "num_nodes = 1e3"),
			`scenario my.toml:18: [data] num_nodes must be an integer (got float 1000)`},
		{"wrong type: string for bool", replace(t, "enabled = false", `enabled = "no"`),
			`scenario my.toml:26: [chaos] enabled must be true or false (got string "no")`},
		{"wrong type: value for table", "chaos = true\n" + strings.Replace(valid, "[chaos]\nenabled = false\n", "", 1),
			`scenario my.toml:1: chaos must be a table (got boolean true)`},
		{"error rate above 1", replace(t, "expected_p99_latency_ms = 10.0", "max_error_rate = 1.5"),
			`scenario my.toml:23: [validation] max_error_rate must be ≤ 1 (got 1.5)`},
		{"non-finite", replace(t, "expected_p99_latency_ms = 10.0", "expected_p99_latency_ms = nan"),
			`scenario my.toml:23: [validation] expected_p99_latency_ms must be a finite number (got float NaN)`},
		{"distribution type typo", replace(t, "memory_spaces = 2", `embedding_distribution = { type = "hotspot" }`),
			`scenario my.toml:20: [data.embedding_distribution] type must be one of clustered, uniform, hot_spot (got "hotspot"); did you mean "hot_spot"?`},
		{"distribution key typo in table form", replace(t, "memory_spaces = 2", "[data.embedding_distribution]\ntype = \"clustered\"\nnum_cluster = 5"),
			`scenario my.toml:22: [data.embedding_distribution] unknown key "num_cluster" (did you mean "num_clusters"?)`},
		{"distribution key of another type", replace(t, "memory_spaces = 2", `embedding_distribution = { type = "uniform", std_dev = 0.1 }`),
			`scenario my.toml:20: [data.embedding_distribution] std_dev does not apply to type "uniform" (it takes no parameters)`},
		{"num_clusters zero", replace(t, "memory_spaces = 2", `embedding_distribution = { type = "clustered", num_clusters = 0, std_dev = 0.1 }`),
			`scenario my.toml:20: [data.embedding_distribution] num_clusters must be ≥ 1 (got 0)`},
		{"missing table", strings.Replace(valid, "[arrival]\npattern = \"constant\"\nrate = 100.0\n", "", 1),
			`scenario my.toml: missing required key "arrival" (add [arrival] with pattern = "constant" and rate = …)`},
		{"TOML syntax error", replace(t, "num_nodes = 1_000", "num_nodes = = 1"),
			`scenario my.toml:18: TOML syntax error: expected value but found '=' instead`},
		{"TOML unclosed table header", replace(t, "[validation]", "[validation"),
			`scenario my.toml:22: TOML syntax error: expected '.' or ']' to end table name, but got '\n' instead`},
		{"TOML duplicate key", replace(t, "rate = 100.0", "rate = 100.0\nrate = 200.0"),
			`scenario my.toml:10: TOML syntax error: Key 'arrival.rate' has already been defined.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("my.toml", []byte(tc.file))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tc.file)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			if len(errs) != 1 || err.Error() != tc.want {
				t.Errorf("got %d problem(s):\n%v\nwant exactly:\n%s", len(errs), err, tc.want)
			}
			var p *Problem
			if !errors.As(err, &p) || p.Ref != "my.toml" {
				t.Errorf("errors.As(*Problem) = %+v", p)
			}
		})
	}
}

// TestAllProblems checks that one bad file reports every problem, in file
// order, against a golden file (regenerate with go test -update).
func TestAllProblems(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "many_problems.toml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("many_problems.toml", src)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	got := err.Error() + "\n"
	golden := filepath.Join("testdata", "many_problems.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("problems differ from %s (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
	if len(errs) < 10 {
		t.Errorf("only %d problems reported; the file has at least 10", len(errs))
	}
}

func TestNearest(t *testing.T) {
	keys := schema["operations"]
	for _, tc := range []struct{ word, want string }{
		{"store_weigth", "store_weight"},
		{"Store_Weight", "store_weight"},
		{"recal_weight", "recall_weight"},
		{"embedding_search", ""}, // 7 letters missing: another word, not a typo
		{"pattern_completion_weigh", "pattern_completion_weight"},
		{"xyz", ""},
	} {
		if got := tomlcheck.Suggest(tc.word, keys); got != tc.want {
			t.Errorf("tomlcheck.Suggest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
}
