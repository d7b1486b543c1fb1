package arrival

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// The M18 production shapes: a compressed daily cycle (Diurnal), bursts
// that arrive as a Poisson process (Bursts), a linear Ramp, a piecewise
// constant Sequence (burst sequences, staircases) and weighted Composites
// of any of these. Each knows its cumulative rate in closed form, and
// Advance inverts it numerically (safeguarded Newton), so a send lands
// where the shape puts it, to the nanosecond.

// Cumulative is a Shape whose integral is known: Cum(t) is the number of
// sends the shape asks for over [0, t]. Every shape of this package is
// one; Composite needs its parts to be.
type Cumulative interface {
	Shape
	// Cum is the integral of Rate over [0, t], in sends.
	Cum(t time.Duration) float64
}

// maxHorizon bounds how far Advance looks for the next send: 100 days.
const maxHorizon = 100 * 24 * 3600.0

// advance returns the earliest t' ≥ t with Cum(t') − Cum(t) = area.
func advance(cum func(float64) float64, rate func(float64) float64, t time.Duration, area float64) (time.Duration, bool) {
	t0 := t.Seconds()
	target := cum(t0) + area
	// Bracket [lo, hi] with cum(lo) < target ≤ cum(hi), doubling from a
	// guess of one gap at the current rate.
	lo := t0
	d := 1e-6
	if r := rate(t0); r > 0 {
		d = area / r
	}
	hi := t0 + d
	for cum(hi) < target {
		lo = hi
		d *= 2
		hi = t0 + d
		if d > maxHorizon {
			return 0, false
		}
	}
	// Safeguarded Newton inside the bracket.
	x := hi
	for i := 0; i < 100 && hi-lo > 1e-10; i++ {
		c := cum(x)
		diff := c - target
		if math.Abs(diff) <= 1e-12*math.Max(1, math.Abs(target)) {
			break
		}
		if diff < 0 {
			lo = x
		} else {
			hi = x
		}
		next := math.NaN()
		if r := rate(x); r > 0 {
			next = x - diff/r
		}
		if !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		x = next
	}
	out := time.Duration(math.Ceil(x * 1e9))
	if out < t {
		out = t
	}
	return out, true
}

// advanceOf is Advance for any Cumulative.
func advanceOf(s Cumulative, t time.Duration, area float64) (time.Duration, bool) {
	return advance(
		func(x float64) float64 { return s.Cum(fromSeconds(x)) },
		func(x float64) float64 { return s.Rate(fromSeconds(x)) },
		t, area)
}

func fromSeconds(x float64) time.Duration { return time.Duration(x * 1e9) }

// Cum implements Cumulative.
func (f Flat) Cum(t time.Duration) float64 { return float64(f) * t.Seconds() }

// Cum implements Cumulative.
func (b Burst) Cum(t time.Duration) float64 {
	n := math.Floor(t.Seconds() / b.Period.Seconds())
	ph := t - time.Duration(n)*b.Period
	d := b.BurstDuration.Seconds()
	per := d*b.BurstRate + (b.Period.Seconds()-d)*b.BaseRate
	return n*per + math.Min(ph.Seconds(), d)*b.BurstRate + math.Max(ph.Seconds()-d, 0)*b.BaseRate
}

// Diurnal is a daily cycle compressed into Cycle: the rate is BaseRate at
// TroughHour, rises along a half cosine to BaseRate × PeakMultiplier at
// PeakHour, and falls back along another half cosine to the next trough.
// Hour 0 is the start of the run. Its mean over a cycle is BaseRate ×
// (1 + PeakMultiplier) / 2, whatever the two hours.
type Diurnal struct {
	BaseRate       float64
	PeakMultiplier float64
	// PeakHour and TroughHour are hours of the day in [0, 24), distinct.
	PeakHour, TroughHour float64
	// Cycle is the length of one compressed day (24 h is real time).
	Cycle time.Duration
}

// Mean is the mean rate over a cycle.
func (d Diurnal) Mean() float64 { return d.BaseRate * (1 + d.PeakMultiplier) / 2 }

// rise is the length, in hours, of the rising half (trough to peak).
func (d Diurnal) rise() float64 { return math.Mod(d.PeakHour-d.TroughHour+48, 24) }

// hour is the hour of the compressed day at t, counted from the trough and
// unwrapped (it keeps growing past 24).
func (d Diurnal) hour(t time.Duration) float64 {
	return math.Mod(24-d.TroughHour, 24) + 24*t.Seconds()/d.Cycle.Seconds()
}

// Rate implements Shape.
func (d Diurnal) Rate(t time.Duration) float64 {
	u := math.Mod(d.hour(t), 24)
	amp := d.BaseRate * (d.PeakMultiplier - 1)
	l1 := d.rise()
	if u < l1 {
		return d.BaseRate + amp*(1-math.Cos(math.Pi*u/l1))/2
	}
	return d.BaseRate + amp*(1+math.Cos(math.Pi*(u-l1)/(24-l1)))/2
}

// g is the integral of the rate, in rate × hours, from the trough over u
// hours (u unwrapped).
func (d Diurnal) g(u float64) float64 {
	amp := d.BaseRate * (d.PeakMultiplier - 1)
	l1 := d.rise()
	l2 := 24 - l1
	cycle := 24*d.BaseRate + amp*12 // each half contributes amp × length / 2
	k := math.Floor(u / 24)
	v := u - 24*k
	var in float64
	if v < l1 {
		in = d.BaseRate*v + amp/2*(v-l1/math.Pi*math.Sin(math.Pi*v/l1))
	} else {
		w := v - l1
		in = d.BaseRate*l1 + amp*l1/2 + d.BaseRate*w + amp/2*(w+l2/math.Pi*math.Sin(math.Pi*w/l2))
	}
	return k*cycle + in
}

// Cum implements Cumulative.
func (d Diurnal) Cum(t time.Duration) float64 {
	secPerHour := d.Cycle.Seconds() / 24
	return (d.g(d.hour(t)) - d.g(d.hour(0))) * secPerHour
}

// Advance implements Shape.
func (d Diurnal) Advance(t time.Duration, area float64) (time.Duration, bool) {
	if d.Mean() <= 0 {
		return 0, false
	}
	return advanceOf(d, t, area)
}

// Ramp rises (or falls) linearly from From to To over Over, then holds To.
type Ramp struct {
	From, To float64
	Over     time.Duration
}

// Rate implements Shape.
func (r Ramp) Rate(t time.Duration) float64 {
	if t >= r.Over {
		return r.To
	}
	return r.From + (r.To-r.From)*t.Seconds()/r.Over.Seconds()
}

// Cum implements Cumulative.
func (r Ramp) Cum(t time.Duration) float64 {
	T := r.Over.Seconds()
	x := math.Min(t.Seconds(), T)
	c := r.From*x + (r.To-r.From)*x*x/(2*T)
	if s := t.Seconds(); s > T {
		c += r.To * (s - T)
	}
	return c
}

// Advance implements Shape.
func (r Ramp) Advance(t time.Duration, area float64) (time.Duration, bool) {
	if r.To <= 0 && (t >= r.Over || r.From <= 0) {
		return 0, false
	}
	return advanceOf(r, t, area)
}

// Segment is one stretch of a Sequence at a constant rate.
type Segment struct {
	Rate     float64
	Duration time.Duration
}

// Sequence is a piecewise-constant rate: its Segments one after the other,
// then After for ever. Burst sequences (2×, 5×, 10× with gaps) and
// staircases (+100 ops/s every minute) are Sequences.
type Sequence struct {
	Segments []Segment
	After    float64
}

// Rate implements Shape.
func (s Sequence) Rate(t time.Duration) float64 {
	var at time.Duration
	for _, g := range s.Segments {
		if t < at+g.Duration {
			return g.Rate
		}
		at += g.Duration
	}
	return s.After
}

// Cum implements Cumulative.
func (s Sequence) Cum(t time.Duration) float64 {
	var at time.Duration
	var c float64
	for _, g := range s.Segments {
		if t < at+g.Duration {
			return c + g.Rate*(t-at).Seconds()
		}
		c += g.Rate * g.Duration.Seconds()
		at += g.Duration
	}
	return c + s.After*(t-at).Seconds()
}

// Length is the total length of the segments.
func (s Sequence) Length() time.Duration {
	var at time.Duration
	for _, g := range s.Segments {
		at += g.Duration
	}
	return at
}

// Advance implements Shape.
func (s Sequence) Advance(t time.Duration, area float64) (time.Duration, bool) {
	if s.After <= 0 {
		if s.Cum(s.Length())-s.Cum(t) < area || t >= s.Length() {
			return 0, false
		}
	}
	return advanceOf(s, t, area)
}

// Bursts are bursts at BurstRate, each lasting Duration, that arrive as a
// Poisson process: the quiet gaps between them (at BaseRate) are
// exponentially distributed with mean MeanGap, drawn from a seed, so the
// same seed gives the same bursts. It is safe for concurrent use.
type Bursts struct {
	BaseRate, BurstRate float64
	Duration, MeanGap   time.Duration

	mu     *sync.Mutex
	rng    *rand.Rand
	starts *[]time.Duration // burst starts, sorted, grown on demand
}

// NewBursts returns Poisson-arriving bursts whose gaps derive from seed.
func NewBursts(base, burst float64, duration, meanGap time.Duration, seed uint64) Bursts {
	return Bursts{BaseRate: base, BurstRate: burst, Duration: duration, MeanGap: meanGap,
		mu: new(sync.Mutex), rng: rand.New(rand.NewPCG(seed, 0xb5ad4eceda1ce2a9)), starts: new([]time.Duration)}
}

// Mean is the long-run mean rate.
func (b Bursts) Mean() float64 {
	d, g := b.Duration.Seconds(), b.MeanGap.Seconds()
	return (b.BurstRate*d + b.BaseRate*g) / (d + g)
}

// Starts returns the start of every burst that begins before t.
func (b Bursts) Starts(t time.Duration) []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.grow(t)
	s := *b.starts
	n := sort.Search(len(s), func(i int) bool { return s[i] >= t })
	return append([]time.Duration(nil), s[:n]...)
}

// grow draws bursts until one starts after t; b.mu is held.
func (b Bursts) grow(t time.Duration) {
	s := *b.starts
	for len(s) == 0 || s[len(s)-1] <= t {
		prevEnd := time.Duration(0)
		if len(s) > 0 {
			prevEnd = s[len(s)-1] + b.Duration
		}
		gap := -math.Log1p(-b.rng.Float64()) * b.MeanGap.Seconds()
		s = append(s, prevEnd+fromSeconds(gap))
	}
	*b.starts = s
}

// burstTime is the time spent in bursts over [0, t].
func (b Bursts) burstTime(t time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.grow(t)
	s := *b.starts
	// Bursts are disjoint and sorted: the ones wholly before t contribute
	// Duration each; at most one is cut by t.
	n := sort.Search(len(s), func(i int) bool { return s[i] >= t })
	if n == 0 {
		return 0
	}
	last := s[n-1]
	return time.Duration(n-1)*b.Duration + min(t-last, b.Duration)
}

// Rate implements Shape.
func (b Bursts) Rate(t time.Duration) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.grow(t)
	s := *b.starts
	n := sort.Search(len(s), func(i int) bool { return s[i] > t })
	if n > 0 && t < s[n-1]+b.Duration {
		return b.BurstRate
	}
	return b.BaseRate
}

// Cum implements Cumulative.
func (b Bursts) Cum(t time.Duration) float64 {
	in := b.burstTime(t).Seconds()
	return b.BurstRate*in + b.BaseRate*(t.Seconds()-in)
}

// Advance implements Shape.
func (b Bursts) Advance(t time.Duration, area float64) (time.Duration, bool) {
	if b.Mean() <= 0 {
		return 0, false
	}
	return advanceOf(b, t, area)
}

// Part is one weighted part of a Composite.
type Part struct {
	Weight float64
	Shape  Cumulative
}

// Composite is a weighted mix of shapes: its rate is Σ wᵢ·rateᵢ(t) / Σ wᵢ,
// so with two parts of weights 0.8 and 0.2 a daily cycle carries 80 % of
// the traffic and bursts on top of it 20 %.
type Composite struct{ Parts []Part }

func (c Composite) total() float64 {
	var w float64
	for _, p := range c.Parts {
		w += p.Weight
	}
	return w
}

// Rate implements Shape.
func (c Composite) Rate(t time.Duration) float64 {
	var r float64
	for _, p := range c.Parts {
		r += p.Weight * p.Shape.Rate(t)
	}
	return r / c.total()
}

// Cum implements Cumulative.
func (c Composite) Cum(t time.Duration) float64 {
	var r float64
	for _, p := range c.Parts {
		r += p.Weight * p.Shape.Cum(t)
	}
	return r / c.total()
}

// Advance implements Shape.
func (c Composite) Advance(t time.Duration, area float64) (time.Duration, bool) {
	if c.total() <= 0 {
		return 0, false
	}
	return advanceOf(c, t, area)
}
