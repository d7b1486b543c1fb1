package dashboard

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/runners/result"
)

// TaskChart is one criterion of an M18 task over time: leak slope, recovery
// time, breaking point… as measured by each run, with its limit.
type TaskChart struct {
	Scenario, Fingerprint string
	// Task is the task id ("002"), Name the criterion ("002/leak_mb_per_hour").
	Task, Name string
	Points     []TaskPoint
	// Curve, for the scaling task, is the newest run's curve (nodes against
	// p99 and capacity); nil otherwise.
	Curve []CurvePoint
}

// TaskPoint is one run's measurement of a criterion.
type TaskPoint struct {
	Time               time.Time
	Commit, RunID      string
	Measured, Expected float64
	Passed             bool
	Message            string
}

// CurvePoint is one dataset size of a scaling run.
type CurvePoint struct {
	Nodes       int     `json:"nodes"`
	Skipped     bool    `json:"skipped"`
	P99Ms       float64 `json:"p99_ms"`
	CapacityOps float64 `json:"capacity_ops_sec"`
}

// Anchor is the criterion's id on its group's page.
func (t *TaskChart) Anchor() string { return "task-" + render.PathSlug(t.Name) }

// SVGPath is the chart's image, relative to the site root.
func (t *TaskChart) SVGPath() string {
	return "charts/" + render.PathSlug(t.Scenario) + "/" + render.PathSlug(t.Fingerprint) + "/" + t.Anchor() + ".svg"
}

// taskCharts collects every task criterion the documents measured: the
// checks of each task section (Tasks[id].checks) and the validation checks
// named "NNN/…".
func taskCharts(sc, fp string, docs []*result.Document) []*TaskChart {
	byName := map[string]*TaskChart{}
	var curve []CurvePoint
	for _, d := range docs {
		seen := map[string]bool{}
		add := func(task string, c result.Check) {
			name := c.Name
			if !strings.Contains(name, "/") {
				name = task + "/" + name
			}
			if seen[name] {
				return
			}
			seen[name] = true
			tc := byName[name]
			if tc == nil {
				tc = &TaskChart{Scenario: sc, Fingerprint: fp, Task: task, Name: name}
				byName[name] = tc
			}
			tc.Points = append(tc.Points, TaskPoint{Time: d.Run.Start.UTC(), Commit: d.Run.Commit, RunID: d.Run.RunID,
				Measured: c.Measured, Expected: c.Expected, Passed: c.Passed, Message: c.Message})
		}
		for _, id := range slices.Sorted(maps.Keys(d.Tasks)) {
			var sec struct {
				Checks []result.Check `json:"checks"`
				Points []CurvePoint   `json:"points"`
			}
			b, err := json.Marshal(d.Tasks[id])
			if err != nil || json.Unmarshal(b, &sec) != nil {
				continue
			}
			for _, c := range sec.Checks {
				add(id, c)
			}
			if id == "004" && len(sec.Points) > 0 {
				curve = sec.Points // documents are in time order: the newest wins
			}
		}
		if d.Validation != nil {
			for _, c := range d.Validation.Checks {
				if task, _, ok := strings.Cut(c.Name, "/"); ok && len(task) == 3 {
					add(task, c)
				}
			}
		}
	}
	out := slices.SortedFunc(maps.Values(byName), func(a, b *TaskChart) int { return cmp.Compare(a.Name, b.Name) })
	if curve != nil {
		out = append(out, &TaskChart{Scenario: sc, Fingerprint: fp, Task: "004", Name: "004/scaling_curve", Curve: curve})
	}
	return out
}
