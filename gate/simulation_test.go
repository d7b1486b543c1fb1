package gate

import (
	"math/rand/v2"
	"testing"

	"github.com/engram/m18-gate/gate/internal/gatetest"
	"github.com/engram/m18-gate/gate/verdict"
)

// TestSimulatedRates checks the gate's error rates where GATE.md sets them:
// lognormal run-to-run noise of 3 % CV, n = 10 runs per side, one verdict per
// simulated pull request, decided by Compare exactly as m18-gate compare
// decides (exit code from the verdict's outcome).
func TestSimulatedRates(t *testing.T) {
	const (
		verdicts = 2000
		n        = 10
		cv       = 0.03
	)
	tests := []struct {
		name    string
		shift   float64
		atMost  float64 // blocking rate must be ≤ …
		atLeast float64 // … or ≥
	}{
		{"A/A false alarms", 0, 0.01, 0},
		{"3% shift, below the 5% threshold", 0.03, 0.10, 0},
		{"7.5% shift", 0.075, 1, 0.80},
		{"10% shift", 0.10, 1, 0.95},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i)+1, 0x5eed))
			blocked, decisions := 0, map[string]int{}
			for v := range verdicts {
				b, h := one("p50", "ms", false, gatetest.Lognormal(r, 100, cv, n), gatetest.Lognormal(r, 100*(1+tt.shift), cv, n))
				p := testPolicy()
				p.Seed = uint64(v) // independent bootstrap per verdict
				vd, err := Compare(b, h, p)
				if err != nil {
					t.Fatal(err)
				}
				if vd.Summary.ExitCode() != 0 {
					blocked++
				}
				decisions[vd.Comparisons[0].Decision]++
			}
			rate := float64(blocked) / verdicts
			t.Logf("shift %4.1f%%: blocked %d of %d verdicts = %.2f%%; decisions %v", tt.shift*100, blocked, verdicts, rate*100, decisions)
			if rate > tt.atMost || rate < tt.atLeast {
				t.Errorf("blocking rate %.2f%%, want within [%.0f%%, %.0f%%]", rate*100, tt.atLeast*100, tt.atMost*100)
			}
			// Identical builds must mostly be called unchanged or, when n = 10
			// cannot prove ±5 % at 99 %, inconclusive — never improved.
			if tt.shift == 0 && decisions[verdict.Improved] > verdicts/100 {
				t.Errorf("A/A: %d of %d improved", decisions[verdict.Improved], verdicts)
			}
		})
	}
}
