package gate

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/internal/atomicfile"
	"github.com/engram/m18-gate/internal/jsondoc"
	"github.com/engram/m18-gate/internal/version"
)

// CalibrationSchema names the calibration document format.
const CalibrationSchema = "m18.calibration/v1"

// Calibration is the noise floor measured on A/A runs (identical builds on
// one machine): per scenario, operation and metric, how much runs vary, and
// the smallest change the gate can detect with N runs per side.
type Calibration struct {
	Schema      string    `json:"schema"`
	CreatedAt   time.Time `json:"created_at"`
	ToolVersion string    `json:"tool_version"`
	// Files are the A/A results measured.
	Files []string `json:"files"`
	// Fingerprints are the hardware fingerprints of those results; a
	// calibration only describes the machine it was made on.
	Fingerprints []string `json:"fingerprints,omitempty"`
	Hardware     string   `json:"hardware,omitempty"`
	// Alpha, Power and N are what MDE is computed for.
	Alpha   float64            `json:"alpha"`
	Power   float64            `json:"power"`
	N       int                `json:"n"`
	Entries []CalibrationEntry `json:"entries"`
	// Notes say what could not be calibrated, and why.
	Notes []string `json:"notes,omitempty"`
}

// CalibrationEntry is the noise of one (scenario, operation, metric).
type CalibrationEntry struct {
	Scenario  string `json:"scenario"`
	Operation string `json:"operation"`
	Metric    string `json:"metric"`
	Unit      string `json:"unit,omitempty"`
	// Runs is the number of A/A runs measured.
	Runs   int     `json:"runs"`
	Median float64 `json:"median"`
	// MAD is the scaled median absolute deviation (estimates σ), in Unit.
	MAD float64 `json:"mad"`
	// RobustCV is MAD/|Median|; 0 for metrics judged in absolute points.
	RobustCV float64 `json:"robust_cv"`
	// Absolute is true for metrics compared in absolute points (error
	// rate); their MDE is in points (0.01 is one point), not relative.
	Absolute bool `json:"absolute,omitempty"`
	// MDE is the minimum detectable effect with N runs per side at Alpha
	// and Power.
	MDE float64 `json:"mde"`
}

// Key returns the entry's key.
func (e CalibrationEntry) Key() input.Key { return key(e.Scenario, e.Operation, e.Metric) }

// noise is the spread MinDetectableEffect takes: relative, or absolute for
// absolute metrics.
func (e CalibrationEntry) noise() float64 {
	if e.Absolute {
		return e.MAD
	}
	return e.RobustCV
}

// MDEFor returns the minimum detectable effect of this entry's noise with n
// runs per side, or NaN when n is too small for alpha.
func (e CalibrationEntry) MDEFor(n int, alpha, power float64) float64 {
	m := stats.MinDetectableEffect(e.noise(), n, alpha, power)
	if math.IsInf(m, 0) {
		return math.NaN()
	}
	return m
}

// Calibrate measures the noise of every sample in aa (A/A runs pooled) and the
// MDE for n runs per side at alpha and power.
func Calibrate(aa *input.Set, n int, alpha, power float64) (*Calibration, error) {
	if min := stats.MinSamplesForAlpha(alpha); n < min {
		return nil, fmt.Errorf("n = %d runs per side cannot reach p < %v at all; use at least %d", n, alpha, min)
	}
	if !(power > 0 && power < 1) {
		return nil, fmt.Errorf("power must be in (0, 1), got %v", power)
	}
	c := &Calibration{
		Schema:       CalibrationSchema,
		CreatedAt:    time.Now().UTC(),
		ToolVersion:  version.String(),
		Files:        aa.Files,
		Fingerprints: aa.Fingerprints,
		Hardware:     aa.Hardware,
		Alpha:        alpha,
		Power:        power,
		N:            n,
	}
	for _, k := range aa.Keys() {
		s := aa.Samples[k]
		if len(s.Values) < 3 {
			c.Notes = append(c.Notes, fmt.Sprintf("%s: only %d run(s); calibration needs at least 3 (10 or more is better)", k, len(s.Values)))
			continue
		}
		nz := stats.EstimateNoise(s.Values)
		e := CalibrationEntry{
			Scenario: k.Scenario, Operation: k.Operation, Metric: k.Metric, Unit: s.Unit,
			Runs: nz.N, Median: nz.Median, MAD: nz.MAD, RobustCV: nz.RobustCV,
			Absolute: isAbsoluteMetric(k.Metric),
		}
		if e.Absolute {
			e.RobustCV = 0
		} else if math.IsNaN(e.RobustCV) {
			c.Notes = append(c.Notes, fmt.Sprintf("%s: median is 0, so the relative noise is undefined", k))
			continue
		}
		e.MDE = e.MDEFor(n, alpha, power)
		if math.IsNaN(e.MDE) {
			continue
		}
		c.Entries = append(c.Entries, e)
	}
	if len(c.Entries) == 0 {
		return nil, fmt.Errorf("nothing to calibrate: %d series, none with 3 or more runs and a usable median", len(aa.Samples))
	}
	if len(aa.Fingerprints) > 1 {
		c.Notes = append(c.Notes, fmt.Sprintf("the runs come from %d hardware fingerprints %v; noise across machines overstates the noise of one", len(aa.Fingerprints), aa.Fingerprints))
	}
	return c, nil
}

// Lookup returns the entry of k.
func (c *Calibration) Lookup(k input.Key) (CalibrationEntry, bool) {
	if c == nil {
		return CalibrationEntry{}, false
	}
	for _, e := range c.Entries {
		if e.Key() == k {
			return e, true
		}
	}
	return CalibrationEntry{}, false
}

// ReadCalibration reads a calibration document; errors name the path.
func ReadCalibration(path string) (*Calibration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Calibration
	if err := jsondoc.Decode(data, CalibrationSchema, "an m18-gate calibration, made by m18-gate calibrate", &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, e := range c.Entries {
		if e.Scenario == "" || e.Metric == "" {
			return nil, fmt.Errorf("%s: entries[%d]: scenario and metric must be set", path, i)
		}
		if !(e.RobustCV >= 0) || !(e.MAD >= 0) {
			return nil, fmt.Errorf("%s: entries[%d]: robust_cv and mad must be ≥ 0", path, i)
		}
	}
	return &c, nil
}

// WriteCalibration writes c to path as indented JSON, atomically.
func WriteCalibration(path string, c *Calibration) error {
	c.Schema = CalibrationSchema
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o644)
}
