package arrival

import (
	"math"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/scenario"
)

// numericCum integrates Rate with the midpoint rule: the reference that
// Cum's closed forms are checked against.
func numericCum(s Shape, t time.Duration, steps int) float64 {
	h := t / time.Duration(steps)
	var c float64
	for i := 0; i < steps; i++ {
		c += s.Rate(time.Duration(i)*h+h/2) * h.Seconds()
	}
	return c
}

func testShapes() map[string]Cumulative {
	return map[string]Cumulative{
		"flat":     Flat(250),
		"periodic": Burst{BaseRate: 100, BurstRate: 900, BurstDuration: 2 * time.Second, Period: 7 * time.Second},
		"diurnal":  Diurnal{BaseRate: 100, PeakMultiplier: 4, PeakHour: 14, TroughHour: 4, Cycle: 24 * time.Second},
		"diurnal wrapped hours": Diurnal{BaseRate: 50, PeakMultiplier: 3, PeakHour: 2, TroughHour: 20,
			Cycle: 10 * time.Second},
		"bursts":   NewBursts(100, 1000, time.Second, 3*time.Second, 7),
		"ramp up":  Ramp{From: 100, To: 900, Over: 20 * time.Second},
		"ramp off": Ramp{From: 400, To: 0, Over: 30 * time.Second},
		"sequence": SequenceOf(scenario.Arrival{BaseRate: 100, Multipliers: []float64{2, 5, 10}, BurstDurationSec: 2, GapSec: 3}),
		"composite": Composite{Parts: []Part{
			{Weight: 0.8, Shape: Diurnal{BaseRate: 100, PeakMultiplier: 3, PeakHour: 12, TroughHour: 0, Cycle: 20 * time.Second}},
			{Weight: 0.2, Shape: NewBursts(100, 1000, time.Second, 4*time.Second, 3)},
		}},
	}
}

func TestCumMatchesIntegralOfRate(t *testing.T) {
	for name, s := range testShapes() {
		t.Run(name, func(t *testing.T) {
			for _, at := range []time.Duration{0, 1500 * time.Millisecond, 7 * time.Second, 23*time.Second + 3*time.Millisecond, 61 * time.Second} {
				want := numericCum(s, at, 200_000)
				got := s.Cum(at)
				// The midpoint rule is exact for piecewise-constant rates up
				// to the steps cut by a jump; within 0.05 % or 0.1 send.
				if math.Abs(got-want) > math.Max(5e-4*want, 0.1) {
					t.Errorf("Cum(%v) = %.3f, ∫Rate = %.3f", at, got, want)
				}
			}
		})
	}
}

func TestAdvanceInvertsCum(t *testing.T) {
	for name, s := range testShapes() {
		t.Run(name, func(t *testing.T) {
			for _, at := range []time.Duration{0, 900 * time.Millisecond, 13 * time.Second} {
				for _, area := range []float64{1e-9, 0.37, 1, 55.5} {
					next, ok := s.Advance(at, area)
					if !ok {
						t.Fatalf("Advance(%v, %g) never reached", at, area)
					}
					got := s.Cum(next) - s.Cum(at)
					// Within a nanosecond's worth of sends at the peak rate.
					if math.Abs(got-area) > 1e-6 {
						t.Errorf("Advance(%v, %g) = %v: integral %.9f", at, area, next, got)
					}
				}
			}
		})
	}
}

func TestDiurnalShape(t *testing.T) {
	d := Diurnal{BaseRate: 100, PeakMultiplier: 5, PeakHour: 15, TroughHour: 3, Cycle: 24 * time.Second}
	hour := func(h float64) time.Duration { return time.Duration(h * float64(time.Second)) } // 1 h = 1 s here
	for _, c := range []struct {
		h    float64
		want float64
	}{{3, 100}, {15, 500}, {9, 300}, {21, 300}, {27, 100}} {
		if got := d.Rate(hour(c.h)); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("rate at hour %g = %g, want %g", c.h, got, c.want)
		}
	}
	// Mean over whole cycles is base × (1 + multiplier) / 2.
	if got := d.Cum(72*time.Second) / 72; math.Abs(got-d.Mean()) > 1e-9 {
		t.Errorf("mean over 3 cycles %g, want %g", got, d.Mean())
	}
}

func TestBurstsArriveAsPoisson(t *testing.T) {
	b := NewBursts(10, 100, 2*time.Second, 8*time.Second, 42)
	horizon := 20000 * time.Second
	starts := b.Starts(horizon)
	// About horizon / (duration + mean gap) bursts: 2000 ± a few σ.
	n := float64(len(starts))
	if math.Abs(n-2000) > 5*math.Sqrt(2000) {
		t.Fatalf("%d bursts in %v, want about 2000", len(starts), horizon)
	}
	// Gaps are exponential: mean 8 s, standard deviation 8 s.
	var sum, sum2 float64
	prevEnd := time.Duration(0)
	for _, s := range starts {
		g := (s - prevEnd).Seconds()
		sum += g
		sum2 += g * g
		prevEnd = s + 2*time.Second
	}
	mean := sum / n
	sd := math.Sqrt(sum2/n - mean*mean)
	if math.Abs(mean-8) > 5*8/math.Sqrt(n) || math.Abs(sd-8) > 1 {
		t.Errorf("gaps mean %.2f s sd %.2f s, want 8 and 8", mean, sd)
	}
	// The same seed gives the same bursts.
	again := NewBursts(10, 100, 2*time.Second, 8*time.Second, 42).Starts(100 * time.Second)
	for i, s := range again {
		if s != starts[i] {
			t.Fatalf("burst %d at %v, then %v", i, starts[i], s)
		}
	}
}

// TestRegularFollowsShape: regular spacing puts exactly the shape's
// integral in every window, to within one send.
func TestRegularFollowsShape(t *testing.T) {
	for name, s := range testShapes() {
		t.Run(name, func(t *testing.T) {
			horizon := 40 * time.Second
			got := counts(Offsets(Regular{s}, horizon, 1_000_000), time.Second, horizon)
			for k, c := range got {
				want := s.Cum(time.Duration(k+1)*time.Second) - s.Cum(time.Duration(k)*time.Second)
				if math.Abs(c-want) > 1.01 {
					t.Errorf("window %d: %g sends, shape says %.2f", k, c, want)
				}
			}
		})
	}
}

// TestPoissonFollowsShape: Poisson spacing gives per-window counts whose
// deviations from the shape are Poisson noise: χ²/dof near 1 (a process
// that flattened the shape to its mean would score far above).
func TestPoissonFollowsShape(t *testing.T) {
	for name, s := range testShapes() {
		t.Run(name, func(t *testing.T) {
			horizon := 200 * time.Second
			got := counts(Offsets(NewPoisson(s, 99), horizon, 10_000_000), time.Second, horizon)
			var chi2, flat2 float64
			mean := s.Cum(horizon) / horizon.Seconds()
			for k, c := range got {
				want := s.Cum(time.Duration(k+1)*time.Second) - s.Cum(time.Duration(k)*time.Second)
				chi2 += (c - want) * (c - want) / want
				flat2 += (c - mean) * (c - mean) / mean
			}
			dof := float64(len(got))
			// χ² with 200 dof: mean 200, sd 20; 1.4 × dof is 4 σ.
			if chi2/dof > 1.4 || chi2/dof < 0.6 {
				t.Errorf("χ²/dof = %.2f against the shape, want about 1", chi2/dof)
			}
			if name != "flat" && flat2/dof < 3 {
				t.Errorf("χ²/dof against the flat mean = %.2f: the test cannot tell the shape from its mean", flat2/dof)
			}
		})
	}
}

func TestStepsOf(t *testing.T) {
	s, err := StepsOf(scenario.Arrival{Pattern: "steps", FromRate: 100, StepRate: 100, StepSec: 10, MaxRate: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Segments) != 5 || s.Segments[4].Rate != 500 || s.After != 500 || s.Length() != 50*time.Second {
		t.Fatalf("steps = %+v", s)
	}
	if got := s.Rate(25 * time.Second); got != 300 {
		t.Errorf("rate at 25 s = %g, want 300", got)
	}
}

func TestWithMeanRateScalesComposite(t *testing.T) {
	a := scenario.Arrival{Pattern: "composite", Parts: []scenario.Arrival{
		{Pattern: "diurnal", Weight: 3, BaseRate: 100, PeakMultiplier: 3, PeakHour: 12, CycleSec: 60},
		{Pattern: "bursts", Weight: 1, BaseRate: 50, BurstRate: 500, BurstDurationSec: 1, MeanGapSec: 9},
	}}
	m := MeanRate(a) // (3·200 + 1·95) / 4
	if math.Abs(m-695.0/4) > 1e-9 {
		t.Fatalf("mean %g, want %g", m, 695.0/4)
	}
	b := WithMeanRate(a, 2*m)
	if math.Abs(MeanRate(b)-2*m) > 1e-9 || b.Parts[0].PeakMultiplier != 3 || b.Parts[1].BurstRate != 1000 || a.Parts[1].BurstRate != 500 {
		t.Errorf("scaled %+v", b)
	}
}
