package gate

import (
	"strings"
	"testing"
)

// TestCompareFormats runs real-format fixtures through CompareFiles.
func TestCompareFormats(t *testing.T) {
	p := testPolicy()
	v, err := CompareFiles([]string{"input/testdata/bench/base.txt"}, []string{"input/testdata/bench/head.txt"}, p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range v.Comparisons {
		got[c.Scenario+" "+c.Metric] = c.Decision
	}
	// Deterministic units: B/op grew on both benchmarks (n = 6, p = 2/924),
	// allocs/op stayed at 1.
	for k, want := range map[string]string{
		"example.com/sortbench:Sort/n=100-2 B/op":       "regressed",
		"example.com/sortbench:Sort/n=1000-2 B/op":      "regressed",
		"example.com/sortbench:Sort/n=100-2 allocs/op":  "unchanged",
		"example.com/sortbench:Sort/n=1000-2 allocs/op": "unchanged",
		"example.com/sortbench:Sort/n=100-2 sec/op":     "regressed",
	} {
		if got[k] != want {
			t.Errorf("%s: %s, want %s", k, got[k], want)
		}
	}

	v, err = CompareFiles([]string{"input/testdata/result_base.json"}, []string{"input/testdata/result_head.json"}, p)
	if err != nil {
		t.Fatal(err)
	}
	// Latencies +20 % on every repetition, n = 5: fully separated, p =
	// 2/252 raw, but BH across 21 comparisons (12 with p < 0.01) keeps
	// them significant only if their adjusted p stays below 0.01.
	if v.Base.Fingerprint != "abcdef012345" || v.Head.Commit == "" {
		t.Errorf("sides: %+v %+v", v.Base, v.Head)
	}
	if v.Summary.Regressed+v.Summary.Inconclusive+v.Summary.Unchanged != len(v.Comparisons) {
		t.Errorf("summary does not add up: %+v", v.Summary)
	}
	t.Logf("%s; first: %s", v.Summary.Answer, v.Comparisons[0].Reason)

	// Scenario mismatch between formats: nothing to compare, exit 3.
	if _, err := CompareFiles([]string{"input/testdata/hyperfine.json"}, []string{"input/testdata/engram_report.json"}, p); err == nil || !strings.Contains(err.Error(), "nothing to compare") {
		t.Errorf("mismatch: %v", err)
	}
}
