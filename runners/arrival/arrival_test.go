package arrival

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/scenario"
)

// counts returns how many offsets fall in each window of width w up to horizon.
func counts(offs []time.Duration, w, horizon time.Duration) []float64 {
	c := make([]float64, int(horizon/w))
	for _, o := range offs {
		if i := int(o / w); i < len(c) {
			c[i]++
		}
	}
	return c
}

func TestConstantIsExact(t *testing.T) {
	p, err := New(scenario.Arrival{Pattern: "constant", Rate: 1000}, 1)
	if err != nil {
		t.Fatal(err)
	}
	offs := Offsets(p, 10*time.Second, 1e6)
	if len(offs) != 10000 {
		t.Fatalf("10 s at 1000/s scheduled %d sends, want 10000", len(offs))
	}
	for i, c := range counts(offs, 100*time.Millisecond, 10*time.Second) {
		if c < 99 || c > 101 {
			t.Errorf("window %d holds %g sends, want 100±1", i, c)
		}
	}
	if offs[0] != 0 {
		t.Errorf("first send at %v, want 0 (start sending at once)", offs[0])
	}
}

func TestPoissonMatchesItsDistribution(t *testing.T) {
	const rate, secs = 2000.0, 50
	p, err := New(scenario.Arrival{Pattern: "poisson", Rate: rate}, 42)
	if err != nil {
		t.Fatal(err)
	}
	offs := Offsets(p, secs*time.Second, 1e7)
	n := float64(len(offs))
	mean := rate * secs
	if math.Abs(n-mean) > 5*math.Sqrt(mean) {
		t.Errorf("total %v sends, want %v ± 5σ (σ=%.0f)", n, mean, math.Sqrt(mean))
	}
	// Gaps: P(gap > 1/rate) = e^-1 for exponential gaps.
	over := 0
	for i := 1; i < len(offs); i++ {
		if (offs[i] - offs[i-1]).Seconds() > 1/rate {
			over++
		}
	}
	frac, want := float64(over)/(n-1), math.Exp(-1)
	if sd := math.Sqrt(want * (1 - want) / n); math.Abs(frac-want) > 5*sd {
		t.Errorf("fraction of gaps above the mean = %.4f, want e^-1 = %.4f ± 5σ (σ=%.4f)", frac, want, sd)
	}
	// Counts per 100 ms window: Poisson, so index of dispersion ≈ 1.
	c := counts(offs, 100*time.Millisecond, secs*time.Second)
	var s, ss float64
	for _, x := range c {
		s += x
		ss += x * x
	}
	k := float64(len(c))
	m := s / k
	v := (ss - s*s/k) / (k - 1)
	// Var of the dispersion index ≈ 2/(k-1) for Poisson counts.
	if d := v / m; math.Abs(d-1) > 5*math.Sqrt(2/(k-1)) {
		t.Errorf("index of dispersion %.3f, want 1 ± 5σ (σ=%.3f): counts are not Poisson", d, math.Sqrt(2/(k-1)))
	}
}

func TestSeededAndExponentialIsPoisson(t *testing.T) {
	a := scenario.Arrival{Pattern: "poisson", Rate: 100}
	p1, _ := New(a, 7)
	p2, _ := New(a, 7)
	p3, _ := New(a, 8)
	a.Pattern = "exponential"
	p4, _ := New(a, 7)
	o1, o2, o3, o4 := Offsets(p1, time.Second*10, 1e6), Offsets(p2, time.Second*10, 1e6), Offsets(p3, time.Second*10, 1e6), Offsets(p4, time.Second*10, 1e6)
	if !slices.Equal(o1, o2) || !slices.Equal(o1, o4) {
		t.Error("same seed gave different schedules (poisson and exponential must be the same process)")
	}
	if slices.Equal(o1, o3) {
		t.Error("different seeds gave the same schedule")
	}
}

// The burst shape is followed, not only its mean (Engram's flaw 5).
func TestPeriodicBurstFollowsTheShape(t *testing.T) {
	a := scenario.Arrival{Pattern: "periodic_burst", BaseRate: 100, BurstRate: 1000, BurstDurationSec: 1, BurstPeriodSec: 5}
	for _, tc := range []struct {
		name  string
		pacer func() Pacer
		tol   func(want float64) float64
	}{
		{"regular", func() Pacer { p, _ := New(a, 1); return p }, func(float64) float64 { return 1 }},
		{"poisson", func() Pacer { b, _ := burstOf(a); return NewPoisson(b, 3) }, func(w float64) float64 { return 5 * math.Sqrt(w) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offs := Offsets(tc.pacer(), 50*time.Second, 1e6)
			for i, c := range counts(offs, time.Second, 50*time.Second) {
				want := 100.0
				if i%5 == 0 {
					want = 1000
				}
				if math.Abs(c-want) > tc.tol(want) {
					t.Errorf("second %d holds %g sends, want %v ± %.0f", i, c, want, tc.tol(want))
				}
			}
		})
	}
	if m := MeanRate(a); math.Abs(m-280) > 1e-9 {
		t.Errorf("mean rate %v, want 280", m)
	}
}

func TestWithMeanRateKeepsShape(t *testing.T) {
	a := scenario.Arrival{Pattern: "periodic_burst", BaseRate: 100, BurstRate: 1000, BurstDurationSec: 1, BurstPeriodSec: 5}
	b := WithMeanRate(a, 560)
	if b.BaseRate != 200 || b.BurstRate != 2000 || MeanRate(b) != 560 {
		t.Errorf("WithMeanRate(280→560) = base %v burst %v mean %v, want 200, 2000, 560", b.BaseRate, b.BurstRate, MeanRate(b))
	}
	c := WithMeanRate(scenario.Arrival{Pattern: "constant", Rate: 10}, 30)
	if c.Rate != 30 {
		t.Errorf("constant rate %v, want 30", c.Rate)
	}
}

func TestBurstLongGapAndZeroBase(t *testing.T) {
	// Zero base rate: sends happen only inside bursts.
	b := Burst{BaseRate: 0, BurstRate: 10, BurstDuration: time.Second, Period: 10 * time.Second}
	offs := Offsets(Regular{b}, 100*time.Second, 1000)
	if len(offs) != 100 {
		t.Fatalf("got %d sends, want 100", len(offs))
	}
	for _, o := range offs {
		if o%(10*time.Second) >= time.Second {
			t.Fatalf("send at %v falls outside a burst", o)
		}
	}
	// A gap worth many periods is skipped in O(1) and lands right.
	next, ok := b.Advance(0, 25)
	if !ok || next != 20*time.Second+500*time.Millisecond {
		t.Errorf("Advance(0, 25) = %v, %v; want 20.5s", next, ok)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		a    scenario.Arrival
		want string
	}{
		{scenario.Arrival{Pattern: "constant", Rate: -5}, "rate must be > 0 (got -5)"},
		{scenario.Arrival{Pattern: "poisson"}, "must be > 0"},
		{scenario.Arrival{Pattern: "weekly", Rate: 1}, `pattern "weekly" is not one of`},
		{scenario.Arrival{Pattern: "diurnal", Rate: 1}, "diurnal needs base_rate > 0"},
		{scenario.Arrival{Pattern: "diurnal", BaseRate: 1, PeakMultiplier: 2, PeakHour: 3, TroughHour: 3, CycleSec: 1}, "must be distinct hours"},
		{scenario.Arrival{Pattern: "bursts", BaseRate: 1, BurstRate: 2, BurstDurationSec: 1}, "mean_gap_sec > 0"},
		{scenario.Arrival{Pattern: "ramp", RampSec: 1}, "not both 0"},
		{scenario.Arrival{Pattern: "steps", FromRate: 200, StepRate: 100, StepSec: 1, MaxRate: 100}, "max_rate ≥ from_rate"},
		{scenario.Arrival{Pattern: "burst_sequence", BaseRate: 1, BurstDurationSec: 1}, "multipliers"},
		{scenario.Arrival{Pattern: "composite"}, "at least one part"},
		{scenario.Arrival{Pattern: "composite", Parts: []scenario.Arrival{{Pattern: "constant", Rate: 1}}}, "weight must be > 0"},
		{scenario.Arrival{Pattern: "periodic_burst", BaseRate: 1, BurstRate: 2}, "burst_period_sec must be > 0"},
		{scenario.Arrival{Pattern: "periodic_burst", BaseRate: 1, BurstRate: 2, BurstDurationSec: 6, BurstPeriodSec: 5}, "burst_duration_sec must be within"},
		{scenario.Arrival{Pattern: "periodic_burst", BurstDurationSec: 1, BurstPeriodSec: 5}, "positive mean"},
	} {
		_, err := New(tc.a, 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) error = %v, want it to contain %q", tc.a, err, tc.want)
		}
	}
}

func BenchmarkPoissonPace(b *testing.B) {
	p := NewPoisson(Flat(1000), 1)
	var t time.Duration
	var i uint64
	for b.Loop() {
		w, _ := p.Pace(t, i)
		t += w
		i++
	}
}
