package input

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/engram/m18-gate/internal/jsondoc"
	"github.com/engram/m18-gate/internal/sizecap"
	"github.com/engram/m18-gate/runners/result"
)

// Format names an input format Load recognises.
type Format string

// The input formats, detected by content.
const (
	FormatResult    Format = "m18 result"              // m18.result/v1 document
	FormatEngram    Format = "Engram loadtest report"  // loadtest --output JSON
	FormatBench     Format = "go test -bench output"   // golang.org/x/perf/benchfmt
	FormatCriterion Format = "criterion sample.json"   // target/criterion/<group>/<bench>/new/sample.json
	FormatHyperfine Format = "hyperfine --export-json" // hyperfine JSON export
	FormatSamples   Format = "m18 samples"             // m18.samples/v1, see SamplesSchema
)

// MaxFileBytes bounds one input file: m18 results are tens of kilobytes and
// go test -bench outputs rarely reach a megabyte, so a larger file is not an
// input, and reading it whole could exhaust the runner's memory.
const MaxFileBytes = 64 << 20

// Load reads the files of one side of a comparison and merges them into one
// Set. Each file's format is detected from its content (see Detect); an
// error names the file and, where it can, the field or line at fault.
func Load(paths ...string) (*Set, error) {
	if len(paths) == 0 {
		return nil, errors.New("no input files")
	}
	set := NewSet()
	for _, p := range paths {
		data, err := sizecap.ReadFile(p, MaxFileBytes, "input")
		if err != nil {
			return nil, err
		}
		s, err := Read(p, data)
		if err != nil {
			return nil, err
		}
		set.Merge(s)
	}
	return set, nil
}

// Read parses one input. name is the file's path: errors name it, and the
// criterion reader derives the scenario from it.
func Read(name string, data []byte) (*Set, error) {
	f, err := Detect(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var s *Set
	switch f {
	case FormatResult:
		s, err = readResult(name, data)
	case FormatEngram:
		s, err = readEngram(data)
	case FormatBench:
		s, err = readBench(name, data)
	case FormatCriterion:
		s, err = readCriterion(name, data)
	case FormatHyperfine:
		s, err = readHyperfine(data)
	case FormatSamples:
		s, err = readSamples(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", name, f, err)
	}
	if len(s.Samples) == 0 {
		return nil, fmt.Errorf("%s: %s holds no measurements", name, f)
	}
	s.Files = []string{name}
	return s, nil
}

// Detect tells the format of an input from its content: JSON objects by
// their fields ("schema" m18.result/v1; "config_name" for an Engram report;
// "iters" and "times" for criterion; "results" for hyperfine), anything else
// is read as go test -bench output.
func Detect(data []byte) (Format, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return "", errors.New("file is empty")
	}
	if trimmed[0] != '{' {
		return FormatBench, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return "", fmt.Errorf("invalid JSON: %w", err)
	}
	if raw, ok := probe["schema"]; ok {
		var schema string
		if err := json.Unmarshal(raw, &schema); err != nil {
			return "", fmt.Errorf("field \"schema\" is not a string: %s", raw)
		}
		switch schema {
		case result.SchemaVersion:
			return FormatResult, nil
		case SamplesSchema:
			return FormatSamples, nil
		}
		return "", fmt.Errorf("field \"schema\" is %q; m18-gate compares %q and %q documents (a verdict or calibration file is not an input)", schema, result.SchemaVersion, SamplesSchema)
	}
	_, hasIters := probe["iters"]
	_, hasTimes := probe["times"]
	switch {
	case hasField(probe, "config_name") || hasField(probe, "per_operation_stats") || hasField(probe, "p99_latency_ms"):
		return FormatEngram, nil
	case hasIters || hasTimes || hasField(probe, "sampling_mode"):
		return FormatCriterion, nil
	case hasField(probe, "results"):
		return FormatHyperfine, nil
	}
	return "", errors.New(`unrecognised JSON: no "schema" (m18 result), "config_name" (Engram loadtest report), "iters"/"times" (criterion sample.json) or "results" (hyperfine --export-json) field`)
}

func hasField(m map[string]json.RawMessage, k string) bool {
	_, ok := m[k]
	return ok
}

// readResult reads an m18.result/v1 document: one value per repetition, per
// operation (and "overall"), per metric. A competitor's run is keyed by
// its series name (SCENARIO@NAME), so that it is never compared with
// Engram's runs of the scenario as if it were one of them.
func readResult(name string, data []byte) (*Set, error) {
	doc, err := result.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	if doc.Run.Scenario == "" {
		return nil, errors.New(`field "run.scenario" is empty; results are compared by scenario`)
	}
	if len(doc.Repetitions) == 0 {
		return nil, errors.New(`field "repetitions" is empty: the run measured nothing`)
	}
	s := NewSet()
	s.addFingerprint(doc.Run.Hardware.Hash)
	s.Hardware = DescribeHardware(doc.Run.Hardware)
	s.addRevision(doc.Run.Commit, doc.Run.Ref)
	for _, rep := range doc.Repetitions {
		start := rep.Start // when the repetition ran, for pairing
		if start.IsZero() {
			start = doc.Run.Start
		}
		for _, op := range operationOrder {
			st, ok := rep.Stats(op)
			if !ok {
				continue
			}
			for _, m := range result.Metrics {
				v, err := st.Metric(m)
				if err != nil {
					return nil, err
				}
				if !isFinite(v) {
					return nil, fmt.Errorf("repetitions[%d] operation %s metric %s is %v", rep.Index, op, m, v)
				}
				unit, hib := MetricInfo(m)
				s.AddAt(Key{doc.Run.SeriesName(), op, m}, unit, hib, v, start)
			}
		}
		if t := rep.Target; t != nil {
			for _, c := range []struct {
				metric, unit string
				v            float64
			}{
				{result.MetricCPUPerOp, UnitMilliseconds, t.CPUPerOpMs},
				{result.MetricInstructionsPerOp, UnitInstructions, t.InstructionsPerOp},
			} {
				if c.v > 0 && isFinite(c.v) {
					s.AddAt(Key{doc.Run.Scenario, result.OpOverall, c.metric}, c.unit, false, c.v, start)
				}
			}
		}
	}
	_ = name
	return s, nil
}

// engramReport is the Engram loadtest report; pointers tell missing fields.
type engramReport struct {
	ConfigName        *string                   `json:"config_name"`
	ElapsedSeconds    float64                   `json:"elapsed_seconds"`
	OverallThroughput *float64                  `json:"overall_throughput"`
	OverallErrorRate  *float64                  `json:"overall_error_rate"`
	P50LatencyMs      *float64                  `json:"p50_latency_ms"`
	P95LatencyMs      *float64                  `json:"p95_latency_ms"`
	P99LatencyMs      *float64                  `json:"p99_latency_ms"`
	PerOperationStats map[string]engramOpReport `json:"per_operation_stats"`
}

type engramOpReport struct {
	Count         *float64 `json:"count"`
	ErrorCount    *float64 `json:"error_count"`
	P50LatencyUs  *float64 `json:"p50_latency_us"`
	P95LatencyUs  *float64 `json:"p95_latency_us"`
	P99LatencyUs  *float64 `json:"p99_latency_us"`
	P999LatencyUs *float64 `json:"p999_latency_us"`
	MeanLatencyUs *float64 `json:"mean_latency_us"`
}

// readEngram reads an Engram loadtest report: one value per file, the
// top-level figures as operation "overall" (milliseconds), per_operation_stats
// as their operations (microseconds converted to milliseconds).
func readEngram(data []byte) (*Set, error) {
	var r engramReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, jsondoc.Explain(err)
	}
	if r.ConfigName == nil || *r.ConfigName == "" {
		return nil, errors.New(`field "config_name" is missing or empty; it names the scenario results are compared by`)
	}
	sc := *r.ConfigName
	s := NewSet()
	top := []reportField{
		{"p50_latency_ms", result.MetricP50, r.P50LatencyMs},
		{"p95_latency_ms", result.MetricP95, r.P95LatencyMs},
		{"p99_latency_ms", result.MetricP99, r.P99LatencyMs},
		{"overall_throughput", result.MetricThroughput, r.OverallThroughput},
		{"overall_error_rate", result.MetricErrorRate, r.OverallErrorRate},
	}
	if err := s.addFields(Key{Scenario: sc, Operation: result.OpOverall}, "", top, 1, true); err != nil {
		return nil, err
	}
	for _, op := range sortedMapKeys(r.PerOperationStats) {
		st := r.PerOperationStats[op]
		if st.Count == nil {
			return nil, fmt.Errorf("field \"per_operation_stats.%s.count\" is missing", op)
		}
		if *st.Count <= 0 {
			continue // the operation did not run
		}
		lat := []reportField{
			{"p50_latency_us", result.MetricP50, st.P50LatencyUs},
			{"p95_latency_us", result.MetricP95, st.P95LatencyUs},
			{"p99_latency_us", result.MetricP99, st.P99LatencyUs},
			{"p999_latency_us", result.MetricP999, st.P999LatencyUs},
			{"mean_latency_us", result.MetricMean, st.MeanLatencyUs},
		}
		// Older reports lack some percentiles.
		if err := s.addFields(Key{Scenario: sc, Operation: op}, "per_operation_stats."+op+".", lat, 1000, false); err != nil {
			return nil, err
		}
		if r.ElapsedSeconds > 0 {
			s.Add(Key{sc, op, result.MetricThroughput}, UnitOpsPerSecond, true, *st.Count/r.ElapsedSeconds)
		}
		if st.ErrorCount != nil {
			s.Add(Key{sc, op, result.MetricErrorRate}, UnitFraction, false, *st.ErrorCount / *st.Count)
		}
	}
	return s, nil
}

// reportField is one figure of an Engram report: its JSON name, the metric
// it is, and its value (nil when the report lacks it).
type reportField struct {
	field, metric string
	v             *float64
}

// addFields adds the figures of fields present in a report to s under
// k's scenario and operation, each divided by div (1000: µs to ms). A
// figure the report lacks is an error when required, else skipped; path
// is the JSON path of the fields, for errors.
func (s *Set) addFields(k Key, path string, fields []reportField, div float64, required bool) error {
	for _, f := range fields {
		v, ok, err := f.value(path)
		if err != nil {
			return err
		}
		if !ok {
			if required {
				return fmt.Errorf("field %q is missing", path+f.field)
			}
			continue
		}
		k.Metric = f.metric
		unit, hib := MetricInfo(f.metric)
		s.Add(k, unit, hib, v/div)
	}
	return nil
}

// value returns the figure; ok is false when it is absent, and the error
// names the field (after path, its JSON path's prefix) when it is not a
// finite value ≥ 0.
func (f reportField) value(path string) (v float64, ok bool, err error) {
	if f.v == nil {
		return 0, false, nil
	}
	if !isFinite(*f.v) || *f.v < 0 {
		return 0, true, fmt.Errorf("field %q is %v, want a finite value ≥ 0", path+f.field, *f.v)
	}
	return *f.v, true, nil
}

// hyperfineExport is hyperfine's --export-json output.
type hyperfineExport struct {
	Results []struct {
		Command *string   `json:"command"`
		Times   []float64 `json:"times"`
	} `json:"results"`
}

// readHyperfine reads a hyperfine --export-json file: scenario = command,
// metric "time" in seconds, one value per timed run.
func readHyperfine(data []byte) (*Set, error) {
	var h hyperfineExport
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, jsondoc.Explain(err)
	}
	s := NewSet()
	for i, r := range h.Results {
		if r.Command == nil || *r.Command == "" {
			return nil, fmt.Errorf("field \"results[%d].command\" is missing or empty", i)
		}
		if len(r.Times) == 0 {
			return nil, fmt.Errorf("field \"results[%d].times\" is missing or empty (hyperfine writes it since v1.7; rerun with a newer hyperfine)", i)
		}
		for j, t := range r.Times {
			if !isFinite(t) || t < 0 {
				return nil, fmt.Errorf("field \"results[%d].times[%d]\" is %v, want a finite time ≥ 0", i, j, t)
			}
			s.Add(Key{*r.Command, NoOperation, "time"}, "s", false, t)
		}
	}
	return s, nil
}

// sortedMapKeys returns the keys of m in canonical operation order first,
// then the rest alphabetically.
func sortedMapKeys[V any](m map[string]V) []string {
	return slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(result.Operations, a), rank(result.Operations, b)), strings.Compare(a, b))
	})
}

func isFinite(v float64) bool {
	return v == v && v-v == 0
}
