package verdict

import (
	"errors"
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
