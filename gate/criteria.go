package gate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/version"
	"github.com/engram/m18-gate/runners/result"
)

// ReadCriteria reads the success criteria of M18 task documents (the
// m18.result/v1 files m18-run task writes: a "tasks" section and the
// task's checks in "validation"), in file order. A file that is not a task
// document is an error naming it.
func ReadCriteria(paths []string) ([]verdict.Criterion, error) {
	var out []verdict.Criterion
	for _, p := range paths {
		d, err := result.ReadFile(p)
		if err != nil {
			return nil, err
		}
		crit, err := Criteria(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for i := range crit {
			crit[i].File = p
		}
		out = append(out, crit...)
	}
	return out, nil
}

// Criteria returns the criteria of one task document, each with the
// measured value and the limit it was held to: the checks of the task's
// section (tasks.ID.checks), then those of its validation section that the
// task section does not already name (some tasks keep their checks only
// there).
func Criteria(d *result.Document) ([]verdict.Criterion, error) {
	if len(d.Tasks) == 0 {
		return nil, fmt.Errorf("not a task document: no \"tasks\" section (m18-run task ID writes one; plain m18-run results are compared with m18-gate compare)")
	}
	ids := slices.Sorted(maps.Keys(d.Tasks))
	var checks []result.Check
	for _, id := range ids {
		// The section's type is the task's own; its checks share one shape.
		data, err := json.Marshal(d.Tasks[id])
		if err != nil {
			return nil, fmt.Errorf("tasks.%s: %w", id, err)
		}
		var sec struct {
			Checks []result.Check `json:"checks"`
		}
		if err := json.Unmarshal(data, &sec); err != nil {
			return nil, fmt.Errorf("tasks.%s.checks: %w", id, err)
		}
		checks = append(checks, sec.Checks...)
	}
	if d.Validation != nil {
		for _, c := range d.Validation.Checks {
			if !slices.ContainsFunc(checks, func(o result.Check) bool { return o.Name == c.Name }) {
				checks = append(checks, c)
			}
		}
	}
	if len(checks) == 0 {
		return nil, fmt.Errorf("task %s: no checks in \"tasks.%s.checks\" or \"validation.checks\": the task measured no criterion (an interrupted run?)", strings.Join(ids, ", "), ids[0])
	}
	out := make([]verdict.Criterion, 0, len(checks))
	for _, c := range checks {
		out = append(out, verdict.Criterion{
			Task: strings.Join(ids, ","), Scenario: d.Run.Scenario, Name: c.Name,
			Measured: c.Measured, Limit: c.Expected, Passed: c.Passed, Message: c.Message,
		})
	}
	return out, nil
}

// AddCriteria appends task criteria to v and recomputes its summary: a
// failed criterion fails the verdict as an internal regression does.
func AddCriteria(v *verdict.Verdict, crit []verdict.Criterion) {
	v.Criteria = append(v.Criteria, crit...)
	v.Summary = v.Summarize()
}

// NewVerdict is an empty verdict to add criteria to when nothing was
// compared: no comparisons, a passing summary.
func NewVerdict() *verdict.Verdict {
	v := &verdict.Verdict{
		Schema: verdict.SchemaVersion, CreatedAt: time.Now().UTC(), ToolVersion: version.String(),
		Comparisons: []verdict.Comparison{},
	}
	v.Summary = verdict.SummarizeWith(nil, nil, nil)
	return v
}
