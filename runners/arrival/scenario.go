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
	case "diurnal", "bursts", "ramp", "steps", "burst_sequence", "composite":
		s, err := ShapeOf(a, seed)
		if err != nil {
			return nil, err
		}
		if a.Spacing == "poisson" {
			return NewPoisson(s, seed), nil
		}
		return Regular{s}, nil
	}
	return nil, fmt.Errorf("[arrival] pattern %q is not one of constant, poisson, exponential, periodic_burst, diurnal, bursts, ramp, steps, burst_sequence, composite", a.Pattern)
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

// MeanRate is the long-run mean rate of a, in sends per second (for the
// M18 patterns, scenario.Arrival.MeanRate: over a cycle, a ramp, a
// staircase or a sequence).
func MeanRate(a scenario.Arrival) float64 {
	switch a.Pattern {
	case "periodic_burst":
		b, err := burstOf(a)
		if err != nil {
			return 0
		}
		return b.Mean()
	case "diurnal", "bursts", "ramp", "steps", "burst_sequence", "composite":
		return a.MeanRate()
	}
	return a.Rate
}

// WithMeanRate returns a scaled so that its mean rate is r, keeping its
// shape: a periodic burst keeps its burst-to-base ratio and timing, a
// daily cycle its multiplier and hours, a composite its weights.
func WithMeanRate(a scenario.Arrival, r float64) scenario.Arrival {
	switch a.Pattern {
	case "constant", "poisson", "exponential", "":
		a.Rate = r
		return a
	}
	m := MeanRate(a)
	if m <= 0 {
		return a
	}
	return scaled(a, r/m)
}

// scaled multiplies every rate of a by f.
func scaled(a scenario.Arrival, f float64) scenario.Arrival {
	a.Rate *= f
	a.BaseRate *= f
	a.BurstRate *= f
	a.FromRate *= f
	a.ToRate *= f
	a.StepRate *= f
	a.MaxRate *= f
	if len(a.Parts) > 0 {
		parts := make([]scenario.Arrival, len(a.Parts))
		for i, p := range a.Parts {
			parts[i] = scaled(p, f)
		}
		a.Parts = parts
	}
	return a
}

// ShapeOf returns the rate over time that a describes (for poisson and
// exponential, their Flat mean): the reference an engine's realised
// per-window counts are compared with. Bursts derive their times from
// seed, as New does.
func ShapeOf(a scenario.Arrival, seed uint64) (Cumulative, error) {
	sec := func(s float64) time.Duration { return seconds(s) }
	switch a.Pattern {
	case "constant", "poisson", "exponential", "":
		if a.Rate <= 0 {
			return nil, fmt.Errorf("[arrival] rate must be > 0 (got %g)", a.Rate)
		}
		return Flat(a.Rate), nil
	case "periodic_burst":
		return burstOf(a)
	case "diurnal":
		d := Diurnal{BaseRate: a.BaseRate, PeakMultiplier: a.PeakMultiplier, PeakHour: a.PeakHour, TroughHour: a.TroughHour, Cycle: sec(a.CycleSec)}
		switch {
		case d.BaseRate <= 0 || d.PeakMultiplier < 1:
			return nil, fmt.Errorf("[arrival] diurnal needs base_rate > 0 and peak_multiplier ≥ 1 (got %g, %g)", a.BaseRate, a.PeakMultiplier)
		case d.Cycle <= 0:
			return nil, fmt.Errorf("[arrival] diurnal cycle_sec must be > 0 (got %g)", a.CycleSec)
		case d.PeakHour < 0 || d.PeakHour >= 24 || d.TroughHour < 0 || d.TroughHour >= 24 || d.PeakHour == d.TroughHour:
			return nil, fmt.Errorf("[arrival] diurnal peak_hour and trough_hour must be distinct hours in [0, 24) (got %g, %g)", a.PeakHour, a.TroughHour)
		}
		return d, nil
	case "bursts":
		if a.BaseRate < 0 || a.BurstRate <= 0 || a.BurstDurationSec <= 0 || a.MeanGapSec <= 0 {
			return nil, fmt.Errorf("[arrival] bursts needs base_rate ≥ 0, burst_rate > 0, burst_duration_sec > 0 and mean_gap_sec > 0 (got %g, %g, %g, %g)",
				a.BaseRate, a.BurstRate, a.BurstDurationSec, a.MeanGapSec)
		}
		return NewBursts(a.BaseRate, a.BurstRate, sec(a.BurstDurationSec), sec(a.MeanGapSec), seed^0x6a09e667f3bcc909), nil
	case "ramp":
		if a.FromRate < 0 || a.ToRate < 0 || a.FromRate+a.ToRate <= 0 || a.RampSec <= 0 {
			return nil, fmt.Errorf("[arrival] ramp needs from_rate, to_rate ≥ 0 (not both 0) and ramp_sec > 0 (got %g, %g, %g)", a.FromRate, a.ToRate, a.RampSec)
		}
		return Ramp{From: a.FromRate, To: a.ToRate, Over: sec(a.RampSec)}, nil
	case "steps":
		s, err := StepsOf(a)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "burst_sequence":
		if a.BaseRate <= 0 || a.BurstDurationSec <= 0 || a.GapSec < 0 || len(a.Multipliers) == 0 {
			return nil, fmt.Errorf("[arrival] burst_sequence needs base_rate > 0, burst_duration_sec > 0, gap_sec ≥ 0 and multipliers (got %g, %g, %g, %v)",
				a.BaseRate, a.BurstDurationSec, a.GapSec, a.Multipliers)
		}
		return SequenceOf(a), nil
	case "composite":
		if len(a.Parts) == 0 {
			return nil, fmt.Errorf("[arrival] composite needs at least one part ([arrival.diurnal] …)")
		}
		var c Composite
		for i, p := range a.Parts {
			if p.Weight <= 0 {
				return nil, fmt.Errorf("[arrival.%s] weight must be > 0 (got %g)", p.Pattern, p.Weight)
			}
			s, err := ShapeOf(p, seed+uint64(i)*0x9e3779b97f4a7c15)
			if err != nil {
				return nil, fmt.Errorf("composite part %s: %w", p.Pattern, err)
			}
			c.Parts = append(c.Parts, Part{Weight: p.Weight, Shape: s})
		}
		return c, nil
	}
	return nil, fmt.Errorf("[arrival] pattern %q has no shape", a.Pattern)
}

// StepsOf returns the staircase of a steps pattern: from_rate for
// step_sec, then + step_rate every step_sec up to max_rate, which it keeps.
func StepsOf(a scenario.Arrival) (Sequence, error) {
	if a.FromRate <= 0 || a.StepRate <= 0 || a.StepSec <= 0 || a.MaxRate < a.FromRate {
		return Sequence{}, fmt.Errorf("[arrival] steps needs from_rate > 0, step_rate > 0, step_sec > 0 and max_rate ≥ from_rate (got %g, %g, %g, %g)",
			a.FromRate, a.StepRate, a.StepSec, a.MaxRate)
	}
	var s Sequence
	for r := a.FromRate; r <= a.MaxRate*(1+1e-9); r += a.StepRate {
		s.Segments = append(s.Segments, Segment{Rate: r, Duration: seconds(a.StepSec)})
		s.After = r
	}
	return s, nil
}

// SequenceOf returns the piecewise-constant rate of a burst_sequence: gap,
// then each burst followed by a gap, then base_rate.
func SequenceOf(a scenario.Arrival) Sequence {
	gap := Segment{Rate: a.BaseRate, Duration: seconds(a.GapSec)}
	s := Sequence{After: a.BaseRate}
	if gap.Duration > 0 {
		s.Segments = append(s.Segments, gap)
	}
	for _, m := range a.Multipliers {
		s.Segments = append(s.Segments, Segment{Rate: a.BaseRate * m, Duration: seconds(a.BurstDurationSec)})
		if gap.Duration > 0 {
			s.Segments = append(s.Segments, gap)
		}
	}
	return s
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
