package input

import (
	"errors"
	"fmt"
	"time"

	"github.com/engram/m18-gate/internal/jsondoc"
)

// SamplesSchema is the schema of the custom JSON of samples, for benchmark
// tools m18-gate has no reader for:
//
//	{
//	  "schema": "m18.samples/v1",
//	  "start": "2026-12-06T20:00:00Z",        // optional: when this run started (pairs interleaved runs)
//	  "benchmarks": [
//	    {"name": "parse/small", "metric": "time", "unit": "ns",
//	     "higher_is_better": false, "values": [1520, 1498, 1511]}
//	  ]
//	}
//
// Each value is one sample (one independent run or iteration group); name is
// the scenario, metric defaults to "time", unit to "" and higher_is_better to
// false.
const SamplesSchema = "m18.samples/v1"

type samplesDoc struct {
	Schema     string    `json:"schema"`
	Start      time.Time `json:"start"`
	Benchmarks []struct {
		Name           *string   `json:"name"`
		Metric         string    `json:"metric"`
		Unit           string    `json:"unit"`
		HigherIsBetter bool      `json:"higher_is_better"`
		Values         []float64 `json:"values"`
	} `json:"benchmarks"`
}

// readSamples reads an m18.samples/v1 document (see SamplesSchema).
func readSamples(data []byte) (*Set, error) {
	var d samplesDoc
	if err := jsondoc.Decode(data, SamplesSchema, "an m18 samples document", &d); err != nil {
		return nil, err
	}
	if len(d.Benchmarks) == 0 {
		return nil, errors.New(`field "benchmarks" is missing or empty`)
	}
	s := NewSet()
	for i, b := range d.Benchmarks {
		if b.Name == nil || *b.Name == "" {
			return nil, fmt.Errorf(`field "benchmarks[%d].name" is missing or empty`, i)
		}
		if len(b.Values) == 0 {
			return nil, fmt.Errorf(`field "benchmarks[%d].values" is missing or empty`, i)
		}
		metric := b.Metric
		if metric == "" {
			metric = "time"
		}
		for j, v := range b.Values {
			if !isFinite(v) {
				return nil, fmt.Errorf(`field "benchmarks[%d].values[%d]" is %v, want a finite number`, i, j, v)
			}
			s.AddAt(Key{*b.Name, NoOperation, metric}, b.Unit, b.HigherIsBetter, v, d.Start)
		}
	}
	return s, nil
}
