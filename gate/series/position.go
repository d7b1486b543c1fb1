package series

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/engram/m18-gate/gate/stats"
)

// Standing is Engram's position against a competitor at one Engram run:
// Ratio is Engram's value over the competitor's run nearest in time (at or
// before it when there is one), so that below 1 is Engram faster for a
// latency.
type Standing struct {
	Time       time.Time `json:"time"`
	Label      string    `json:"label,omitempty"`
	Engram     float64   `json:"engram"`
	Competitor float64   `json:"competitor"`
	// CompetitorTime is when the competitor's run it is set against ran.
	CompetitorTime time.Time `json:"competitor_time"`
	Ratio          float64   `json:"ratio"`
}

// Standings pairs every Engram point with the competitor's latest point
// at or before it (else the competitor's first), both series in any order.
// Points with a non-positive value are left out.
func Standings(engram, competitor []Point) []Standing {
	comp := slices.Clone(competitor)
	comp = slices.DeleteFunc(comp, func(p Point) bool { return !(p.Value > 0) })
	slices.SortFunc(comp, func(a, b Point) int { return a.Time.Compare(b.Time) })
	if len(comp) == 0 {
		return nil
	}
	var out []Standing
	for _, e := range engram {
		if !(e.Value > 0) {
			continue
		}
		i, _ := slices.BinarySearchFunc(comp, e.Time, func(p Point, t time.Time) int {
			if p.Time.After(t) {
				return 1
			}
			return -1
		})
		c := comp[max(i-1, 0)]
		out = append(out, Standing{Time: e.Time, Label: e.Label, Engram: e.Value, Competitor: c.Value, CompetitorTime: c.Time, Ratio: e.Value / c.Value})
	}
	slices.SortFunc(out, func(a, b Standing) int { return a.Time.Compare(b.Time) })
	return out
}

// Trend is the direction of Engram's position over a window: the Theil–Sen
// slope of ln(ratio) against time, per week, as a relative change.
type Trend struct {
	// Window is how far back from the last standing the fit reaches; N
	// how many standings it used.
	Window time.Duration `json:"window"`
	N      int           `json:"n"`
	// PerWeek is the fitted relative change of the ratio per week
	// (0.05: the ratio grows 5 % a week), with its interval.
	PerWeek float64 `json:"per_week"`
	Low     float64 `json:"low"`
	High    float64 `json:"high"`
	// Gap is "widening", "closing" or "flat" (the interval holds 0), or
	// "" with too few standings; Words says it in a sentence.
	Gap   string `json:"gap"`
	Words string `json:"words"`
}

// PositionTrend fits the standings of the last window (from the newest
// one back) at the given confidence. higherIsBetter is the metric's
// direction: for a latency a rising ratio is Engram losing ground, for a
// throughput gaining it. The gap is the distance of the ratio from 1:
// widening when the trend moves the ratio away from 1, closing when
// towards it.
func PositionTrend(st []Standing, window time.Duration, confidence float64, higherIsBetter bool) Trend {
	t := Trend{Window: window}
	if len(st) == 0 {
		t.Words = "no standings: nothing to fit"
		return t
	}
	last := st[len(st)-1].Time
	var x, y []float64
	for _, s := range st {
		if last.Sub(s.Time) <= window {
			x = append(x, last.Sub(s.Time).Hours()/-168) // weeks, ≤ 0
			y = append(y, math.Log(s.Ratio))
		}
	}
	t.N = len(x)
	r := stats.TheilSen(x, y, confidence)
	if math.IsNaN(r.Slope) || math.IsInf(r.Low, 0) {
		t.Words = fmt.Sprintf("%d standings in the last %s: too few for a trend at %.0f%% confidence", t.N, window, 100*confidence)
		return t
	}
	t.PerWeek, t.Low, t.High = math.Expm1(r.Slope), math.Expm1(r.Low), math.Expm1(r.High)
	now := math.Log(st[len(st)-1].Ratio)
	ground := "losing"
	if (r.Slope < 0) != higherIsBetter {
		ground = "gaining"
	}
	switch {
	case r.Low <= 0 && r.High >= 0:
		t.Gap = "flat"
		t.Words = fmt.Sprintf("flat: the ratio moves %+.1f%% a week [%+.1f%%, %+.1f%%], an interval that holds no change", 100*t.PerWeek, 100*t.Low, 100*t.High)
		return t
	case (r.Slope > 0) == (now > 0):
		t.Gap = "widening"
	default:
		t.Gap = "closing"
	}
	t.Words = fmt.Sprintf("gap %s: the ratio moves %+.1f%% a week [%+.1f%%, %+.1f%%], Engram %s ground", t.Gap, 100*t.PerWeek, 100*t.Low, 100*t.High, ground)
	return t
}
