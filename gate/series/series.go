// Package series reads the history of a metric — one point per run, from m18
// results or m18.series/v1 files — and finds its change points with
// E-divisive means (stats.EDivisive).
package series

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/internal/jsondoc"
	"github.com/engram/m18-gate/runners/result"
)

// Schema names the series file format Load reads besides m18 results.
const Schema = "m18.series/v1"

// File is an m18.series/v1 document: time-ordered values of one or more
// metrics, for history that does not come as m18 results.
//
//	{"schema": "m18.series/v1", "series": [{"scenario": "ci/fast",
//	  "operation": "overall", "metric": "p99", "unit": "ms",
//	  "points": [{"time": "2025-01-02T03:04:05Z", "label": "abc123", "value": 0.51}, …]}]}
type File struct {
	Schema string   `json:"schema"`
	Series []Series `json:"series"`
}

// Series is the history of one metric: one point per run (or per commit).
type Series struct {
	Scenario  string  `json:"scenario"`
	Operation string  `json:"operation"`
	Metric    string  `json:"metric"`
	Unit      string  `json:"unit,omitempty"`
	Points    []Point `json:"points"`
}

// Point is one value of a series.
type Point struct {
	Time time.Time `json:"time"`
	// Label names the point: a commit, a run id.
	Label string  `json:"label,omitempty"`
	Value float64 `json:"value"`
}

// Load reads m18 result documents and m18.series/v1 files into series.
// A result document contributes one point per scenario: the median over its
// repetitions of metric for operation, at Run.Start, labelled by the commit
// (or run id); metric defaults to p99 and operation to "overall" there.
// Series files are filtered by metric and operation only when those are
// given. Points are ordered by time.
func Load(paths []string, metric, operation string) ([]Series, error) {
	if len(paths) == 0 {
		return nil, errors.New("no series files")
	}
	resMetric, resOp := metric, operation
	if resMetric == "" {
		resMetric = result.MetricP99
	}
	if resOp == "" {
		resOp = result.OpOverall
	}
	byKey := map[input.Key]*Series{}
	add := func(s Series) {
		k := input.Key{Scenario: s.Scenario, Operation: s.Operation, Metric: s.Metric}
		if cur := byKey[k]; cur != nil {
			cur.Points = append(cur.Points, s.Points...)
			return
		}
		cp := s
		byKey[k] = &cp
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		schema, err := jsondoc.Schema(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (want m18 results or an %s file)", p, err, Schema)
		}
		switch schema {
		case Schema:
			var f File
			if err := jsondoc.Decode(data, Schema, "a series file", &f); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			for i, s := range f.Series {
				if s.Scenario == "" || s.Metric == "" {
					return nil, fmt.Errorf("%s: series[%d]: \"scenario\" and \"metric\" must be set", p, i)
				}
				if s.Operation == "" {
					s.Operation = input.NoOperation
				}
				if (metric != "" && s.Metric != metric) || (operation != "" && s.Operation != operation) {
					continue
				}
				for j, pt := range s.Points {
					if math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0) {
						return nil, fmt.Errorf("%s: series[%d].points[%d].value is not finite", p, i, j)
					}
				}
				add(s)
			}
		case result.SchemaVersion:
			doc, err := result.ReadFile(p)
			if err != nil {
				return nil, err
			}
			vals, err := doc.Values(resOp, resMetric)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if len(vals) == 0 {
				continue // this run did not measure the operation
			}
			add(FromRuns(doc.Run.SeriesName(), resOp, resMetric, []Run{{Time: doc.Run.Start, Commit: doc.Run.Commit, RunID: doc.Run.RunID, Values: vals}}))
		default:
			return nil, fmt.Errorf("%s: field \"schema\" is %q; changepoints reads %q results or %q files", p, schema, result.SchemaVersion, Schema)
		}
	}
	if len(byKey) == 0 {
		return nil, fmt.Errorf("no series with metric %q and operation %q in the inputs", resMetric, resOp)
	}
	out := make([]Series, 0, len(byKey))
	for _, k := range slices.SortedFunc(maps.Keys(byKey), input.Key.Compare) {
		s := byKey[k]
		sort.SliceStable(s.Points, func(i, j int) bool { return s.Points[i].Time.Before(s.Points[j].Time) })
		out = append(out, *s)
	}
	return out, nil
}

// Run is one stored run of a metric: when it started, what it measured
// (commit, else run id) and the metric's value in each of its repetitions.
type Run struct {
	Time          time.Time
	Commit, RunID string
	Values        []float64
}

// FromRuns is the series of a metric over runs, in the order given: one
// point per run that has values, the median of its repetitions, labelled by
// the commit's first 12 digits (else the run id). It is how m18 results
// become points, whether read here (Load) or from the history branch
// (m18-history series --json).
func FromRuns(scenario, operation, metric string, runs []Run) Series {
	unit, _ := input.MetricInfo(metric)
	s := Series{Scenario: scenario, Operation: operation, Metric: metric, Unit: unit, Points: []Point{}}
	for _, r := range runs {
		if len(r.Values) == 0 {
			continue // this run did not measure the operation
		}
		label := r.Commit
		if len(label) > 12 {
			label = label[:12]
		}
		if label == "" {
			label = r.RunID
		}
		s.Points = append(s.Points, Point{Time: r.Time, Label: label, Value: stats.Median(r.Values)})
	}
	return s
}

// Encode writes series as an m18.series/v1 document, the format Load reads.
func Encode(w io.Writer, series ...Series) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(File{Schema: Schema, Series: series})
}

// Changes is the E-divisive analysis of one series.
type Changes struct {
	Scenario     string          `json:"scenario"`
	Operation    string          `json:"operation"`
	Metric       string          `json:"metric"`
	Unit         string          `json:"unit,omitempty"`
	Points       int             `json:"points"`
	ChangePoints []ChangePointAt `json:"change_points"`
	// Note says why a series could not be analysed (too short).
	Note string `json:"note,omitempty"`
}

// ChangePointAt is a change point placed in its series.
type ChangePointAt struct {
	// Index is the first point of the new segment.
	Index int       `json:"index"`
	Time  time.Time `json:"time"`
	Label string    `json:"label,omitempty"`
	// PValue is the permutation p-value the split was accepted with.
	PValue float64 `json:"p_value"`
	// Before and After are the segment means either side; Change is
	// After/Before − 1.
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	Change float64 `json:"change"`
	// Recent is set by MarkRecent when the new segment starts among the
	// newest points: a change a nightly job has not alerted about before.
	Recent bool `json:"recent,omitempty"`
}

// MarkRecent sets Recent on every change point whose new segment starts
// among the newest n points of its series, and returns how many it marked.
// A change point is found only once its new segment holds min-size points,
// so n at least min-size means each change is marked on n − min-size + 1
// nights running (default n = 7 with min-size 4: four nightly alerts at
// most, and one missed night does not lose it).
func MarkRecent(all []Changes, n int) int {
	marked := 0
	for i := range all {
		for j := range all[i].ChangePoints {
			cp := &all[i].ChangePoints[j]
			cp.Recent = cp.Index >= all[i].Points-n
			if cp.Recent {
				marked++
			}
		}
	}
	return marked
}

// Recent returns the change points MarkRecent marked, with their series.
func Recent(all []Changes) []Changes {
	var out []Changes
	for _, c := range all {
		var cps []ChangePointAt
		for _, cp := range c.ChangePoints {
			if cp.Recent {
				cps = append(cps, cp)
			}
		}
		if len(cps) > 0 {
			c.ChangePoints = cps
			out = append(out, c)
		}
	}
	return out
}

// ChangePoints runs E-divisive means (stats.EDivisive) over every series.
func ChangePoints(series []Series, o stats.EDivisiveOptions) []Changes {
	out := make([]Changes, 0, len(series))
	minSize := o.MinSize
	if minSize <= 0 {
		minSize = 4
	}
	for _, s := range series {
		sc := Changes{Scenario: s.Scenario, Operation: s.Operation, Metric: s.Metric, Unit: s.Unit, Points: len(s.Points), ChangePoints: []ChangePointAt{}}
		vals := make([]float64, len(s.Points))
		for i, p := range s.Points {
			vals[i] = p.Value
		}
		if len(vals) < 2*minSize {
			sc.Note = fmt.Sprintf("%d points; E-divisive needs at least %d (two segments of %d)", len(vals), 2*minSize, minSize)
		}
		for _, cp := range stats.EDivisive(vals, o) {
			at := ChangePointAt{Index: cp.Index, PValue: cp.PValue, Before: cp.Before, After: cp.After, Change: cp.Change}
			if math.IsNaN(at.Change) || math.IsInf(at.Change, 0) {
				at.Change = 0 // JSON cannot hold it
			}
			if cp.Index >= 0 && cp.Index < len(s.Points) {
				at.Time, at.Label = s.Points[cp.Index].Time, s.Points[cp.Index].Label
			}
			sc.ChangePoints = append(sc.ChangePoints, at)
		}
		out = append(out, sc)
	}
	return out
}

// WriteText writes a text table of the change points.
func WriteText(w io.Writer, all []Changes) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range all {
		fmt.Fprintf(tw, "%s %s %s (%d points)\n", s.Scenario, s.Operation, s.Metric, s.Points)
		if s.Note != "" {
			fmt.Fprintf(tw, "  %s\n", s.Note)
			continue
		}
		if len(s.ChangePoints) == 0 {
			fmt.Fprintf(tw, "  no change points\n")
			continue
		}
		fmt.Fprintf(tw, "  index\ttime\tlabel\tbefore\tafter\tchange\tp\t\n")
		for _, c := range s.ChangePoints {
			t := "-"
			if !c.Time.IsZero() {
				t = c.Time.UTC().Format(time.RFC3339)
			}
			label := c.Label
			if label == "" {
				label = "-"
			}
			recent := ""
			if c.Recent {
				recent = "new"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%.4g\t%.4g\t%+.1f%%\t%.3f\t%s\n", c.Index, t, label, c.Before, c.After, c.Change*100, c.PValue, recent)
		}
	}
	return tw.Flush()
}
