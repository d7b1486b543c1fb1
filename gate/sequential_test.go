package gate

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/result"
)

func TestParseLooks(t *testing.T) {
	tests := []struct {
		in      string
		want    Looks
		wantErr bool
	}{
		{"10,15,20", Looks{10, 15, 20}, false},
		{" 8, 16 ", Looks{8, 16}, false},
		{"10", nil, true},     // one look is a fixed design
		{"10,10", nil, true},  // not increasing
		{"15,10", nil, true},  // decreasing
		{"1,5", nil, true},    // a look of one pair
		{"10,x", nil, true},   // not a number
		{"", nil, true},       // nothing
		{"10,15,", nil, true}, // empty look
		{"5,10,20,40", Looks{5, 10, 20, 40}, false},
	}
	for _, tt := range tests {
		got, err := ParseLooks(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ParseLooks(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != Looks(tt.want).String() {
			t.Errorf("String() = %q", got.String())
		}
	}
}

// TestLooksSpend: linear spending, checked against the parts computed by
// hand: 10,15,20 pairs at alpha 0.01 spend 0.005, 0.0025 and 0.0025.
func TestLooksSpend(t *testing.T) {
	plan := Looks{10, 15, 20}
	tests := []struct {
		n         int
		look      int
		spend     float64
		wantError bool
	}{
		{9, 0, 0, true},
		{10, 1, 0.005, false},
		{12, 1, 0.005, false}, // between looks: the last look reached
		{15, 2, 0.0025, false},
		{20, 3, 0.0025, false},
		{26, 3, 0.0025, false},
	}
	for _, tt := range tests {
		look, spend, err := plan.Spend(0.01, tt.n)
		if (err != nil) != tt.wantError || look != tt.look || math.Abs(spend-tt.spend) > 1e-15 {
			t.Errorf("Spend(0.01, %d) = %d, %v, %v; want %d, %v (error %v)", tt.n, look, spend, err, tt.look, tt.spend, tt.wantError)
		}
	}
	// The parts add up to alpha: the union bound's whole budget.
	sum := 0.0
	for _, n := range plan {
		_, s, _ := plan.Spend(0.01, n)
		sum += s
	}
	if math.Abs(sum-0.01) > 1e-15 {
		t.Errorf("the looks spend %v in all, want alpha 0.01", sum)
	}
}

func TestLooksNeedPairs(t *testing.T) {
	b, h := interleaved(result.MetricP50, "ms", false, spread(100, 0.02, 12), spread(100, 0.02, 12))
	p := testPolicy()
	p.Looks = Looks{10, 20}
	if _, err := Compare(b, h, p); err == nil {
		t.Error("looks without paired: no error")
	}
	p.Paired = true
	v, err := Compare(b, h, p)
	if err != nil {
		t.Fatal(err)
	}
	s := v.Sequential
	if s == nil || s.Look != 1 || s.Pairs != 12 || s.Spent != 0.005 || s.Alpha != 0.01 || v.Alpha != 0.005 {
		t.Fatalf("sequential = %+v (verdict alpha %v), want look 1 at 12 pairs spending 0.005 of 0.01", s, v.Alpha)
	}
}

// TestSequentialSimulation runs the sequential gate as the action does —
// measure the first look's pairs, compare, go on while the verdict asks for
// the next look — on simulated interleaved pairs (15 % drift shared by a
// pair, 5 % noise per run, the cost metric's noise on a shared runner) and
// checks what the design promises: false alarms on A/A within alpha over
// all looks together, a 10 % slowdown found about as often as by the fixed
// design of the last look's pairs, and found with fewer pairs on average.
func TestSequentialSimulation(t *testing.T) {
	const drift, noise = 0.15, 0.05
	plan := Looks{10, 15, 20}
	verdicts := 400
	if testing.Short() {
		verdicts = 100
	}
	for _, metric := range []string{result.MetricP50, result.MetricCPUPerOp} {
		for _, shift := range []float64{0, 0.10} {
			r := rand.New(rand.NewPCG(uint64(shift*100)+7, 0x5e9))
			alarms, fixedAlarms, pairs := 0, 0, 0
			for v := range verdicts {
				base, head := driftPairs(r, plan[len(plan)-1], drift, noise, shift)
				decided := false
				for _, n := range plan {
					b, h := interleaved(metric, "ms", false, base[:n], head[:n])
					p := testPolicy()
					p.Paired, p.Looks, p.Seed = true, plan, uint64(v)
					vd, err := Compare(b, h, p)
					if err != nil {
						t.Fatal(err)
					}
					if vd.Summary.Outcome == verdict.OutcomeRegression {
						alarms++
					}
					if !vd.Sequential.Continue {
						pairs += n
						decided = true
						break
					}
				}
				if !decided {
					t.Fatalf("the last look asked for more pairs")
				}
				// The fixed design on the same pairs, for reference.
				b, h := interleaved(metric, "ms", false, base, head)
				p := testPolicy()
				p.Paired, p.Seed = true, uint64(v)
				vd, err := Compare(b, h, p)
				if err != nil {
					t.Fatal(err)
				}
				if vd.Summary.Outcome == verdict.OutcomeRegression {
					fixedAlarms++
				}
			}
			rate, fixed := float64(alarms)/float64(verdicts), float64(fixedAlarms)/float64(verdicts)
			mean := float64(pairs) / float64(verdicts)
			t.Logf("%s shift %2.0f%%: sequential %v blocked %.1f%% with %.1f pairs on average; fixed 20 pairs blocked %.1f%%",
				metric, shift*100, plan, 100*rate, mean, 100*fixed)
			if shift == 0 && rate > 0.01 {
				t.Errorf("%s A/A: %.1f%% false alarms over all looks, want ≤ 1%%", metric, 100*rate)
			}
			if shift > 0 {
				if rate < 0.90 || rate < fixed-0.05 {
					t.Errorf("%s 10%%: sequential blocked %.1f%%, fixed %.1f%%; want ≥ 90%% and within 5 points of fixed", metric, 100*rate, 100*fixed)
				}
				if mean > 17 {
					t.Errorf("%s 10%%: %.1f pairs on average, want the early looks to stop most gates (≤ 17)", metric, mean)
				}
			}
		}
	}
}
