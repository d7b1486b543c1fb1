package fit

import (
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// USL is a fit of Gunther's Universal Scalability Law,
//
//	X(k) = λk / (1 + σ(k−1) + κk(k−1)),
//
// to throughputs X measured at concurrencies k: λ is the throughput of one
// (the slope at the origin), σ the contention (the serial share, Amdahl's
// law when κ = 0) and κ the coherency cost (the crosstalk that makes
// throughput fall past a peak). σ and κ are kept ≥ 0.
type USL struct {
	Lambda float64 `json:"lambda"`
	Sigma  float64 `json:"sigma"`
	Kappa  float64 `json:"kappa"`
	// LambdaSE, SigmaSE and KappaSE are the standard errors, from the
	// curvature of the squared relative residuals at the fit (s²·(JᵀJ)⁻¹,
	// J the residuals' Jacobian). NaN when the fit has no degrees of
	// freedom left (as many points as parameters) or JᵀJ is singular.
	LambdaSE float64 `json:"lambda_se"`
	SigmaSE  float64 `json:"sigma_se"`
	KappaSE  float64 `json:"kappa_se"`
	// N is the number of points; DOF = N − parameters fitted (κ is fixed
	// at 0 with two points).
	N   int `json:"n"`
	DOF int `json:"dof"`
	// RMSRelative is the root mean square of (model − measured)/measured.
	RMSRelative float64 `json:"rms_relative"`

	cov *mat.SymDense // covariance of (λ, σ, κ); nil when unknown
}

// At is the model's throughput at concurrency k.
func (u USL) At(k float64) float64 {
	return u.Lambda * k / (1 + u.Sigma*(k-1) + u.Kappa*k*(k-1))
}

// Efficiency is the model's X(k) / (k·X(1)) = 1 / (1 + σ(k−1) + κk(k−1)),
// with its standard error by the delta method (NaN when unknown).
func (u USL) Efficiency(k float64) (e, se float64) {
	e = 1 / (1 + u.Sigma*(k-1) + u.Kappa*k*(k-1))
	se = math.NaN()
	if u.cov != nil {
		g := []float64{0, -(k - 1) * e * e, -k * (k - 1) * e * e}
		var v float64
		for i := range 3 {
			for j := range 3 {
				v += g[i] * u.cov.At(i, j) * g[j]
			}
		}
		se = math.Sqrt(max(v, 0))
	}
	return e, se
}

// ErrTooFewPoints is returned by FitUSL with fewer than two points.
var ErrTooFewPoints = errors.New("fit: the USL needs throughputs at two or more concurrencies")

// FitUSL fits the USL to throughputs x measured at concurrencies k (k ≥ 1,
// x > 0; other pairs are dropped) by least squares on relative residuals,
// so that every point weighs alike whatever its throughput. With two
// points κ is fixed at 0. The minimiser is gonum's Nelder–Mead.
func FitUSL(k, x []float64) (USL, error) {
	return fitUSL(k, x, false)
}

// FitAmdahl is FitUSL with κ fixed at 0: Amdahl's law, X(k) = λk / (1 +
// σ(k−1)), the model to prefer when the fitted κ is not distinguishable
// from 0 (over a few small k the two terms trade off, and a plateau reads
// as some σ and some κ).
func FitAmdahl(k, x []float64) (USL, error) {
	return fitUSL(k, x, true)
}

func fitUSL(k, x []float64, amdahl bool) (USL, error) {
	var ks, xs []float64
	for i := range min(len(k), len(x)) {
		if k[i] >= 1 && x[i] > 0 && !bad(k[i]) && !bad(x[i]) {
			ks, xs = append(ks, k[i]), append(xs, x[i])
		}
	}
	n := len(ks)
	if n < 2 {
		return USL{N: n}, ErrTooFewPoints
	}
	params := 3
	if n == 2 || amdahl {
		params = 2
	}
	// x0 = throughput at the smallest k, per unit of k.
	lam0 := xs[0] / ks[0]
	for i := range ks {
		if ks[i] < ks[0] {
			lam0 = xs[i] / ks[i]
		}
	}
	model := func(p []float64) USL {
		u := USL{Lambda: p[0], Sigma: max(p[1], 0)}
		if params == 3 {
			u.Kappa = max(p[2], 0)
		}
		return u
	}
	ssr := func(u USL) float64 {
		var s float64
		for i := range ks {
			r := (u.At(ks[i]) - xs[i]) / xs[i]
			s += r * r
		}
		return s
	}
	prob := optimize.Problem{Func: func(p []float64) float64 {
		if p[0] <= 0 {
			return math.Inf(1)
		}
		// The clamp keeps σ, κ ≥ 0; the penalty leads the simplex back.
		pen := 0.0
		for _, v := range p[1:] {
			if v < 0 {
				pen += v * v
			}
		}
		return ssr(model(p)) + pen
	}}
	init := []float64{lam0, 0.05, 0.001}[:params]
	var best *optimize.Result
	// Two starts: near-linear and strongly contended; keep the better.
	for _, start := range [][]float64{init, {lam0, 0.5, 0.01}} {
		res, err := optimize.Minimize(prob, start[:params], &optimize.Settings{MajorIterations: 20000, Converger: &optimize.FunctionConverge{Absolute: 1e-14, Iterations: 200}}, &optimize.NelderMead{})
		if err != nil && res == nil {
			continue
		}
		if best == nil || res.F < best.F {
			best = res
		}
	}
	if best == nil {
		return USL{N: n}, errors.New("fit: the USL minimisation failed")
	}
	u := model(best.X)
	u.N, u.DOF = n, n-params
	u.RMSRelative = math.Sqrt(ssr(u) / float64(n))
	u.LambdaSE, u.SigmaSE, u.KappaSE = math.NaN(), math.NaN(), math.NaN()
	if u.DOF > 0 {
		u.cov = uslCovariance(u, ks, xs, params, ssr(u)/float64(u.DOF))
		if u.cov != nil {
			u.LambdaSE = math.Sqrt(u.cov.At(0, 0))
			u.SigmaSE = math.Sqrt(u.cov.At(1, 1))
			u.KappaSE = math.Sqrt(u.cov.At(2, 2))
		}
	}
	return u, nil
}

// uslCovariance is s²·(JᵀJ)⁻¹ over the fitted parameters (a zero row and
// column for κ when it was fixed), J the Jacobian of the relative
// residuals by central differences; nil when JᵀJ is singular.
func uslCovariance(u USL, ks, xs []float64, params int, s2 float64) *mat.SymDense {
	n := len(ks)
	p := []float64{u.Lambda, u.Sigma, u.Kappa}
	J := mat.NewDense(n, params, nil)
	for j := range params {
		h := 1e-6 * max(math.Abs(p[j]), 1e-3)
		up, dn := slices.Clone(p), slices.Clone(p)
		up[j] += h
		dn[j] -= h
		mu := USL{Lambda: up[0], Sigma: up[1], Kappa: up[2]}
		md := USL{Lambda: dn[0], Sigma: dn[1], Kappa: dn[2]}
		for i := range n {
			J.Set(i, j, (mu.At(ks[i])-md.At(ks[i]))/(2*h)/xs[i])
		}
	}
	var jtj mat.SymDense
	jtj.SymOuterK(1, J.T())
	var inv mat.Dense
	if err := inv.Inverse(&jtj); err != nil {
		return nil
	}
	cov := mat.NewSymDense(3, nil)
	for i := range params {
		for j := i; j < params; j++ {
			cov.SetSym(i, j, s2*inv.At(i, j))
		}
	}
	for i := range params {
		if cov.At(i, i) < 0 || bad(cov.At(i, i)) {
			return nil
		}
	}
	return cov
}
