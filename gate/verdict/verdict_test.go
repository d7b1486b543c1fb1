package verdict

import (
	"errors"
	"testing"
)

// TestSummaryErr: a pass is no error; each regression outcome is its error,
// and only its own, with the answer line.
func TestSummaryErr(t *testing.T) {
	tests := []struct {
		outcome string
		want    error
		msg     string
	}{
		{OutcomePass, nil, ""},
		{OutcomeRegression, ErrRegression, "internal regression: 1 regressed"},
		{OutcomeCompetitiveRegression, ErrCompetitiveRegression, "competitive regression: 1 regressed"},
	}
	for _, tt := range tests {
		err := Summary{Outcome: tt.outcome, Answer: "1 regressed"}.Err()
		if tt.want == nil {
			if err != nil {
				t.Errorf("%s: %v, want nil", tt.outcome, err)
			}
			continue
		}
		other := ErrRegression
		if tt.want == ErrRegression {
			other = ErrCompetitiveRegression
		}
		if !errors.Is(err, tt.want) || errors.Is(err, other) || err.Error() != tt.msg {
			t.Errorf("%s: %v, want %q wrapping only %v", tt.outcome, err, tt.msg, tt.want)
		}
	}
}
