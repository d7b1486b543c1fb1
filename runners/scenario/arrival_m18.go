package scenario

import (
	"fmt"
	"math"
	"strings"

	"github.com/engram/m18-gate/internal/tomlcheck"
)

// The M18 arrival patterns. Their keys (all rates in requests per second,
// all durations in seconds):
//
//	diurnal        base_rate (at the trough), peak_multiplier (≥ 1),
//	               peak_hour, trough_hour (in [0, 24), distinct),
//	               cycle_sec (one day compressed, default 86400)
//	bursts         base_rate (between bursts, ≥ 0), burst_rate,
//	               burst_duration_sec, mean_gap_sec (bursts arrive as a
//	               Poisson process: exponential quiet gaps of this mean)
//	ramp           from_rate, to_rate (≥ 0, not both 0), ramp_sec
//	steps          from_rate, step_rate, step_sec, max_rate (≥ from_rate)
//	burst_sequence base_rate, multipliers (array, each > 0),
//	               burst_duration_sec, gap_sec (≥ 0, before each burst and
//	               after the last)
//	composite      sub-tables [arrival.<pattern>], each with weight (> 0)
//	               and that pattern's keys; parts may be constant, diurnal,
//	               bursts, ramp, steps, burst_sequence and periodic_burst
//
// Every M18 pattern takes spacing = "regular" (default) or "poisson"; a
// composite's parts share the composite's spacing.

// compositeParts are the patterns a composite may mix, in the order its
// Parts are kept.
var compositeParts = []string{"constant", "diurnal", "bursts", "ramp", "steps", "burst_sequence", "periodic_burst"}

// DefaultCycleSec is diurnal's default cycle_sec: a real day.
const DefaultCycleSec = 86400

func (w *walker) m18Arrival(t *table, p string, keys []string, a *Arrival) {
	need := func(key, hint string) {
		if _, present := t.get(key); !present {
			t.required(key, fmt.Sprintf("pattern %q needs %s; %s", p, strings.Join(withoutSpacing(keys), ", "), hint))
		}
	}
	pos := func(key string, dst *float64, max float64, hint string) {
		if f, ok := t.rangeNum(key, 0, false, max); ok {
			*dst = f
		} else {
			need(key, hint)
		}
	}
	nonNeg := func(key string, dst *float64, max float64, hint string) {
		if f, ok := t.rangeNum(key, 0, true, max); ok {
			*dst = f
		} else {
			need(key, hint)
		}
	}
	if len(t.path) == 1 { // parts share the composite's spacing
		if s, ok := t.str("spacing"); ok {
			if s != "regular" && s != "poisson" {
				w.problem(t.path, "spacing", "must be \"regular\" or \"poisson\" (got %q)", s)
			} else {
				a.Spacing = s
			}
		}
	}
	switch p {
	case "diurnal":
		pos("base_rate", &a.BaseRate, maxRate, "the rate at the trough hour")
		if f, ok := t.rangeNum("peak_multiplier", 1, true, 1000); ok {
			a.PeakMultiplier = f
		} else {
			need("peak_multiplier", "the peak rate is base_rate × peak_multiplier")
		}
		hour := func(key string, dst *float64) bool {
			f, ok := t.number(key)
			if !ok {
				need(key, "an hour of the day in [0, 24)")
				return false
			}
			if f < 0 || f >= 24 {
				w.problem(t.path, key, "must be an hour in [0, 24) (got %s)", num(f))
				return false
			}
			*dst = f
			return true
		}
		okP := hour("peak_hour", &a.PeakHour)
		okT := hour("trough_hour", &a.TroughHour)
		if okP && okT && a.PeakHour == a.TroughHour {
			w.problem(t.path, "trough_hour", "must differ from peak_hour (both %s)", num(a.PeakHour))
		}
		a.CycleSec = DefaultCycleSec
		if _, present := t.get("cycle_sec"); present {
			if f, ok := t.rangeNum("cycle_sec", 0, false, maxSeconds); ok {
				a.CycleSec = f
			}
		}
	case "bursts":
		nonNeg("base_rate", &a.BaseRate, maxRate, "the rate between bursts")
		pos("burst_rate", &a.BurstRate, maxRate, "the rate during a burst")
		pos("burst_duration_sec", &a.BurstDurationSec, maxSeconds, "the length of each burst")
		pos("mean_gap_sec", &a.MeanGapSec, maxSeconds, "the mean quiet time between bursts")
	case "ramp":
		nonNeg("from_rate", &a.FromRate, maxRate, "the rate at the start")
		nonNeg("to_rate", &a.ToRate, maxRate, "the rate at the end of the ramp")
		pos("ramp_sec", &a.RampSec, maxSeconds, "how long the ramp takes")
		_, hasFrom := t.get("from_rate")
		_, hasTo := t.get("to_rate")
		if hasFrom && hasTo && a.FromRate == 0 && a.ToRate == 0 {
			w.problem(t.path, "to_rate", "and from_rate are both 0; give one a positive rate")
		}
	case "steps":
		pos("from_rate", &a.FromRate, maxRate, "the rate of the first step")
		pos("step_rate", &a.StepRate, maxRate, "how much each step adds")
		pos("step_sec", &a.StepSec, maxSeconds, "how long each step lasts")
		pos("max_rate", &a.MaxRate, maxRate, "the rate of the last step")
		if a.MaxRate > 0 && a.FromRate > 0 && a.MaxRate < a.FromRate {
			w.problem(t.path, "max_rate", "must be ≥ from_rate (got %s < %s)", num(a.MaxRate), num(a.FromRate))
		}
		if a.StepRate > 0 && (a.MaxRate-a.FromRate)/a.StepRate > 100_000 {
			w.problem(t.path, "step_rate", "makes more than 100000 steps from from_rate to max_rate; raise it")
		}
	case "burst_sequence":
		pos("base_rate", &a.BaseRate, maxRate, "the rate outside bursts")
		pos("burst_duration_sec", &a.BurstDurationSec, maxSeconds, "the length of each burst")
		nonNeg("gap_sec", &a.GapSec, maxSeconds, "the time at base_rate before each burst and after the last")
		a.Multipliers = w.numbers(t, "multipliers", 1_000_000)
		if _, present := t.get("multipliers"); !present {
			need("multipliers", "e.g. multipliers = [2, 5, 10]")
		}
	case "composite":
		w.composite(t, a)
	}
}

func withoutSpacing(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "spacing" {
			out = append(out, k)
		}
	}
	return out
}

// numbers reads a non-empty array of numbers, each in (0, max].
func (w *walker) numbers(t *table, key string, max float64) []float64 {
	v, present := t.get(key)
	if !present {
		return nil
	}
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		w.problem(t.path, key, "must be a non-empty array of numbers (got %s)", describe(v))
		return nil
	}
	out := make([]float64, 0, len(arr))
	for i, e := range arr {
		f, isNum := tomlcheck.Number(e)
		if !isNum {
			w.problem(t.path, key, "value %d must be a number (got %s)", i+1, describe(e))
			return nil
		}
		if !(f > 0) || f > max || math.IsInf(f, 0) {
			w.problem(t.path, key, "value %d must be in (0, %s] (got %s)", i+1, num(max), num(f))
			return nil
		}
		out = append(out, f)
	}
	return out
}

// composite reads the part tables [arrival.<pattern>].
func (w *walker) composite(t *table, a *Arrival) {
	for _, name := range compositeParts {
		if _, present := t.get(name); !present {
			continue
		}
		sub, ok := t.sub(name)
		if !ok {
			continue
		}
		keys := withoutSpacing(patternKeys[name])
		sub.unknown(append([]string{"weight"}, keys...), nil)
		part := Arrival{Pattern: name}
		if f, ok := sub.rangeNum("weight", 0, false, math.MaxFloat64); ok {
			part.Weight = f
		} else if _, present := sub.get("weight"); !present {
			sub.required("weight", "the part's share of the traffic, e.g. weight = 0.8")
		}
		w.arrivalParams(sub, name, keys, &part)
		a.Parts = append(a.Parts, part)
	}
	if len(a.Parts) == 0 {
		w.problem(t.path, "", "pattern \"composite\" needs at least one part table, e.g. [arrival.diurnal] with weight = 0.8 and the diurnal keys (parts: %s)", strings.Join(compositeParts, ", "))
	}
}

// m18MeanRate is the mean rate of an M18 pattern: over one cycle
// (diurnal), in the long run (bursts), over the ramp, over the staircase or
// the sequence, and the weighted mean of a composite's parts.
func (a Arrival) m18MeanRate() float64 {
	switch a.Pattern {
	case "diurnal":
		return a.BaseRate * (1 + a.PeakMultiplier) / 2
	case "bursts":
		d, g := a.BurstDurationSec, a.MeanGapSec
		if d+g <= 0 {
			return a.BaseRate
		}
		return (a.BurstRate*d + a.BaseRate*g) / (d + g)
	case "ramp":
		return (a.FromRate + a.ToRate) / 2
	case "steps":
		if a.StepRate <= 0 {
			return a.FromRate
		}
		n := math.Floor((a.MaxRate-a.FromRate)/a.StepRate) + 1
		return a.FromRate + a.StepRate*(n-1)/2
	case "burst_sequence":
		total := a.GapSec
		sends := a.BaseRate * a.GapSec
		for _, m := range a.Multipliers {
			total += a.BurstDurationSec + a.GapSec
			sends += a.BaseRate * (m*a.BurstDurationSec + a.GapSec)
		}
		if total <= 0 {
			return a.BaseRate
		}
		return sends / total
	case "composite":
		return weighted(a.Parts, Arrival.MeanRate)
	}
	return a.Rate
}

// m18PeakRate is the highest rate an M18 pattern asks for (for a
// composite, an upper bound).
func (a Arrival) m18PeakRate() float64 {
	switch a.Pattern {
	case "diurnal":
		return a.BaseRate * max(a.PeakMultiplier, 1)
	case "bursts":
		return max(a.BaseRate, a.BurstRate)
	case "ramp":
		return max(a.FromRate, a.ToRate)
	case "steps":
		return max(a.MaxRate, a.FromRate)
	case "burst_sequence":
		m := 1.0
		for _, x := range a.Multipliers {
			m = max(m, x)
		}
		return a.BaseRate * m
	case "composite":
		return weighted(a.Parts, Arrival.PeakRate)
	}
	return a.Rate
}

// weighted is the weighted mean of rate over a composite's parts; 0 when
// the weights do not sum to more than 0.
func weighted(parts []Arrival, rate func(Arrival) float64) float64 {
	var w, r float64
	for _, p := range parts {
		w += p.Weight
		r += p.Weight * rate(p)
	}
	if w <= 0 {
		return 0
	}
	return r / w
}
