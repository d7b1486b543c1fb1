package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestEstimateNoise(t *testing.T) {
	// Hand: median 10; deviations 0,1,1,2,30 → median 1 → MAD 1.4826.
	got := EstimateNoise([]float64{10, 9, 11, 8, 40})
	want := Noise{Median: 10, MAD: 1.4826, RobustCV: 0.14826, N: 5}
	if !close(got.Median, want.Median) || !close(got.MAD, want.MAD) || !close(got.RobustCV, want.RobustCV) || got.N != want.N {
		t.Errorf("EstimateNoise = %+v; want %+v", got, want)
	}
	if n := EstimateNoise(nil); n.N != 0 || !math.IsNaN(n.Median) {
		t.Errorf("EstimateNoise(nil) = %+v", n)
	}
	// On lognormal data with σ = 3 %, the robust CV is close to 3 %.
	rng := rand.New(rand.NewPCG(9, 9))
	x := make([]float64, 20000)
	for i := range x {
		x[i] = 50 * math.Exp(0.03*rng.NormFloat64())
	}
	if cv := EstimateNoise(x).RobustCV; math.Abs(cv-0.03) > 0.001 {
		t.Errorf("RobustCV of lognormal(σ=0.03) = %.4f; want 0.030 ± 0.001", cv)
	}
}

func TestMinDetectableEffectShape(t *testing.T) {
	if got := MinDetectableEffect(0.03, 4, 0.01, 0.8); !math.IsInf(got, 1) {
		t.Errorf("n=4 at alpha 0.01: MDE = %v; want +Inf (p < 0.01 unreachable)", got)
	}
	a := MinDetectableEffect(0.03, 10, 0.01, 0.8)
	b := MinDetectableEffect(0.03, 40, 0.01, 0.8)
	if !(a > b && b > 0) {
		t.Errorf("MDE(n=10) = %v, MDE(n=40) = %v; want decreasing and positive", a, b)
	}
	// Large n: the t quantiles approach the normal ones, so the MDE
	// approaches (z_{0.995} + z_{0.8})·cv·√(2π/(3n)).
	n := 100000
	want := (2.5758293035489 + 0.8416212335729) * 0.03 * math.Sqrt(2*math.Pi/(3*float64(n)))
	if got := MinDetectableEffect(0.03, n, 0.01, 0.8); math.Abs(got/want-1) > 1e-3 {
		t.Errorf("MDE(n=%d) = %v; want %v", n, got, want)
	}
	if got := MinDetectableEffect(0.03, 10, 0, 0.8); !math.IsNaN(got) {
		t.Errorf("alpha 0: MDE = %v; want NaN", got)
	}
	if got := MinDetectableEffect(0, 10, 0.01, 0.8); got != 0 {
		t.Errorf("cv 0: MDE = %v; want 0", got)
	}
}

// TestMinDetectableEffectPower checks by seeded simulation that a shift of
// exactly the MDE is detected by MannWhitney at about the requested power.
func TestMinDetectableEffectPower(t *testing.T) {
	trials := 1000
	if testing.Short() {
		trials = 300
	}
	for i, c := range []struct {
		cv    float64
		n     int
		alpha float64
		power float64
	}{
		{0.03, 10, 0.01, 0.80},
		{0.03, 10, 0.05, 0.90},
		{0.02, 20, 0.01, 0.80},
		{0.10, 30, 0.01, 0.95},
		{0.05, 6, 0.01, 0.80},
	} {
		mde := MinDetectableEffect(c.cv, c.n, c.alpha, c.power)
		rng := rand.New(rand.NewPCG(11, uint64(i)))
		hits := 0
		x, y := make([]float64, c.n), make([]float64, c.n)
		for range trials {
			for k := range x {
				x[k] = 100 * math.Exp(c.cv*rng.NormFloat64())
				y[k] = 100 * (1 + mde) * math.Exp(c.cv*rng.NormFloat64())
			}
			r, err := MannWhitney(x, y)
			if err != nil {
				t.Fatal(err)
			}
			if r.P < c.alpha {
				hits++
			}
		}
		got := float64(hits) / float64(trials)
		t.Logf("cv %.2f, n %d, alpha %.2f: MDE %.4f detected %.3f of the time (requested %.2f)", c.cv, c.n, c.alpha, mde, got, c.power)
		if math.Abs(got-c.power) > 0.10 {
			t.Errorf("cv %.2f, n %d, alpha %.2f: power at the MDE %.3f; requested %.2f (±0.10)", c.cv, c.n, c.alpha, got, c.power)
		}
	}
}
