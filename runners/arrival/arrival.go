// Package arrival is the arrival process of a load: when each request is
// intended to be sent. It knows nothing of HTTP or of the engine that sends.
//
// Its opinion: a pattern's shape is part of the workload, not decoration.
// A periodic burst sends at the burst rate during the burst and at the base
// rate between bursts; it is never flattened to its mean rate. A process is a
// Shape (the intended rate over time) and a spacing (Regular or Poisson);
// new patterns (diurnal, ramps, steps, composites) are new Shapes.
package arrival

import (
	"math"
	"math/rand/v2"
	"time"
)

// Pacer is an arrival process, shaped like vegeta's Pacer: given the elapsed
// time and the number of sends scheduled so far, it says how long until the
// next intended send, and whether the process has stopped.
//
// An open-loop engine passes as elapsed the intended time of the previous
// send (not the wall clock), so the schedule never depends on how late the
// generator runs. Pacers may keep state (Poisson draws its next gap) and are
// called once per send, in order, from one goroutine.
type Pacer interface {
	Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool)
	// Rate is the intended rate, in sends per second, at elapsed.
	Rate(elapsed time.Duration) float64
}

// Shape is an intended rate over time: a deterministic intensity function.
type Shape interface {
	// Rate is the intended rate in sends per second at t (≥ 0).
	Rate(t time.Duration) float64
	// Advance returns the earliest t' ≥ t at which the integral of Rate over
	// [t, t'] reaches area (> 0), in sends; ok is false when it never does
	// (the rate is zero from t on).
	Advance(t time.Duration, area float64) (next time.Duration, ok bool)
}

// Regular spaces sends evenly in the shape's cumulative rate: exactly one
// intended send per unit of integrated rate. With a Flat shape it is the
// constant pattern.
type Regular struct{ Shape Shape }

// Pace implements Pacer.
func (r Regular) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits == 0 {
		return firstSend(r.Shape, elapsed)
	}
	next, ok := r.Shape.Advance(elapsed, 1)
	if !ok {
		return 0, true
	}
	return next - elapsed, false
}

// Rate implements Pacer.
func (r Regular) Rate(t time.Duration) float64 { return r.Shape.Rate(t) }

// firstSend schedules the first send at the start (or at the first instant
// the rate is positive), so that a run begins sending at once.
func firstSend(s Shape, elapsed time.Duration) (time.Duration, bool) {
	if s.Rate(elapsed) > 0 {
		return 0, false
	}
	next, ok := s.Advance(elapsed, 1e-9)
	if !ok {
		return 0, true
	}
	return next - elapsed, false
}

// Poisson is a (non-homogeneous) Poisson process over a shape: gaps in the
// shape's cumulative rate are exponentially distributed with mean one send,
// drawn by inverse CDF from a seeded uniform (-ln(1-U)). With a Flat shape it
// is the poisson (and exponential) pattern; over a burst shape, a random
// process that still follows the bursts.
type Poisson struct {
	Shape Shape
	rng   *rand.Rand
}

// NewPoisson returns a Poisson process over s whose gaps derive from seed.
func NewPoisson(s Shape, seed uint64) *Poisson {
	return &Poisson{Shape: s, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

// Pace implements Pacer.
func (p *Poisson) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	area := -math.Log1p(-p.rng.Float64()) // Exp(1) by inverse CDF
	if area <= 0 {
		area = 1e-12
	}
	next, ok := p.Shape.Advance(elapsed, area)
	if !ok {
		return 0, true
	}
	return next - elapsed, false
}

// Rate implements Pacer.
func (p *Poisson) Rate(t time.Duration) float64 { return p.Shape.Rate(t) }

// Flat is a constant rate in sends per second.
type Flat float64

// Rate implements Shape.
func (f Flat) Rate(time.Duration) float64 { return float64(f) }

// Advance implements Shape.
func (f Flat) Advance(t time.Duration, area float64) (time.Duration, bool) {
	if f <= 0 {
		return 0, false
	}
	return t + seconds(area/float64(f)), true
}

// Burst is the periodic_burst shape: BurstRate for the first BurstDuration of
// every Period, BaseRate for the rest of it.
type Burst struct {
	BaseRate, BurstRate float64
	BurstDuration       time.Duration
	Period              time.Duration
}

// Rate implements Shape.
func (b Burst) Rate(t time.Duration) float64 {
	if t%b.Period < b.BurstDuration {
		return b.BurstRate
	}
	return b.BaseRate
}

// Mean is the mean rate over one period.
func (b Burst) Mean() float64 {
	d := b.BurstDuration.Seconds()
	p := b.Period.Seconds()
	return (b.BurstRate*d + b.BaseRate*(p-d)) / p
}

// Advance implements Shape, walking the piecewise-constant segments exactly.
func (b Burst) Advance(t time.Duration, area float64) (time.Duration, bool) {
	if b.BaseRate <= 0 && b.BurstRate <= 0 {
		return 0, false
	}
	// Skip whole periods first, so that a long gap costs O(1).
	if per := b.Mean() * b.Period.Seconds(); per > 0 && area > per {
		n := math.Floor(area / per)
		area -= n * per
		t += time.Duration(n) * b.Period
		if area <= 0 {
			return t, true
		}
	}
	for i := 0; i < 8; i++ { // at most two segments per period, area < one period
		phase := t % b.Period
		var end time.Duration
		rate := b.BaseRate
		if phase < b.BurstDuration {
			rate = b.BurstRate
			end = t - phase + b.BurstDuration
		} else {
			end = t - phase + b.Period
		}
		seg := (end - t).Seconds() * rate
		// Strictly inside the segment; an area used up exactly at its end
		// moves to the start of the next segment with a positive rate, so
		// that no send lands on an instant whose rate is zero.
		if rate > 0 && seg > area {
			return t + seconds(area/rate), true
		}
		area = math.Max(area-seg, 0)
		t = end
	}
	return t, true
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
