package scenario

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBuiltinsAllLoad(t *testing.T) {
	want := []string{
		"ci/competitive",
		"ci/competitive_vector",
		"ci/fast_regression_check",
		"ci/pr_gate",
		"ci/smoke",
		"competitive/hybrid_production_100k",
		"competitive/neo4j_traversal_100k",
		"competitive/qdrant_ann_1m_768d",
		"m17_baseline",
		"mixed",
		"read_heavy",
		"write_heavy",
	}
	var got []string
	for _, info := range Builtins() {
		// The M18 task families (tasks/…) are many and owned by their
		// tasks; they must load like the others but are not listed here.
		if !strings.HasPrefix(info.Name, "tasks/") {
			got = append(got, info.Name)
		}
		if info.Title == "" || info.Title == "(invalid)" || info.Description == "" {
			t.Errorf("%s: title %q description %q", info.Name, info.Title, info.Description)
		}
		sc, err := Load(info.Name)
		if err != nil {
			t.Errorf("Load(%q): %v", info.Name, err)
			continue
		}
		if sc.Ref != info.Name {
			t.Errorf("Load(%q).Ref = %q", info.Name, sc.Ref)
		}
		if !strings.HasPrefix(string(sc.Raw), "# ") {
			t.Errorf("%s: does not open with a comment header saying what it measures", info.Name)
		}
		o := sc.Operations
		if math.Abs(o.Store+o.Recall+o.Search+o.PatternCompletion-1) > 1e-9 {
			t.Errorf("%s: weights %+v do not sum to 1", info.Name, o)
		}
		if sc.Data.EmbeddingDim != 768 {
			t.Errorf("%s: embedding_dim %d; Engram accepts 768 only", info.Name, sc.Data.EmbeddingDim)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Builtins() = %v\nwant %v", got, want)
	}
}

// TestBuiltinFacts checks the shipped scenarios against the facts they are
// written from (ENGRAM.md and the issue).
func TestBuiltinFacts(t *testing.T) {
	p := func(f float64) *float64 { return &f }
	for _, tc := range []struct {
		name       string
		rate       float64
		ops        Operations
		nodes      int
		seconds    float64 // 0: not checked
		validation Validation
	}{
		{"m17_baseline", 1000, Operations{Store: 0.5, Recall: 0.425, Search: 0.075}, 1000, 60, Validation{}},
		{"ci/fast_regression_check", 1000, Operations{Store: 0.35, Recall: 0.35, Search: 0.30}, 10_000, 0,
			Validation{ExpectedP99LatencyMs: p(10), ExpectedThroughputOpsSec: p(800), MaxErrorRate: p(0.01)}},
		{"ci/pr_gate", 300, Operations{Store: 0.35, Recall: 0.35, Search: 0.30}, 2000, 3,
			Validation{ExpectedP99LatencyMs: p(10), ExpectedThroughputOpsSec: p(240), MaxErrorRate: p(0.01)}},
		{"competitive/hybrid_production_100k", 1000, Operations{Store: 0.33, Recall: 0.33, Search: 0.34}, 100_000, 0,
			Validation{ExpectedP99LatencyMs: p(10)}},
		{"competitive/neo4j_traversal_100k", 500, Operations{Recall: 0.8, Search: 0.2}, 100_000, 0, Validation{}},
		{"competitive/qdrant_ann_1m_768d", 1000, Operations{Search: 1}, 1_000_000, 0, Validation{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Load(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Arrival.MeanRate() != tc.rate {
				t.Errorf("rate %v, want %v", sc.Arrival.MeanRate(), tc.rate)
			}
			if !closeOps(sc.Operations, tc.ops) {
				t.Errorf("operations %+v, want %+v", sc.Operations, tc.ops)
			}
			if sc.Data.NumNodes != tc.nodes {
				t.Errorf("num_nodes %d, want %d", sc.Data.NumNodes, tc.nodes)
			}
			if tc.seconds != 0 && sc.Duration.TotalSeconds != tc.seconds {
				t.Errorf("total_seconds %v, want %v", sc.Duration.TotalSeconds, tc.seconds)
			}
			for _, f := range []struct {
				name      string
				got, want *float64
			}{
				{"expected_p99_latency_ms", sc.Validation.ExpectedP99LatencyMs, tc.validation.ExpectedP99LatencyMs},
				{"expected_throughput_ops_sec", sc.Validation.ExpectedThroughputOpsSec, tc.validation.ExpectedThroughputOpsSec},
				{"max_error_rate", sc.Validation.MaxErrorRate, tc.validation.MaxErrorRate},
			} {
				if f.want != nil && (f.got == nil || *f.got != *f.want) {
					t.Errorf("%s = %v, want %v", f.name, f.got, *f.want)
				}
			}
		})
	}
	ci, _ := Load("ci/fast_regression_check")
	if e := ci.Effective(); e.TotalSeconds+e.WarmupSeconds > 60 {
		t.Errorf("ci/fast_regression_check runs %v s; a CI scenario should be short", e.TotalSeconds+e.WarmupSeconds)
	}
	smoke, _ := Load("ci/smoke")
	if e := smoke.Effective(); e.TotalSeconds+e.WarmupSeconds > 10 || smoke.Data.NumNodes != 1000 {
		t.Errorf("ci/smoke: %v s, %d nodes; want a few seconds and 1000 nodes", e.TotalSeconds+e.WarmupSeconds, smoke.Data.NumNodes)
	}
}

func closeOps(a, b Operations) bool {
	return math.Abs(a.Store-b.Store) < 1e-9 && math.Abs(a.Recall-b.Recall) < 1e-9 &&
		math.Abs(a.Search-b.Search) < 1e-9 && math.Abs(a.PatternCompletion-b.PatternCompletion) < 1e-9
}

func TestLoadRefs(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "mine.toml")
	if err := os.WriteFile(user, []byte(strings.Replace(valid, `name = "t"`, `name = "user file"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file at a path that looks like a built-in name, relative to the
	// working directory: the bare ref is ambiguous (an error), "./" runs the
	// file.
	shadow := filepath.Join(dir, "ci")
	if err := os.MkdirAll(shadow, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shadow, "smoke.toml"), []byte(strings.Replace(valid, `name = "t"`, `name = "shadow"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if err := os.WriteFile("m17_baseline.toml", []byte(strings.Replace(valid, `name = "t"`, `name = "cwd m17"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		ref, wantName, wantRef string
	}{
		{"ci/fast_regression_check", "CI fast regression check", "ci/fast_regression_check"},
		{"ci/fast_regression_check.toml", "CI fast regression check", "ci/fast_regression_check"},
		{user, "user file", user},
		{"./ci/smoke.toml", "shadow", "./ci/smoke.toml"}, // explicitly the file
		{"ci/smoke", "CI smoke", "ci/smoke"},             // no such file: the built-in
		{"m17_baseline", "M17 baseline", "m17_baseline"}, // no such file: the built-in
		{"./m17_baseline.toml", "cwd m17", "./m17_baseline.toml"},
	} {
		sc, err := Load(tc.ref)
		if err != nil {
			t.Errorf("Load(%q): %v", tc.ref, err)
			continue
		}
		if sc.Name != tc.wantName || sc.Ref != tc.wantRef {
			t.Errorf("Load(%q) = %q (Ref %q), want %q (Ref %q)", tc.ref, sc.Name, sc.Ref, tc.wantName, tc.wantRef)
		}
	}

	// A repository file never shadows a built-in silently.
	for _, ref := range []string{"ci/smoke.toml", "m17_baseline.toml"} {
		_, err := Load(ref)
		if err == nil || !strings.Contains(err.Error(), "names both the built-in scenario") || !strings.Contains(err.Error(), "./"+ref) {
			t.Errorf("Load(%q) of a file with a built-in's name: %v, want an error naming ./%s", ref, err, ref)
		}
	}
	if _, err := Load("./nope.toml"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Load of a missing explicit file: %v", err)
	}

	_, err := Load("ci/fast_regresion_check")
	if err == nil || !strings.Contains(err.Error(), `did you mean "ci/fast_regression_check"?`) {
		t.Errorf("Load of a misspelt name: %v", err)
	}
	for _, ref := range []string{"", "../../etc/passwd", "nope"} {
		if _, err := Load(ref); err == nil {
			t.Errorf("Load(%q) succeeded", ref)
		}
	}

	// Problems in a user's file name the path.
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte(strings.Replace(valid, "rate = 100.0", "rate = -1.0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	var errs Errors
	if !errors.As(err, &errs) || !strings.HasPrefix(err.Error(), "scenario "+bad+":9: [arrival] rate") {
		t.Errorf("Load(bad) = %v", err)
	}
}
