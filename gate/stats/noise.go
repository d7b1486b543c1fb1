package stats

import (
	"math"
	"slices"

	moremath "github.com/aclements/go-moremath/stats"

	"gonum.org/v1/gonum/stat/distuv"
)

// madScale turns the median absolute deviation into a consistent estimate of
// the standard deviation for normal data (1/Φ⁻¹(3/4)).
const madScale = 1.4826

// Noise is a robust estimate of the run-to-run noise of one metric, usually
// measured on A/A runs (identical builds).
type Noise struct {
	// Median is the median of the runs.
	Median float64
	// MAD is the median absolute deviation from Median, scaled by 1.4826
	// so that it estimates the standard deviation of normal data.
	MAD float64
	// RobustCV is MAD/|Median|: the noise relative to the level, the
	// quantity MinDetectableEffect takes. It is NaN when
	// Median is 0.
	RobustCV float64
	// N is the number of runs.
	N int
}

// EstimateNoise returns the robust noise estimate of x (one value per run).
// Median and MAD ignore a minority of outlying runs, which is why the gate
// calibrates with them instead of mean and standard deviation. Empty x gives
// NaN fields and N 0.
func EstimateNoise(x []float64) Noise {
	if len(x) == 0 {
		return Noise{Median: math.NaN(), MAD: math.NaN(), RobustCV: math.NaN()}
	}
	med := Median(x)
	dev := make([]float64, len(x))
	for i, v := range x {
		dev[i] = math.Abs(v - med)
	}
	slices.Sort(dev)
	mad := madScale * sortedMedian(dev)
	cv := math.NaN()
	if med != 0 {
		cv = mad / math.Abs(med)
	}
	return Noise{Median: med, MAD: mad, RobustCV: cv, N: len(x)}
}

// MinDetectableEffect returns the smallest relative shift of the median (for
// example 0.05 for 5 %) that MannWhitney with n runs per side detects at
// level alpha with probability power, when the runs have the robust
// coefficient of variation robustCV. The model is multiplicative noise:
// log-normal runs with log-scale standard deviation robustCV, shifted by a
// factor 1+δ, so the MDE is exp(Δ·cv) − 1 for a shift of Δ standard
// deviations on the log scale. For the few-percent noise of performance runs
// that is Δ·cv to within a few percent, and slightly conservative for
// additive (normal) noise.
//
// The textbook shortcut — the t-test's (z_{1−α/2} + z_power)·cv·√(2/n)
// inflated by the Mann–Whitney test's asymptotic relative efficiency 3/π
// (Pitman), i.e. n·3/π effective runs — is an asymptotic, small-effect result;
// at the n a gate uses (5–30 runs) and the effects it can see there (1–2 σ),
// a seeded simulation shows it promises 5–10 points more power than the test
// delivers. So this function solves for the shift with Lehmann's (1975) normal
// approximation of the power of U itself instead: under a shift Δ (in σ),
// U has mean n²·p₁ and variance n²·(p₁(1−p₁) + 2(n−1)(p₂−p₁²)), with
// p₁ = Φ(Δ/√2) and p₂ = ∫φ(x)Φ(Δ−x)²dx, against the exact critical value of
// the test for n ≤ ExactLimit (so the discreteness of small samples counts)
// and the normal one beyond. It tends to the 3/π result as n grows. Normal
// quantiles and CDFs come from gonum's distuv.
//
// It returns +Inf when n is below MinSamplesForAlpha(alpha): the exact test
// cannot reach alpha at all there, whatever the shift. It returns NaN for
// invalid arguments (cv < 0, alpha or power outside (0, 1)).
func MinDetectableEffect(robustCV float64, n int, alpha, power float64) float64 {
	if !(robustCV >= 0) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) {
		return math.NaN()
	}
	if n < MinSamplesForAlpha(alpha) {
		return math.Inf(1)
	}
	return math.Expm1(mdeSigmas(n, alpha, power) * robustCV)
}

// mdeSigmas returns the shift, in standard deviations, that the test detects
// with the given power.
func mdeSigmas(n int, alpha, power float64) float64 {
	crit := criticalU(n, alpha)
	lo, hi := 0.0, 1.0
	for powerAt(hi, n, crit) < power {
		lo, hi = hi, 2*hi
		if hi > 1e6 {
			return math.Inf(1)
		}
	}
	for hi-lo > 1e-7*hi {
		mid := (lo + hi) / 2
		if powerAt(mid, n, crit) < power {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// criticalU returns the smallest U (of head over base) at which a two-sided
// test with n runs per side rejects at level alpha: exact below ExactLimit,
// from the normal approximation with continuity correction beyond.
func criticalU(n int, alpha float64) float64 {
	mn := float64(n) * float64(n)
	sigma0 := math.Sqrt(mn * (2*float64(n) + 1) / 12)
	if n <= ExactLimit {
		// Reject when P = 2·P(U ≤ mn − u) < alpha. Start at the normal
		// approximation's answer and walk to the smallest such u (a few
		// CDF evaluations instead of a bisection's dozen).
		d := moremath.UDist{N1: n, N2: n}
		rejects := func(u int) bool { return u <= int(mn) && 2*d.CDF(mn-float64(u)) < alpha }
		u := int(math.Ceil(mn/2 + 0.5 + distuv.UnitNormal.Quantile(1-alpha/2)*sigma0))
		u = min(max(u, int(mn/2)+1), int(mn)+1)
		for u <= int(mn) && !rejects(u) {
			u++
		}
		for u-1 > int(mn/2) && rejects(u-1) {
			u--
		}
		return float64(u)
	}
	return mn/2 + 0.5 + distuv.UnitNormal.Quantile(1-alpha/2)*sigma0
}

// powerAt is Lehmann's normal approximation to P(U ≥ crit) under a shift of
// delta standard deviations of normal noise, n runs per side.
func powerAt(delta float64, n int, crit float64) float64 {
	nf := float64(n)
	p1 := distuv.UnitNormal.CDF(delta / math.Sqrt2)
	p2 := simpson(func(x float64) float64 {
		c := distuv.UnitNormal.CDF(delta - x)
		return distuv.UnitNormal.Prob(x) * c * c
	}, -9, 9, 120)
	v := nf * nf * (p1*(1-p1) + 2*(nf-1)*(p2-p1*p1))
	mean := nf * nf * p1
	if v <= 0 {
		if mean >= crit {
			return 1
		}
		return 0
	}
	// Continuity correction: U ≥ crit ⇔ U > crit − 0.5.
	return distuv.UnitNormal.Survival((crit - 0.5 - mean) / math.Sqrt(v))
}

// simpson integrates f over [a, b] with k (even) intervals.
func simpson(f func(float64) float64, a, b float64, k int) float64 {
	h := (b - a) / float64(k)
	s := f(a) + f(b)
	for i := 1; i < k; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		s += w * f(a+float64(i)*h)
	}
	return s * h / 3
}
