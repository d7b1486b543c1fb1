package fit

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func TestFitUSLExact(t *testing.T) {
	ks := []float64{1, 2, 4, 8, 16}
	for _, want := range []USL{
		{Lambda: 200, Sigma: 0, Kappa: 0},
		{Lambda: 200, Sigma: 0.5, Kappa: 0},
		{Lambda: 1000, Sigma: 0.05, Kappa: 0.002},
	} {
		xs := make([]float64, len(ks))
		for i, k := range ks {
			xs[i] = want.At(k)
		}
		got, err := FitUSL(ks, xs)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Lambda-want.Lambda) > 1e-3*want.Lambda || math.Abs(got.Sigma-want.Sigma) > 1e-3 || math.Abs(got.Kappa-want.Kappa) > 1e-4 {
			t.Errorf("fit of exact %+v = λ %g σ %g κ %g", want, got.Lambda, got.Sigma, got.Kappa)
		}
		if got.N != 5 || got.DOF != 2 || got.RMSRelative > 1e-4 {
			t.Errorf("fit of exact %+v: n %d dof %d rms %g", want, got.N, got.DOF, got.RMSRelative)
		}
		// Efficiency is the closed form at the fitted parameters.
		e, _ := got.Efficiency(32)
		if we := 1 / (1 + want.Sigma*31 + want.Kappa*32*31); math.Abs(e-we) > 0.01 {
			t.Errorf("efficiency(32) = %g, want %g", e, we)
		}
	}
}

// TestFitUSLStandardErrors checks the reported standard error of σ against
// the spread of σ over many fits of noisy data (a Monte Carlo reference
// computed independently of the curvature the fit uses).
func TestFitUSLStandardErrors(t *testing.T) {
	truth := USL{Lambda: 300, Sigma: 0.1, Kappa: 0.001}
	ks := []float64{1, 2, 4, 8, 16, 32}
	rng := rand.New(rand.NewPCG(1, 2))
	var sigmas, ses []float64
	for range 300 {
		xs := make([]float64, len(ks))
		for i, k := range ks {
			xs[i] = truth.At(k) * (1 + 0.02*rng.NormFloat64())
		}
		u, err := FitUSL(ks, xs)
		if err != nil {
			t.Fatal(err)
		}
		sigmas = append(sigmas, u.Sigma)
		ses = append(ses, u.SigmaSE)
	}
	sd := stat.StdDev(sigmas, nil)
	mean := stat.Mean(sigmas, nil)
	medSE := stat.Quantile(0.5, stat.Empirical, sortedCopy(ses), nil)
	if math.Abs(mean-truth.Sigma) > 3*sd/math.Sqrt(300)+0.01 {
		t.Errorf("mean σ over fits %g, want %g", mean, truth.Sigma)
	}
	if medSE < 0.5*sd || medSE > 2*sd {
		t.Errorf("median reported SE of σ %g, Monte Carlo SD %g: want within a factor of 2", medSE, sd)
	}
}

func TestFitUSLFewPoints(t *testing.T) {
	if _, err := FitUSL([]float64{1}, []float64{100}); !errors.Is(err, ErrTooFewPoints) {
		t.Errorf("one point: err = %v", err)
	}
	// Two points: κ fixed at 0, σ from X(2) = 2λ/(1+σ); no standard error.
	u, err := FitUSL([]float64{1, 2}, []float64{100, 160})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(u.Sigma-0.25) > 1e-3 || u.Kappa != 0 || u.DOF != 0 || !math.IsNaN(u.SigmaSE) {
		t.Errorf("two points: %+v, want σ 0.25, κ 0, no SE", u)
	}
	if _, se := u.Efficiency(16); !math.IsNaN(se) {
		t.Errorf("efficiency SE without degrees of freedom = %g, want NaN", se)
	}
}

func sortedCopy(x []float64) []float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	return s
}

// TestFitAmdahl: on an Amdahl plateau measured at k = 1…4 (σ = 0.6, the
// throughputs 1, 1.25, 1.36, 1.43 × λ, rounded as a climb's grid would)
// the κ = 0 fit finds σ near 0.6 with κ exactly 0 and one more degree of
// freedom than the full fit.
func TestFitAmdahl(t *testing.T) {
	ks := []float64{1, 2, 3, 4}
	xs := []float64{20, 25, 27, 28}
	a, err := FitAmdahl(ks, xs)
	if err != nil {
		t.Fatal(err)
	}
	u, err := FitUSL(ks, xs)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.Sigma-0.6) > 0.08 || a.Kappa != 0 || a.DOF != u.DOF+1 || a.DOF != 2 {
		t.Errorf("Amdahl fit σ %g κ %g dof %d (full fit dof %d); want σ ≈ 0.6, κ = 0, dof 2", a.Sigma, a.Kappa, a.DOF, u.DOF)
	}
	if math.IsNaN(a.SigmaSE) || a.KappaSE != 0 {
		t.Errorf("Amdahl fit standard errors σ %g κ %g; want σ's known and κ's 0", a.SigmaSE, a.KappaSE)
	}
}
