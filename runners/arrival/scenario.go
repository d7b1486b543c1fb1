package arrival

import (
	"fmt"
	"time"

	"github.com/engram/m18-gate/runners/scenario"
)

// New returns the arrival process a scenario's [arrival] section describes.
// Random patterns (poisson, exponential) derive their gaps from seed.
//
// Engram names both "poisson" (lambda) and "exponential" (exponential
// inter-arrival times): they are the same process, a Poisson process with
// exponential gaps, and are built identically here.
func New(a scenario.Arrival, seed uint64) (Pacer, error) {
	switch a.Pattern {
	case "constant", "":
		if a.Rate <= 0 {
			return nil, fmt.Errorf("[arrival] rate must be > 0 (got %g)", a.Rate)
		}
		return Regular{Flat(a.Rate)}, nil
	case "poisson", "exponential":
		if a.Rate <= 0 {
			return nil, fmt.Errorf("[arrival] %s rate (lambda) must be > 0 (got %g)", a.Pattern, a.Rate)
		}
		return NewPoisson(Flat(a.Rate), seed), nil
	case "periodic_burst":
		b, err := burstOf(a)
		if err != nil {
			return nil, err
		}
		return Regular{b}, nil
	}
	return nil, fmt.Errorf("[arrival] pattern %q is not one of constant, poisson, exponential, periodic_burst", a.Pattern)
}

func burstOf(a scenario.Arrival) (Burst, error) {
	b := Burst{
		BaseRate:      a.BaseRate,
		BurstRate:     a.BurstRate,
		BurstDuration: seconds(a.BurstDurationSec),
		Period:        seconds(a.BurstPeriodSec),
	}
	switch {
	case b.Period <= 0:
		return b, fmt.Errorf("[arrival] burst_period_sec must be > 0 (got %g)", a.BurstPeriodSec)
	case b.BurstDuration < 0 || b.BurstDuration > b.Period:
		return b, fmt.Errorf("[arrival] burst_duration_sec must be within [0, burst_period_sec] (got %g of %g)", a.BurstDurationSec, a.BurstPeriodSec)
	case b.BaseRate < 0 || b.BurstRate < 0 || b.Mean() <= 0:
		return b, fmt.Errorf("[arrival] base_rate and burst_rate must be ≥ 0 with a positive mean (got %g, %g)", a.BaseRate, a.BurstRate)
	}
	return b, nil
}

// MeanRate is the long-run mean rate of a, in sends per second.
func MeanRate(a scenario.Arrival) float64 {
	if a.Pattern == "periodic_burst" {
		b, err := burstOf(a)
		if err != nil {
			return 0
		}
		return b.Mean()
	}
	return a.Rate
}

// WithMeanRate returns a scaled so that its mean rate is r, keeping its
// shape: a periodic burst keeps its burst-to-base ratio and timing.
func WithMeanRate(a scenario.Arrival, r float64) scenario.Arrival {
	if a.Pattern == "periodic_burst" {
		if m := MeanRate(a); m > 0 {
			a.BaseRate *= r / m
			a.BurstRate *= r / m
		}
		if a.Rate != 0 {
			a.Rate = r
		}
		return a
	}
	a.Rate = r
	return a
}

// Offsets returns the intended send times of p from 0 up to horizon, at most
// max of them: the schedule an engine follows, for tests and plots.
func Offsets(p Pacer, horizon time.Duration, max int) []time.Duration {
	var out []time.Duration
	var t time.Duration
	for n := uint64(0); len(out) < max; n++ {
		wait, stop := p.Pace(t, n)
		if stop {
			break
		}
		t += wait
		if t >= horizon {
			break
		}
		out = append(out, t)
	}
	return out
}
