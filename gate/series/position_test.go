package series

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// history plants 4 weeks of daily runs of Engram and a competitor; the
// competitor's latency is flat, Engram's grows by growth a week (0: flat),
// both with multiplicative noise.
func plant(growth float64, seed uint64) (engram, comp []Point) {
	rng := rand.New(rand.NewPCG(seed, 1))
	t0 := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	for d := 0; d < 28; d++ {
		at := t0.Add(time.Duration(d) * 24 * time.Hour)
		noise := func() float64 { return math.Exp(0.05 * rng.NormFloat64()) }
		comp = append(comp, Point{Time: at.Add(-time.Hour), Value: 20 * noise()})
		engram = append(engram, Point{Time: at, Value: 12 * math.Pow(1+growth, float64(d)/7) * noise()})
	}
	return engram, comp
}

func TestPositionTrend(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		// Engram 40 % faster and falling behind 8 % a week: the lead
		// shrinks (the ratio climbs towards 1), the gap closes and Engram
		// loses ground.
		e, c := plant(0.08, seed)
		tr := PositionTrend(Standings(e, c), 28*24*time.Hour, 0.95, false)
		if tr.Gap != "closing" || tr.Low <= 0 || math.Abs(tr.PerWeek-0.08) > 0.04 || tr.N != 28 {
			t.Errorf("seed %d, planted +8%%/week: %+v", seed, tr)
		}
		// Engram slower and getting slower: the gap widens.
		e, c = plant(0.08, seed)
		for i := range e {
			e[i].Value *= 2
		}
		if tr := PositionTrend(Standings(e, c), 28*24*time.Hour, 0.95, false); tr.Gap != "widening" {
			t.Errorf("seed %d, slower and slowing: %+v", seed, tr)
		}
		// Flat history: no trend claimed.
		e, c = plant(0, seed)
		if tr := PositionTrend(Standings(e, c), 28*24*time.Hour, 0.95, false); tr.Gap != "flat" || tr.Low > 0 || tr.High < 0 {
			t.Errorf("seed %d, flat: %+v", seed, tr)
		}
	}
}

func TestStandingsPairsLatestCompetitorRun(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	comp := []Point{{Time: t0.Add(48 * time.Hour), Value: 4}, {Time: t0, Value: 2}}
	eng := []Point{{Time: t0.Add(-time.Hour), Value: 1}, {Time: t0.Add(time.Hour), Value: 1}, {Time: t0.Add(50 * time.Hour), Value: 1}}
	st := Standings(eng, comp)
	want := []float64{0.5, 0.5, 0.25} // before any competitor run: its first
	if len(st) != 3 {
		t.Fatalf("%+v", st)
	}
	for i, s := range st {
		if s.Ratio != want[i] {
			t.Errorf("standing %d: ratio %v, want %v", i, s.Ratio, want[i])
		}
	}
	if tr := PositionTrend(st[:2], 28*24*time.Hour, 0.95, false); tr.Gap != "" {
		t.Errorf("two standings: %+v", tr)
	}
}
