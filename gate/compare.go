package gate

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/version"
	"github.com/engram/m18-gate/runners/result"
)

// CompareFiles loads the base and head files and compares them; see Compare.
func CompareFiles(base, head []string, p Policy) (*verdict.Verdict, error) {
	b, err := input.Load(base...)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	h, err := input.Load(head...)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	return Compare(b, h, p)
}

// Compare decides every (scenario, operation, metric) that base and head both
// measured, and assembles the verdict: comparisons regressions first, what
// was skipped and why, warnings, the summary and the outcome.
//
// It returns an error — a usage or input error, exit code 3 — when the policy
// is invalid, when base and head come from different hardware fingerprints
// (unless p.AllowFingerprintMismatch), or when nothing at all is comparable.
// A regression is not an error: it is the verdict's Summary.Outcome.
func Compare(base, head *input.Set, p Policy) (*verdict.Verdict, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(p.Looks) > 0 {
		return compareLook(base, head, p)
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	v := &verdict.Verdict{
		Schema:               verdict.SchemaVersion,
		CreatedAt:            now().UTC(),
		ToolVersion:          version.String(),
		Alpha:                p.Alpha,
		Threshold:            p.Threshold,
		CompetitiveThreshold: p.CompetitiveThreshold,
		Competitive:          p.Competitive,
		Base:                 side(base),
		Head:                 side(head),
		Comparisons:          []verdict.Comparison{},
	}
	if err := checkFingerprints(base, head, p, v); err != nil {
		return nil, err
	}
	var tier map[string]bool
	if p.Tier != "" {
		list, ok := p.Config.Tier(p.Tier)
		if !ok {
			return nil, fmt.Errorf("tier %q is not defined in the config's [tiers] (known: %s)", p.Tier, strings.Join(tierNames(p.Config), ", "))
		}
		tier = map[string]bool{}
		for _, s := range list {
			tier[s] = true
		}
	}

	// Pair the samples; everything that cannot be paired is a Skip.
	var pairs []*pair
	baseScen, headScen := scenarioSet(base), scenarioSet(head)
	skippedScenario := map[string]bool{}
	ops := operationsByMetric(base, head)
	for _, k := range unionKeys(base, head) {
		if skippedScenario[k.Scenario] {
			continue
		}
		b, h := base.Samples[k], head.Samples[k]
		switch {
		case tier != nil && !tier[k.Scenario]:
			skippedScenario[k.Scenario] = true
			v.Skipped = append(v.Skipped, verdict.Skip{Scenario: k.Scenario, Reason: fmt.Sprintf("not in tier %q of %s", p.Tier, p.Config.Path)})
			continue
		case !headScen[k.Scenario]:
			skippedScenario[k.Scenario] = true
			v.Skipped = append(v.Skipped, verdict.Skip{Scenario: k.Scenario, Reason: "scenario has base results but no head results (did the head run fail or skip it?)"})
			continue
		case !baseScen[k.Scenario]:
			skippedScenario[k.Scenario] = true
			v.Skipped = append(v.Skipped, verdict.Skip{Scenario: k.Scenario, Reason: "scenario has head results but no base results (new scenario?): nothing to compare with"})
			continue
		case b == nil:
			v.Skipped = append(v.Skipped, verdict.Skip{Scenario: k.Scenario, Operation: k.Operation, Metric: k.Metric, Reason: "measured in head only"})
			continue
		case h == nil:
			v.Skipped = append(v.Skipped, verdict.Skip{Scenario: k.Scenario, Operation: k.Operation, Metric: k.Metric, Reason: "measured in base only"})
			continue
		case k.Operation == result.OpOverall && sameAsSoleOperation(base, head, k, ops) != "":
			// With one operation, "overall" is the same requests again: a
			// second comparison of the same numbers would only dilute the
			// false-discovery control of every other one.
			v.Skipped = append(v.Skipped, verdict.Skip{Scenario: k.Scenario, Operation: k.Operation, Metric: k.Metric,
				Reason: "the same requests as " + sameAsSoleOperation(base, head, k, ops) + " (the scenario runs one operation)"})
			continue
		case b.Unit != h.Unit:
			v.Skipped = append(v.Skipped, verdict.Skip{Scenario: k.Scenario, Operation: k.Operation, Metric: k.Metric, Reason: fmt.Sprintf("units differ: base %q, head %q", b.Unit, h.Unit)})
			continue
		}
		rule := p.Rule(k, b.HigherIsBetter)
		if rule.Ignore != "" {
			at := ""
			if rule.Source != nil {
				at = fmt.Sprintf(" (%s:%d)", rule.Source.Path, rule.Source.Line)
			}
			v.Skipped = append(v.Skipped, verdict.Skip{Scenario: k.Scenario, Operation: k.Operation, Metric: k.Metric, Reason: "ignored by config" + at + ": " + rule.Ignore})
			continue
		}
		pairs = append(pairs, &pair{key: k, base: b, head: h, unit: b.Unit, rule: rule})
	}
	if len(pairs) == 0 {
		return nil, nothingComparable(base, head, v.Skipped)
	}

	// Estimate every pair (in parallel: bootstrap intervals dominate).
	estimateAll(pairs, p)

	// Benjamini–Hochberg across every comparison of the verdict, each
	// measurement once: a derived metric follows its primary.
	primary := map[input.Key]*pair{}
	for _, pr := range pairs {
		primary[pr.key] = pr
	}
	var own []*pair
	for _, pr := range pairs {
		if pr.base.DerivedFrom != "" && pr.base.DerivedFrom == pr.head.DerivedFrom {
			if pp := primary[input.Key{Scenario: pr.key.Scenario, Operation: pr.key.Operation, Metric: pr.base.DerivedFrom}]; pp != nil {
				pr.follows = pp
				continue
			}
		}
		own = append(own, pr)
	}
	adjustFamilies(own)
	for _, pr := range own {
		decide(pr, p)
		annotatePairing(pr)
	}
	for _, pr := range pairs {
		if pp := pr.follows; pp != nil {
			pr.c.PAdjusted = pp.c.PAdjusted
			pr.c.Decision, pr.c.Follows, pr.c.RunsNeeded = pp.c.Decision, pp.key.Metric, pp.c.RunsNeeded
			pr.c.Reason = fmt.Sprintf("follows %s: %s is computed from it (the same measurement, counted once there)", pp.key.Metric, pr.key.Metric)
		}
	}

	tooFew, tooFewPaired := 0, 0
	for _, pr := range pairs {
		v.Comparisons = append(v.Comparisons, pr.c)
		if pr.tooFew {
			tooFew++
			if pr.pairs > 0 {
				tooFewPaired++
			}
		}
	}
	if tooFewPaired > 0 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("%d of %d comparisons have too few interleaved pairs to judge: run at least %d pairs (%d recommended)",
			tooFewPaired, len(own), stats.MinSamplesForAlpha(p.Alpha), max(DefaultRepetitions, stats.MinSamplesForAlpha(p.Alpha))))
		tooFew -= tooFewPaired
	}
	if tooFew > 0 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("%d of %d comparisons have too few runs for p < %s to be reachable: run at least %d per side (%d recommended)",
			tooFew, len(own), render.Level(p.Alpha), stats.MinSamplesForAlpha(p.Alpha), max(DefaultRepetitions, stats.MinSamplesForAlpha(p.Alpha))))
	}
	sortComparisons(v.Comparisons)
	slices.SortStableFunc(v.Skipped, func(a, b verdict.Skip) int {
		return key(a.Scenario, a.Operation, a.Metric).Compare(key(b.Scenario, b.Operation, b.Metric))
	})
	v.Summary = summarize(v)
	return v, nil
}

// adjustFamilies sets PAdjusted: Benjamini–Hochberg within each family of
// comparisons, times the number of families (Bonferroni across them), so
// the verdict's false-discovery rate stays within α. The target's cost per
// request (cpu_per_op, instructions_per_op: one or two numbers per run, far
// steadier than latency on a shared machine) is a family of its own, so
// that it is not drowned among the dozens of latency percentiles: with 29
// comparisons in one family its smallest p would be multiplied by 29, in
// its own family by 2.
func adjustFamilies(prs []*pair) {
	families := map[bool][]*pair{}
	for _, pr := range prs {
		cost := isCostMetric(pr.key.Metric)
		families[cost] = append(families[cost], pr)
	}
	k := float64(len(families))
	for _, fam := range families {
		ps := make([]float64, len(fam))
		for i, pr := range fam {
			ps[i] = pr.c.PValue
		}
		for i, a := range stats.BenjaminiHochberg(ps) {
			fam[i].c.PAdjusted = min(1, k*a)
		}
	}
}

// isCostMetric tells the target's cost per request, gated as its own family.
func isCostMetric(metric string) bool {
	return metric == result.MetricCPUPerOp || metric == result.MetricInstructionsPerOp
}

// pair is one comparison in the making.
type pair struct {
	key        input.Key
	base, head *input.Sample
	unit       string
	rule       Rule
	c          verdict.Comparison
	// shift is the Hodges–Lehmann estimate on the scale of Change
	// (relative, or absolute for error rates); NaN when unavailable.
	shift float64
	// noise is the run-to-run spread on the scale of Change, for
	// RunsNeeded; NaN when unknown.
	noise float64
	// mde is the calibrated minimum detectable effect, NaN without one.
	mde float64
	// zeroBase: the base median is 0, so a relative change is undefined.
	zeroBase bool
	tooFew   bool
	// pairs is the number of interleaved pairs a paired comparison used;
	// 0 when it was compared unpaired.
	pairs int
	// unpairedWhy says why Policy.Paired could not pair this comparison.
	unpairedWhy string
	// signedRank: the paired p-value is Wilcoxon's signed-rank test's.
	signedRank bool
	// follows is the primary comparison a derived metric takes its
	// decision from; nil when decided on its own.
	follows *pair
}

func estimateAll(pairs []*pair, p Policy) {
	workers := min(runtime.GOMAXPROCS(0), len(pairs))
	var wg sync.WaitGroup
	next := make(chan *pair)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var bs stats.MedianBootstrap // scratch space, one per worker
			for pr := range next {
				estimate(pr, p, &bs)
			}
		}()
	}
	for _, pr := range pairs {
		next <- pr
	}
	close(next)
	wg.Wait()
}

// estimate fills the numbers of a comparison: medians, change and its
// bootstrap interval, Hodges–Lehmann, the raw p-value, noise and MDE. bs is
// the calling worker's bootstrap scratch space.
func estimate(pr *pair, p Policy, bs *stats.MedianBootstrap) {
	k, x, y := pr.key, pr.base.Values, pr.head.Values
	c := &pr.c
	*c = verdict.Comparison{
		Scenario: k.Scenario, Operation: k.Operation, Metric: k.Metric, Unit: pr.unit,
		HigherIsBetter: pr.rule.HigherIsBetter,
		NBase:          len(x), NHead: len(y),
		Threshold:   pr.rule.Threshold,
		Competitive: pr.rule.Competitive,
		Owners:      pr.rule.Owners,
		Source:      pr.rule.Source,
	}
	c.BaseMedian, c.HeadMedian = stats.Median(x), stats.Median(y)
	c.HodgesLehmann = finite(stats.HodgesLehmann(x, y))
	if mw, err := stats.MannWhitney(x, y); err == nil && !math.IsNaN(mw.P) {
		c.PValue = mw.P
	} else {
		c.PValue = 1
	}
	seed := p.Seed ^ keyHash(k)
	conf := 1 - p.Alpha
	pr.shift, pr.noise, pr.mde = math.NaN(), math.NaN(), math.NaN()
	nb, nh := stats.EstimateNoise(x), stats.EstimateNoise(y)
	switch {
	case isAbsoluteMetric(k.Metric):
		c.Change = c.HeadMedian - c.BaseMedian
		c.CILow, c.CIHigh = bs.DiffCI(x, y, conf, p.Resamples, seed)
		pr.shift = c.HodgesLehmann
		pr.noise = math.Sqrt((nb.MAD*nb.MAD + nh.MAD*nh.MAD) / 2)
	case c.BaseMedian == 0:
		pr.zeroBase = true
	default:
		c.Change = c.HeadMedian/c.BaseMedian - 1
		lo, hi := bs.RatioCI(x, y, conf, p.Resamples, seed)
		c.CILow, c.CIHigh = clampCI(lo, hi)
		pr.shift = relativeShift(x, y, c.BaseMedian)
		pr.noise = math.Sqrt((sq(nb.RobustCV) + sq(nh.RobustCV)) / 2)
	}
	if p.Paired && !isAbsoluteMetric(k.Metric) {
		if d, raw, why := pairedLogRatios(pr.base, pr.head); why != "" {
			pr.unpairedWhy = why
		} else {
			estimatePaired(pr, d, raw, conf, p.Resamples, seed, bs)
		}
	}
	if e, ok := p.Calibration.Lookup(k); ok {
		if !pr.zeroBase && pr.pairs == 0 {
			pr.noise = e.noise()
		}
		if m := e.MDEFor(min(len(x), len(y)), p.Alpha, p.Power); !math.IsNaN(m) {
			pr.mde = m
			c.MDE = &m
		}
	}
}

// relativeShift is the Hodges–Lehmann shift relative to the base: on the log
// scale for positive data (the median of all log ratios), else the additive
// shift over the base median.
func relativeShift(x, y []float64, baseMedian float64) float64 {
	positive := true
	for _, v := range x {
		positive = positive && v > 0
	}
	for _, v := range y {
		positive = positive && v > 0
	}
	if positive {
		lx, ly := make([]float64, len(x)), make([]float64, len(y))
		for i, v := range x {
			lx[i] = math.Log(v)
		}
		for i, v := range y {
			ly[i] = math.Log(v)
		}
		return math.Expm1(stats.HodgesLehmann(lx, ly))
	}
	return stats.HodgesLehmann(x, y) / math.Abs(baseMedian)
}

// decide turns the numbers into a decision and a reason. See the package
// documentation for the rule.
func decide(pr *pair, p Policy) {
	c := &pr.c
	alpha, t := p.Alpha, c.Threshold
	level := render.Level(alpha)
	nmin := stats.MinSamplesForAlpha(alpha)
	n := min(c.NBase, c.NHead)
	minP := func(m int) float64 { return stats.MinPValue(m, m) }
	if pr.pairs > 0 {
		// The paired t test has no floor on its p-value; it wants as many
		// pairs as the unpaired test wants runs per side.
		minP = func(int) float64 { return 0 }
	}
	sig := c.PAdjusted < alpha
	abs := isAbsoluteMetric(c.Metric)
	// worse > 0 means the head is worse, whatever the direction.
	sign := 1.0
	if c.HigherIsBetter {
		sign = -1
	}
	worse, shift := sign*c.Change, sign*pr.shift
	wlo, whi := sign*c.CILow, sign*c.CIHigh
	if wlo > whi {
		wlo, whi = whi, wlo
	}
	pct := func(f float64) string { return render.SignedChange(f, abs) }
	ci := fmt.Sprintf("%s%% CI %s … %s", strconv.FormatFloat(100*(1-alpha), 'g', 4, 64), pct(c.CILow), pct(c.CIHigh))
	thr := "±" + strings.TrimPrefix(pct(t), "+")
	ptext := fmt.Sprintf("p = %s", render.ReasonP(c.PAdjusted))
	if c.PAdjusted != c.PValue {
		ptext = fmt.Sprintf("p = %s adjusted (%s raw)", render.ReasonP(c.PAdjusted), render.ReasonP(c.PValue))
	}
	mdeText := ""
	if !math.IsNaN(pr.mde) {
		mdeText = fmt.Sprintf("; with %d runs per side this metric's calibrated noise hides changes below %s (MDE)", n, strings.TrimPrefix(pct(pr.mde), "+"))
	}

	if pr.pairs > 0 && pr.pairs < nmin {
		pr.tooFew = true
		c.Decision = verdict.Inconclusive
		c.RunsNeeded = nmin
		c.Reason = fmt.Sprintf("too few pairs: %d interleaved pairs cannot judge a change at α = %s; need at least %d pairs", pr.pairs, level, nmin)
		return
	}
	if pr.pairs == 0 && stats.MinPValue(c.NBase, c.NHead) >= alpha {
		pr.tooFew = true
		c.Decision = verdict.Inconclusive
		c.RunsNeeded = nmin
		c.Reason = fmt.Sprintf("too few runs: with %d base and %d head runs no difference can reach p < %s; need at least %d runs per side", c.NBase, c.NHead, level, nmin)
		return
	}
	if pr.zeroBase {
		zeroBaseDecision(pr, sig, ptext)
		return
	}
	beyond := func(w, s float64) bool { return w > t && (math.IsNaN(s) || s > t) }
	switch {
	case sig && beyond(worse, shift):
		c.Decision = verdict.Regressed
		c.Reason = fmt.Sprintf("%s worse (%s), %s < %s, beyond the %s threshold", strings.TrimPrefix(pct(worse), "+"), ci, ptext, level, thr)
		if abs {
			c.Reason = fmt.Sprintf("error rate %s → %s, %s worse (%s), %s < %s: more than %s worse is a regression (compare_m17's error-rate rule)", render.Fraction(c.BaseMedian), render.Fraction(c.HeadMedian), strings.TrimPrefix(pct(worse), "+"), ci, ptext, level, strings.TrimPrefix(pct(t), "+"))
		}
		return
	case sig && beyond(-worse, -shift):
		c.Decision = verdict.Improved
		c.Reason = fmt.Sprintf("%s better (%s), %s < %s, beyond the %s threshold", strings.TrimPrefix(pct(-worse), "+"), ci, ptext, level, thr)
		return
	case wlo > -t && whi < t:
		c.Decision = verdict.Unchanged
		c.Reason = fmt.Sprintf("no change beyond %s: %s", thr, ci)
		if sig {
			c.Reason += fmt.Sprintf("; a small change is significant (%s) but inside the threshold", ptext)
		}
		return
	}
	c.Decision = verdict.Inconclusive
	var effect float64
	switch {
	case math.Abs(worse) > t && !sig:
		c.Reason = fmt.Sprintf("change %s is beyond the %s threshold but not significant (%s ≥ %s; %s)", pct(c.Change), thr, ptext, level, ci)
		effect = math.Abs(worse)
	case math.Abs(worse) > t:
		c.Reason = fmt.Sprintf("ratio of medians %s and Hodges–Lehmann shift %s disagree about crossing the %s threshold (%s, %s)", pct(c.Change), pct(pr.shift), thr, ci, ptext)
		effect = math.Abs(worse)
	default:
		c.Reason = fmt.Sprintf("%s straddles the %s threshold (change %s, %s)", ci, thr, pct(c.Change), ptext)
		effect = math.Max(t-math.Abs(worse), t/4)
	}
	c.RunsNeeded = runsNeeded(pr, effect, (whi-wlo)/2, p)
	if !sig {
		// However clear the difference, n bounds p from below; after the
		// Benjamini–Hochberg inflation it must still reach alpha.
		inflation := 1.0
		if c.PValue > 0 {
			inflation = math.Max(1, c.PAdjusted/c.PValue)
		}
		for m := n + 1; m <= 1000; m++ {
			if minP(m)*inflation < alpha {
				if m > c.RunsNeeded && minP(n)*inflation >= alpha {
					c.RunsNeeded = m
				}
				break
			}
		}
	}
	// RunsNeeded, not the reason, says what would settle it: the report
	// says it once for all inconclusive comparisons (render.Settle).
	c.Reason += mdeText
}

// zeroBaseDecision decides when the base median is 0 and a relative change is
// undefined: on significance and the direction of the shift alone.
func zeroBaseDecision(pr *pair, sig bool, ptext string) {
	c := &pr.c
	worse := c.HodgesLehmann
	if c.HigherIsBetter {
		worse = -worse
	}
	from := fmt.Sprintf("median %s → %s %s (relative change undefined from 0)", render.Number(c.BaseMedian), render.Number(c.HeadMedian), c.Unit)
	switch {
	case sig && worse > 0:
		c.Decision = verdict.Regressed
		c.Reason = fmt.Sprintf("%s, %s: any increase from 0 exceeds a relative threshold", from, ptext)
	case sig && worse < 0:
		c.Decision = verdict.Improved
		c.Reason = fmt.Sprintf("%s, %s", from, ptext)
	case c.HeadMedian == 0 && constantZero(pr.base.Values) && constantZero(pr.head.Values):
		c.Decision = verdict.Unchanged
		c.Reason = "0 in every run on both sides"
	default:
		c.Decision = verdict.Inconclusive
		c.Reason = fmt.Sprintf("%s, not significant (%s)", from, ptext)
	}
}

// runsNeeded estimates the runs per side that would settle an inconclusive
// comparison, as the larger of two rough answers: shrinking the observed
// interval (half-width h with n runs) to the margin needs n·(h/effect)² runs;
// and a two-sample location test detects a shift of effect at noise cv with
// about 2·(z₁₋α/₂ + z_power)²·(cv/effect)²·π/3 runs (the normal
// approximation behind stats.MinDetectableEffect, π/3 being Mann–Whitney's
// efficiency against the t-test). It is cheap on purpose: a verdict may hold
// hundreds of inconclusive comparisons. 0 means no estimate.
func runsNeeded(pr *pair, effect, halfWidth float64, p Policy) int {
	n := min(pr.c.NBase, pr.c.NHead)
	if !(effect > 0) {
		return 0
	}
	need := 0.0
	if cv := pr.noise; cv > 0 && !math.IsInf(cv, 0) {
		z := distuv.UnitNormal.Quantile(1-p.Alpha/2) + distuv.UnitNormal.Quantile(p.Power)
		need = 2 * sq(z*cv/effect) * math.Pi / 3
	}
	if halfWidth > 0 && !math.IsInf(halfWidth, 0) {
		need = math.Max(need, float64(n)*sq(halfWidth/effect))
	}
	floor := stats.MinSamplesForAlpha(p.Alpha)
	need = math.Max(need, float64(floor))
	if need <= float64(n) || math.IsNaN(need) {
		return 0
	}
	if need > 1e7 {
		return 1e7
	}
	return int(math.Ceil(need))
}

func checkFingerprints(base, head *input.Set, p Policy, v *verdict.Verdict) error {
	all := map[string]bool{}
	for _, f := range base.Fingerprints {
		all[f] = true
	}
	for _, f := range head.Fingerprints {
		all[f] = true
	}
	switch {
	case len(all) > 1:
		msg := fmt.Sprintf("base was measured on hardware fingerprint %s and head on %s; results from different machines are never compared", orNone(base.Fingerprints), orNone(head.Fingerprints))
		if !p.AllowFingerprintMismatch {
			return errors.New(msg + " (rerun both sides on one runner, or pass --allow-fingerprint-mismatch to compare anyway)")
		}
		v.Warnings = append(v.Warnings, msg+": compared anyway (--allow-fingerprint-mismatch); differences may be the machines'")
	case len(base.Fingerprints) == 0 || len(head.Fingerprints) == 0:
		v.Warnings = append(v.Warnings, "some inputs carry no hardware fingerprint (only m18 results do): make sure base and head ran on the same machine")
	}
	if c := p.Calibration; c != nil && len(c.Fingerprints) > 0 {
		for f := range all {
			found := false
			for _, cf := range c.Fingerprints {
				found = found || cf == f
			}
			if !found {
				v.Warnings = append(v.Warnings, fmt.Sprintf("the calibration was made on fingerprint %s, not on %s: its MDEs describe another machine", strings.Join(c.Fingerprints, ", "), f))
				break
			}
		}
	}
	return nil
}

func nothingComparable(base, head *input.Set, skipped []verdict.Skip) error {
	msg := fmt.Sprintf("nothing to compare: base has scenarios %s, head has %s", render.QuoteList(base.Scenarios()), render.QuoteList(head.Scenarios()))
	if len(skipped) > 0 {
		msg += fmt.Sprintf("; %d skipped, first: %s: %s", len(skipped), skipped[0].Scenario, skipped[0].Reason)
	}
	return errors.New(msg)
}

func summarize(v *verdict.Verdict) verdict.Summary {
	s := verdict.Tally(v.Comparisons, len(v.Skipped))
	internal := s.Regressed - s.CompetitiveRegressed
	switch {
	case internal > 0:
		s.Outcome = verdict.OutcomeRegression
	case s.CompetitiveRegressed > 0:
		s.Outcome = verdict.OutcomeCompetitiveRegression
	default:
		s.Outcome = verdict.OutcomePass
	}
	s.Answer = Answer(s)
	return s
}

// Answer is the one-line answer that leads a report:
// "2 regressions · 14 unchanged · 1 inconclusive".
func Answer(s verdict.Summary) string {
	return s.AnswerLine()
}

// sortComparisons lists regressions first (render.DecisionRank), then by key.
func sortComparisons(cs []verdict.Comparison) {
	slices.SortStableFunc(cs, func(a, b verdict.Comparison) int {
		return cmp.Or(cmp.Compare(render.DecisionRank(a.Decision), render.DecisionRank(b.Decision)),
			key(a.Scenario, a.Operation, a.Metric).Compare(key(b.Scenario, b.Operation, b.Metric)))
	})
}

func side(s *input.Set) verdict.Side {
	return verdict.Side{
		Files:       s.Files,
		Commit:      s.Commit,
		Ref:         s.Ref,
		Fingerprint: strings.Join(s.Fingerprints, ","),
		Hardware:    s.Hardware,
	}
}

// sameAsSoleOperation returns the operation whose samples, on both sides,
// are exactly those of k's "overall" when the scenario measured only that
// one operation; "" otherwise. ops is operationsByMetric(base, head).
func sameAsSoleOperation(base, head *input.Set, k input.Key, ops map[scenarioMetric][]string) string {
	sole := ""
	for _, op := range ops[scenarioMetric{k.Scenario, k.Metric}] {
		if op == k.Operation {
			continue
		}
		if sole != "" {
			return ""
		}
		sole = op
	}
	if sole == "" {
		return ""
	}
	op := input.Key{Scenario: k.Scenario, Operation: sole, Metric: k.Metric}
	for _, s := range []*input.Set{base, head} {
		a, b := s.Samples[k], s.Samples[op]
		if a == nil || b == nil || !slices.Equal(a.Values, b.Values) {
			return ""
		}
	}
	return sole
}

type scenarioMetric struct{ scenario, metric string }

// operationsByMetric lists, for each scenario and metric, the distinct
// operations that base or head measured it for: one pass, so that checking
// every key stays linear in the number of keys.
func operationsByMetric(base, head *input.Set) map[scenarioMetric][]string {
	ops := map[scenarioMetric][]string{}
	for _, s := range []*input.Set{base, head} {
		for k := range s.Samples {
			sm := scenarioMetric{k.Scenario, k.Metric}
			if !slices.Contains(ops[sm], k.Operation) {
				ops[sm] = append(ops[sm], k.Operation)
			}
		}
	}
	return ops
}

func unionKeys(a, b *input.Set) []input.Key {
	seen := map[input.Key]bool{}
	for _, s := range []*input.Set{a, b} {
		for k := range s.Samples {
			seen[k] = true
		}
	}
	return slices.SortedFunc(maps.Keys(seen), input.Key.Compare)
}

func scenarioSet(s *input.Set) map[string]bool {
	m := map[string]bool{}
	for k := range s.Samples {
		m[k.Scenario] = true
	}
	return m
}

func tierNames(c *config.Config) []string {
	if c == nil {
		return []string{"none: no config"}
	}
	return slices.Sorted(maps.Keys(c.Tiers))
}

// key is the input.Key of a comparison or a skip.
func key(scenario, operation, metric string) input.Key {
	return input.Key{Scenario: scenario, Operation: operation, Metric: metric}
}

func keyHash(k input.Key) uint64 {
	h := fnv.New64a()
	h.Write([]byte(k.Scenario + "\x00" + k.Operation + "\x00" + k.Metric))
	return h.Sum64()
}

func constantZero(x []float64) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

func sq(f float64) float64 { return f * f }

// finite replaces NaN and ±Inf, which JSON cannot hold, with 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// clampCI keeps the bounds of a relative interval finite: an undefined or
// unbounded bound (a resampled base median of 0) becomes −100 % below and
// +10⁹ (a billion-fold) above, which JSON can hold.
func clampCI(lo, hi float64) (float64, float64) {
	if math.IsNaN(lo) || lo < -1 {
		lo = -1
	}
	if math.IsNaN(hi) || hi > 1e9 {
		hi = 1e9
	}
	return lo, hi
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "(none)"
	}
	return strings.Join(list, ", ")
}
