package input

import (
	"strings"
	"testing"
	"time"
)

func TestBenchDerivedAndStart(t *testing.T) {
	data := `m18-run-start: 2026-12-06T20:00:00.5Z
pkg: bytes
BenchmarkEqual/4K-2   1000   75.07 ns/op   54561.23 MB/s   0 B/op
BenchmarkCustom-2     1000   12 widgets/s
`
	s, err := Read("run.txt", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 6, 20, 0, 0, 5e8, time.UTC)
	for _, tt := range []struct {
		key, derived string
		hib          bool
	}{
		{"bytes:Equal/4K-2 - sec/op", "", false},
		{"bytes:Equal/4K-2 - B/s", "sec/op", true},
		{"bytes:Equal/4K-2 - B/op", "", false},
		{"bytes:Custom-2 - widgets/s", "", true}, // a rate of its own: no sec/op on its line
	} {
		f := strings.Fields(tt.key)
		sm := s.Samples[Key{f[0], f[1], f[2]}]
		if sm == nil {
			t.Errorf("%s: missing", tt.key)
			continue
		}
		if sm.DerivedFrom != tt.derived || sm.HigherIsBetter != tt.hib || !sm.Starts[0].Equal(want) {
			t.Errorf("%s: derived %q, higher is better %v, start %v; want %q, %v, %v", tt.key, sm.DerivedFrom, sm.HigherIsBetter, sm.Starts[0], tt.derived, tt.hib, want)
		}
	}
	if _, err := Read("bad.txt", []byte("m18-run-start: yesterday\nBenchmarkX 1 2 ns/op\n")); err == nil || !strings.Contains(err.Error(), "m18-run-start") {
		t.Errorf("a bad start: err = %v, want one naming m18-run-start", err)
	}
}

func TestSamplesJSON(t *testing.T) {
	good := `{"schema": "m18.samples/v1", "start": "2026-12-06T20:00:00Z",
	  "benchmarks": [{"name": "parse/small", "unit": "ns", "values": [1520, 1498]},
	                 {"name": "parse/small", "metric": "rate", "unit": "docs/s", "higher_is_better": true, "values": [9]}]}`
	s, err := Read("s.json", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	tm := s.Samples[Key{"parse/small", NoOperation, "time"}]
	rt := s.Samples[Key{"parse/small", NoOperation, "rate"}]
	if tm == nil || len(tm.Values) != 2 || tm.Unit != "ns" || tm.HigherIsBetter || rt == nil || !rt.HigherIsBetter || tm.Starts[0].IsZero() {
		t.Fatalf("samples: %+v %+v", tm, rt)
	}
	for _, tt := range []struct{ doc, want string }{
		{`{"schema": "m18.samples/v1"}`, `"benchmarks" is missing`},
		{`{"schema": "m18.samples/v1", "benchmarks": [{"values": [1]}]}`, `"benchmarks[0].name"`},
		{`{"schema": "m18.samples/v1", "benchmarks": [{"name": "x", "values": []}]}`, `"benchmarks[0].values"`},
		{`{"schema": "m18.samples/v1", "benchmarks": [{"name": "x", "values": ["a"]}]}`, `field "benchmarks.values"`},
		{`{"schema": "m18.samples/v2"}`, `m18.samples/v1`},
	} {
		if _, err := Read("s.json", []byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %s", tt.doc, err, tt.want)
		}
	}
}
