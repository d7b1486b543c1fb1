package gate

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/result"
)

// taskDoc is a task document as m18-run task writes it: a tasks section and
// the task's checks in validation.
func taskDoc(id string, checks ...result.Check) *result.Document {
	start := time.Date(2026, 3, 1, 1, 17, 0, 0, time.UTC)
	passed := true
	for _, c := range checks {
		passed = passed && c.Passed
	}
	return &result.Document{
		Run:        result.Run{Scenario: "tasks/" + id + "_x", RunID: "r-" + id, Start: start, End: start, Commit: "c0ffee", Hardware: result.Fingerprint{Hash: "aaaaaaaaaaaa"}},
		Tasks:      map[string]any{id: map[string]any{"budget": "pr"}},
		Validation: &result.Validation{Passed: passed, Checks: checks},
	}
}

func TestCriteria(t *testing.T) {
	dir := t.TempDir()
	soak := filepath.Join(dir, "task-002.json")
	tails := filepath.Join(dir, "task-006.json")
	plain := filepath.Join(dir, "plain.json")
	write := func(path string, d *result.Document) {
		if err := result.WriteFile(path, d); err != nil {
			t.Fatal(err)
		}
	}
	write(soak, taskDoc("002",
		result.Check{Name: "002/rss_slope_mib_per_h", Measured: 42.5, Expected: 10, Passed: false, Message: "002/rss_slope_mib_per_h FAILED: measured 42.5 MiB/h, expected ≤ 10 MiB/h"},
		result.Check{Name: "002/error_rate", Measured: 0, Expected: 0.01, Passed: true, Message: "002/error_rate ok: measured 0, expected ≤ 0.01"}))
	// Task 006 keeps its checks in its section; its validation holds the
	// scenario's own error-rate check, under a name the section also has.
	tailsDoc := taskDoc("006", result.Check{Name: "error_rate", Measured: 0, Expected: 0.05, Passed: true})
	tailsDoc.Tasks["006"] = map[string]any{"checks": []result.Check{
		{Name: "p99.9_ms", Measured: 31, Expected: 50, Passed: true, Message: "p99.9_ms ok: measured 31 ms, expected ≤ 50 ms"},
		{Name: "error_rate", Measured: 0, Expected: 0.01, Passed: true, Message: "error_rate ok: measured 0, expected ≤ 0.01"},
	}}
	write(tails, tailsDoc)
	plainDoc := taskDoc("006")
	plainDoc.Tasks = nil
	write(plain, plainDoc)

	tests := []struct {
		name          string
		files         []string
		outcome       string
		failed, met   int
		answer, table string
	}{
		{"a failed criterion fails the verdict", []string{tails, soak}, verdict.OutcomeRegression, 1, 3,
			"1 criterion failed · 3 criteria met", "| 002 | 002/rss\\_slope\\_mib\\_per\\_h | 42.5 | 10 | **failed** | measured 42.5 MiB/h, expected ≤ 10 MiB/h |"},
		{"every criterion met passes", []string{tails}, verdict.OutcomePass, 0, 2,
			"no regression · 2 criteria met", "| 006 | error\\_rate | 0 | 0.01 | met | measured 0, expected ≤ 0.01 |"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			crit, err := ReadCriteria(tt.files)
			if err != nil {
				t.Fatal(err)
			}
			v := NewVerdict()
			AddCriteria(v, crit)
			s := v.Summary
			if s.Outcome != tt.outcome || s.CriteriaFailed != tt.failed || s.CriteriaPassed != tt.met || s.Answer != tt.answer {
				t.Errorf("summary %+v, want outcome %s, %d failed, %d met, answer %q", s, tt.outcome, tt.failed, tt.met, tt.answer)
			}
			if got := v.Summary.ExitCode(); (got == 1) != (tt.failed > 0) {
				t.Errorf("exit code %d with %d failed criteria", got, tt.failed)
			}
			md := render.Markdown(v, render.Options{})
			if !strings.Contains(md, tt.table) {
				t.Errorf("markdown lacks %q:\n%s", tt.table, md)
			}
			// The report recomputes the summary of an untrusted verdict:
			// the criteria must still decide it.
			if got := v.Trusted(verdict.Links{}).Summary.Outcome; got != tt.outcome {
				t.Errorf("Trusted outcome %s, want %s", got, tt.outcome)
			}
		})
	}

	crit, err := ReadCriteria([]string{soak})
	if err != nil {
		t.Fatal(err)
	}
	// Failed first, each with its measured value, its limit and its file.
	if c := crit[0]; c.Task != "002" || c.Scenario != "tasks/002_x" || c.Measured != 42.5 || c.Limit != 10 || c.Passed || c.File != soak {
		t.Errorf("criterion %+v", c)
	}
	crit, err = ReadCriteria([]string{tails})
	if err != nil || len(crit) != 2 || crit[1].Name != "error_rate" || crit[1].Limit != 0.01 {
		t.Errorf("task 006 criteria: %+v, %v; want the section's two checks (error_rate with limit 0.01), the validation's duplicate dropped", crit, err)
	}
	if _, err := ReadCriteria([]string{plain}); err == nil || !strings.Contains(err.Error(), "plain.json: not a task document") {
		t.Errorf("a plain result: %v", err)
	}
}
