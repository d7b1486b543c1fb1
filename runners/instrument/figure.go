package instrument

import (
	"fmt"
	"math"
)

// Sources of figures.
const (
	SourcePerf       = "perf"
	SourceC2C        = "perf c2c"
	SourceCachegrind = "cachegrind"
	// SourceCallgrind is valgrind's callgrind: the same cache simulation
	// as cachegrind's, counted between zero and dump in a running process.
	SourceCallgrind  = "callgrind"
	SourceNumaMaps   = "numa_maps"
	SourceNumastat   = "numastat"
	SourceProcStatus = "proc status"
)

// NoCounters is the reason given for every figure that needs hardware
// counters on a runner without them.
const NoCounters = "not measured: no hardware counters on this runner"

// Figure is one measured value with the instrument it came from. A figure
// that was not measured has Measured false, no value and a Note saying why.
type Figure struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value,omitempty"`
	Unit     string  `json:"unit,omitempty"`
	Source   string  `json:"source,omitempty"`
	Measured bool    `json:"measured"`
	// Proxy marks a figure that stands in for the one the criterion names
	// (for example a cachegrind miss-rate ratio for prefetch coverage).
	Proxy bool   `json:"proxy,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Measured returns a measured figure.
func Measured(name string, v float64, unit, source string) Figure {
	return Figure{Name: name, Value: v, Unit: unit, Source: source, Measured: true}
}

// NotMeasured returns a figure that was not measured, with the reason.
func NotMeasured(name, reason string) Figure {
	return Figure{Name: name, Note: reason}
}

// String renders the figure with its source: "d1_hit_rate 0.9871 (cachegrind)"
// or "hitm_share: not measured: no hardware counters on this runner".
func (f Figure) String() string {
	if !f.Measured {
		return fmt.Sprintf("%s: %s", f.Name, f.Note)
	}
	s := fmt.Sprintf("%s %.4g%s (%s", f.Name, f.Value, f.Unit, f.Source)
	if f.Proxy {
		s += ", proxy"
	}
	s += ")"
	if f.Note != "" {
		s += ": " + f.Note
	}
	return s
}

// ratio returns a/b, NaN when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}
