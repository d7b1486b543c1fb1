package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/engram/m18-gate/internal/jsondoc"
)

// StartConfigKey is the go test -bench configuration line that says when
// the run below it started ("m18-run-start: 2026-12-06T20:00:00.123Z");
// m18-gate bench writes it, so that interleaved runs pair.
const StartConfigKey = "m18-run-start"

// readBench reads go test -bench output with golang.org/x/perf/benchfmt.
// Every benchmark line is one sample; the scenario is the benchmark's full
// name (qualified by its "pkg:" when the output names one), the operation
// NoOperation and the metric the tidied unit ("sec/op", "B/op",
// "allocs/op", custom units). Direction comes from "Unit … better=" metadata
// lines, else benchfmt's defaults, else rates ("…/s") are better higher and
// everything else lower.
func readBench(name string, data []byte) (*Set, error) {
	type value struct {
		key     Key
		unit    string
		value   float64
		derived string
		start   time.Time
	}
	var values []value
	r := benchfmt.NewReader(bytes.NewReader(data), name)
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			_, line := rec.Pos()
			return nil, fmt.Errorf("line %d: %s", line, rec.Msg)
		case *benchfmt.Result:
			scenario := rec.Name.String()
			var start time.Time
			if t := rec.GetConfig(StartConfigKey); t != "" {
				at, err := time.Parse(time.RFC3339Nano, t)
				if err != nil {
					_, line := rec.Pos()
					return nil, fmt.Errorf("line %d: configuration %q is %q, want an RFC 3339 time", line, StartConfigKey, t)
				}
				start = at
			}
			if pkg := rec.GetConfig("pkg"); pkg != "" {
				scenario = pkg + ":" + scenario
			}
			for _, v := range rec.Values {
				if !isFinite(v.Value) {
					_, line := rec.Pos()
					return nil, fmt.Errorf("line %d: %s %s is %v", line, rec.Name, v.Unit, v.Value)
				}
				values = append(values, value{Key{scenario, NoOperation, v.Unit}, v.Unit, v.Value, derivedFrom(rec, v.Unit), start})
			}
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, errors.New(`no benchmark lines (want go test -bench output with lines like "BenchmarkX-8  1000  123 ns/op", or a JSON file of a known format)`)
	}
	units := r.Units()
	s := NewSet()
	for _, v := range values {
		hib := higherIsBetterUnit(v.unit)
		switch units.GetBetter(v.unit) {
		case 1:
			hib = true
		case -1:
			hib = false
		}
		s.AddAt(v.key, v.unit, hib, v.value, v.start)
		s.Samples[v.key].DerivedFrom = v.derived
	}
	return s, nil
}

// derivedFrom names the unit of rec that unit is computed from: the B/s of
// b.SetBytes is the bytes per op over sec/op, one measurement reported
// twice. "" when unit is primary.
func derivedFrom(rec *benchfmt.Result, unit string) string {
	if unit != "B/s" {
		return ""
	}
	if _, ok := rec.Value("sec/op"); ok {
		return "sec/op"
	}
	return ""
}

// criterionSample is criterion's sample.json.
type criterionSample struct {
	SamplingMode string    `json:"sampling_mode"`
	Iters        []float64 `json:"iters"`
	Times        []float64 `json:"times"`
}

// readCriterion reads a criterion sample.json: each sample's time per
// iteration (times[i]/iters[i], nanoseconds) is one value. The scenario is
// the "full_id" of the benchmark.json beside it when there is one, else the
// path criterion writes it under: <group>/<bench>[/<param>]/new/sample.json
// below a "criterion" directory.
func readCriterion(name string, data []byte) (*Set, error) {
	var c criterionSample
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, jsondoc.Explain(err)
	}
	if len(c.Iters) == 0 {
		return nil, errors.New(`field "iters" is missing or empty`)
	}
	if len(c.Times) != len(c.Iters) {
		return nil, fmt.Errorf(`field "times" has %d entries, "iters" %d; they must match`, len(c.Times), len(c.Iters))
	}
	scenario := criterionScenario(name)
	s := NewSet()
	for i := range c.Iters {
		if !(c.Iters[i] > 0) || !isFinite(c.Iters[i]) {
			return nil, fmt.Errorf(`field "iters[%d]" is %v, want > 0`, i, c.Iters[i])
		}
		if !isFinite(c.Times[i]) || c.Times[i] < 0 {
			return nil, fmt.Errorf(`field "times[%d]" is %v, want a finite time ≥ 0`, i, c.Times[i])
		}
		s.Add(Key{scenario, NoOperation, "time"}, "ns", false, c.Times[i]/c.Iters[i])
	}
	return s, nil
}

func criterionScenario(path string) string {
	dir := filepath.Dir(path)
	if data, err := os.ReadFile(filepath.Join(dir, "benchmark.json")); err == nil {
		var b struct {
			FullID string `json:"full_id"`
		}
		if json.Unmarshal(data, &b) == nil && b.FullID != "" {
			return b.FullID
		}
	}
	switch filepath.Base(dir) {
	case "new", "base", "change":
		dir = filepath.Dir(dir)
	}
	parts := strings.Split(filepath.ToSlash(filepath.Clean(dir)), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] == "criterion" && i+1 < len(parts) {
			return strings.Join(parts[i+1:], "/")
		}
	}
	if len(parts) >= 2 {
		return strings.Join(parts[len(parts)-2:], "/")
	}
	return parts[len(parts)-1]
}
