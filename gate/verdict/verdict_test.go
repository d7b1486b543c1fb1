package verdict

import (
	"errors"
	"strings"
	"testing"
)

// TestSummaryErr: a pass is no error; each regression outcome is its error,
// and only its own, with the answer line.
func TestSummaryErr(t *testing.T) {
	if err := (Summary{Outcome: OutcomePass, Answer: "no regression"}).Err(); err != nil {
		t.Errorf("pass: %v, want nil", err)
	}
	errs := map[string]error{OutcomeRegression: ErrRegression, OutcomeCompetitiveRegression: ErrCompetitiveRegression}
	for outcome, want := range errs {
		err := Summary{Outcome: outcome, Answer: "1 regressed"}.Err()
		if !errors.Is(err, want) || err.Error() != want.Error()+": 1 regressed" {
			t.Errorf("%s: %v, want %v with the answer line", outcome, err, want)
		}
		for o, other := range errs {
			if o != outcome && errors.Is(err, other) {
				t.Errorf("%s: %v is also %v", outcome, err, other)
			}
		}
	}
}

// TestDecodeConfirmation: a confirmation is read back with its re-run's
// look, and one that contradicts itself — or a gate's look outside its
// plan — is refused, naming the field.
func TestDecodeConfirmation(t *testing.T) {
	const ok = `"confirmation":{"pairs":18,"alpha":0.005,"sequential":{"look":2,"looks":[9,18],"pairs":18,"alpha":0.01,"spent":0.005,"continue":false,"reason":"stopped: regression"},` +
		`"base":{"files":null},"head":{"files":null},"first":{"created_at":"2026-03-14T15:09:26Z","outcome":"regression","pairs":10},` +
		`"comparisons":[{"scenario":"ci/fast","operation":"overall","metric":"p99","confirmed":true,"decision":"regressed","reason":"slower","change":0.1,"ci_low":0.05,"ci_high":0.2,"p_value":0.001,"p_adjusted":0.001}]},`
	tests := []struct {
		name, from, to, err string
	}{
		{"sequential", "", "", ""},
		{"look beyond the plan", `"look":2,`, `"look":3,`, "confirmation.sequential.look is 3, want 1 to 2"},
		{"look 0", `"look":2,`, `"look":0,`, "confirmation.sequential.look is 0"},
		{"confirmed but not regressed", `"confirmed":true,"decision":"regressed"`, `"confirmed":true,"decision":"inconclusive"`, "confirmation.comparisons[0].confirmed is true"},
		{"the gate's look beyond its plan", `"summary":`, `"sequential":{"look":4,"looks":[10,15,20],"pairs":20,"alpha":0.01,"spent":0.0025,"continue":false,"reason":"last look"},"summary":`, "sequential.look is 4, want 1 to 3"},
		{"negative pairs", `"pairs":18,"alpha":0.005`, `"pairs":-1,"alpha":0.005`, "confirmation.pairs is -1"},
	}
	for _, tt := range tests {
		doc := strings.Replace(seedVerdict, `"summary":`, ok+`"summary":`, 1)
		doc = strings.Replace(doc, tt.from, tt.to, 1)
		v, err := Decode(strings.NewReader(doc))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if s := v.Confirmation.Sequential; s == nil || s.Look != 2 || len(s.Looks) != 2 || s.Spent != 0.005 {
			t.Errorf("%s: sequential %+v, want look 2 of 9,18", tt.name, s)
		}
	}
}
