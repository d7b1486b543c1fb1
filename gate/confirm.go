package gate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/gate/verdict"
)

// ConfirmFiles reads the first verdict and loads the re-run's base and head
// files; see Confirm.
func ConfirmFiles(firstPath string, base, head []string, p Policy) (*verdict.Verdict, error) {
	first, err := verdict.ReadFile(firstPath)
	if err != nil {
		return nil, err
	}
	b, err := input.Load(base...)
	if err != nil {
		return nil, fmt.Errorf("re-run base: %w", err)
	}
	h, err := input.Load(head...)
	if err != nil {
		return nil, fmt.Errorf("re-run head: %w", err)
	}
	return Confirm(first, b, h, p)
}

// ToConfirm lists the comparisons of first a confirming re-run judges
// again: those it called regressed and decided on their own (a derived
// metric follows its primary and is not judged twice). Competitive
// comparisons are among them.
func ToConfirm(first *verdict.Verdict) []verdict.Comparison {
	var out []verdict.Comparison
	for _, c := range first.Comparisons {
		if c.Decision == verdict.Regressed && c.Follows == "" {
			out = append(out, c)
		}
	}
	return out
}

// Confirm is the confirming re-run of a gate that regressed: it judges the
// comparisons first called regressed (ToConfirm), and only those, on base
// and head measured after first — fresh pairs — with the policy p
// (paired when p is; Benjamini–Hochberg over just those comparisons; the
// same thresholds; p.Alpha, the whole level, also when first was a look of
// a sequential gate). With p.Looks the re-run is sequential in its own
// right (ConfirmLooks): it decides at the look its pairs reach, at that
// look's part of p.Alpha, and Confirmation.Sequential.Continue asks for
// the next look's pairs while no comparison is confirmed and some are
// still inconclusive. A comparison stays regressed only when the re-run
// also calls it regressed; otherwise it becomes inconclusive, its reason
// saying that the re-run did not confirm it and what the re-run measured.
// Every other comparison keeps its first decision; a derived metric follows
// its primary's new one. The summary is recomputed and Confirmation
// records the re-run.
//
// The re-run's data are independent of the first's, so an identical head
// fails only if both stages raise a false alarm: at most α·α per
// comparison. A real regression is blocked with the product of the two
// stages' power.
//
// When first regressed nowhere there is nothing to confirm: Confirm
// returns a copy of first, Confirmation nil. A comparison to confirm that
// the re-run did not measure is an error, as is a bad policy.
func Confirm(first *verdict.Verdict, base, head *input.Set, p Policy) (*verdict.Verdict, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	v := cloneVerdict(first)
	targets := ToConfirm(first)
	if len(targets) == 0 {
		return v, nil
	}
	want := map[input.Key]bool{}
	for _, c := range targets {
		want[key(c.Scenario, c.Operation, c.Metric)] = true
	}
	rb, rh := only(base, want), only(head, want)
	for _, c := range targets {
		k := key(c.Scenario, c.Operation, c.Metric)
		for side, s := range map[string]*input.Set{"base": rb, "head": rh} {
			if s.Samples[k] == nil {
				return nil, fmt.Errorf("the re-run's %s files (%s) do not measure %s, which the first verdict called regressed; re-run the same scenarios",
					side, strings.Join(s.Files, ", "), name(c))
			}
		}
	}
	p.Tier = ""
	rerun, err := Compare(rb, rh, p)
	if err != nil {
		return nil, fmt.Errorf("re-run: %w", err)
	}
	got := map[input.Key]verdict.Comparison{}
	for _, c := range rerun.Comparisons {
		got[key(c.Scenario, c.Operation, c.Metric)] = c
	}
	pairs := Pairs(rb, rh)
	conf := &verdict.Confirmation{
		Pairs: pairs,
		Alpha: p.Alpha,
		Base:  rerun.Base,
		Head:  rerun.Head,
		First: verdict.FirstDecision{CreatedAt: first.CreatedAt, Outcome: first.Summary.Outcome, Pairs: decidedPairs(first)},
	}
	if s := rerun.Sequential; s != nil {
		conf.Alpha, conf.Sequential = s.Spent, s
	}
	if s := first.Sequential; s != nil {
		conf.First.Look, conf.First.Looks = s.Look, slices.Clone(s.Looks)
	}
	notConfirmed := map[input.Key]string{}
	for i := range v.Comparisons {
		c := &v.Comparisons[i]
		k := key(c.Scenario, c.Operation, c.Metric)
		if !want[k] || c.Follows != "" {
			continue
		}
		r, ok := got[k]
		if !ok {
			reason := "skipped"
			for _, s := range rerun.Skipped {
				if key(s.Scenario, s.Operation, s.Metric) == k || (s.Operation == "" && s.Scenario == k.Scenario) {
					reason = s.Reason
				}
			}
			return nil, fmt.Errorf("the re-run could not compare %s: %s", name(*c), reason)
		}
		rr := verdict.Rerun{
			Scenario: c.Scenario, Operation: c.Operation, Metric: c.Metric,
			Confirmed: r.Decision == verdict.Regressed,
			Decision:  r.Decision, Reason: r.Reason,
			Change: r.Change, CILow: r.CILow, CIHigh: r.CIHigh,
			PValue: r.PValue, PAdjusted: r.PAdjusted,
			Absolute: isAbsoluteMetric(c.Metric),
		}
		conf.Comparisons = append(conf.Comparisons, rr)
		if rr.Confirmed {
			c.Reason += fmt.Sprintf("; confirmed by a re-run of %d pairs: %s, p = %s adjusted", pairs, render.RerunNumbers(rr), render.ReasonP(rr.PAdjusted))
			continue
		}
		note := fmt.Sprintf("not confirmed by a re-run of %d pairs: %s (%s, p = %s adjusted)", pairs, render.RerunNumbers(rr), r.Decision, render.ReasonP(rr.PAdjusted))
		c.Decision = verdict.Inconclusive
		c.RunsNeeded = 0
		c.Reason = note + "; first: " + c.Reason
		notConfirmed[k] = note
	}
	for i := range v.Comparisons {
		c := &v.Comparisons[i]
		if c.Follows == "" {
			continue
		}
		if note, ok := notConfirmed[key(c.Scenario, c.Operation, c.Follows)]; ok && c.Decision == verdict.Regressed {
			c.Decision = verdict.Inconclusive
			c.Reason = fmt.Sprintf("follows %s, %s", c.Follows, note)
		}
	}
	for _, w := range rerun.Warnings {
		v.Warnings = append(v.Warnings, "re-run: "+w)
	}
	v.Confirmation = conf
	sortComparisons(v.Comparisons)
	v.Summary = verdict.SummarizeWith(v.Comparisons, v.Skipped, v.Criteria)
	v.Markdown = ""
	return v, nil
}

// ConfirmPairs is the number of pairs a confirming re-run of first should
// measure under the policy p: enough for the exact signed-rank test (the
// cost metrics' test) to reach p.Alpha after the Bonferroni factor of the
// families the regressed comparisons fall in (adjustFamilies); at least
// half the pairs first decided on; and, where first's intervals were wide,
// enough to call each change regressed again with probability p.Power
// (rerunPower), up to the pairs first's design planned (its last look, or
// its pairs). 0 when there is nothing to confirm.
func ConfirmPairs(first *verdict.Verdict, p Policy) int {
	return confirmPairs(first, p, p.Alpha)
}

// confirmPairs is ConfirmPairs for a re-run that tests at alpha, p.Alpha or
// a look's part of it.
func confirmPairs(first *verdict.Verdict, p Policy, alpha float64) int {
	targets := ToConfirm(first)
	if len(targets) == 0 {
		return 0
	}
	families := map[bool]bool{}
	for _, c := range targets {
		families[isCostMetric(c.Metric)] = true
	}
	level := alpha / float64(len(families))
	n := decidedPairs(first)
	floor := max(stats.MinPairsForAlpha(level), (n+1)/2, stats.MinSamplesForAlpha(alpha))
	budget := n
	if s := first.Sequential; s != nil && len(s.Looks) > 0 {
		budget = max(budget, s.Looks[len(s.Looks)-1])
	}
	k := floor
	for _, c := range targets {
		sigma := pairSpread(c, n, firstLevel(first, p.Alpha))
		// The power grows with the pairs: the fewest from k on that reach
		// p.Power, by bisection, or budget when none below it does.
		from := k
		k = from + sort.Search(max(budget-from, 0), func(i int) bool {
			return rerunPower(c, sigma, from+i, level) >= p.Power
		})
	}
	return k
}

// ConfirmLooks is the plan of a sequential confirming re-run of first under
// the policy p: looks at k and 2·k pairs, each spending half of p.Alpha, k
// being the pairs ConfirmPairs asks for at that half. The re-run stops at k
// pairs when those confirm the regression or clear it, and measures twice
// as many while they cannot tell — a machine noisier during the re-run
// than during the first stage, which no count fixed from the first stage's
// noise foresees. Two looks, not AutoLooks' three: a middle look would take
// half of the last one's share (linear spending), and the last look is the
// one a noisy re-run needs (gate/README.md, "Confirming re-run", has the
// measurements). nil when there is nothing to confirm.
func ConfirmLooks(first *verdict.Verdict, p Policy) Looks {
	k := confirmPairs(first, p, p.Alpha/2)
	if k == 0 {
		return nil
	}
	return Looks{k, 2 * k}
}

// powerDraws is how many simulated re-runs rerunPower draws: the standard
// error of its estimate of a power near 0.8 is then 0.013.
const powerDraws = 1000

// rerunPower is the probability that a re-run of k pairs calls c regressed
// again at level, were the change first measured the true one and the
// pairs' log ratios normal with spread sigma: the share of powerDraws
// simulated re-runs (seeded, so the answer is the same every time) whose
// test — the signed-rank test for the target's cost per request, else the
// paired t test, as estimatePaired tests (an unpaired re-run's
// Mann–Whitney test is taken to need as many) — is significant and whose
// estimate is beyond c's threshold. 1 when sigma is 0 or unknown: first's
// interval then asks for nothing beyond the floor.
func rerunPower(c verdict.Comparison, sigma float64, k int, level float64) float64 {
	if !(sigma > 0) || math.IsInf(sigma, 0) || !(c.Change > -1) || math.IsInf(c.Change, 0) {
		return 1
	}
	shift, sign := math.Log1p(c.Change), 1.0
	if c.HigherIsBetter {
		sign = -1
	}
	rng := rand.New(rand.NewPCG(uint64(k), 0x6d3138))
	d := make([]float64, k)
	found := 0
	for range powerDraws {
		for i := range d {
			d[i] = shift + sigma*rng.NormFloat64()
		}
		var p float64
		if isCostMetric(c.Metric) {
			p, _ = stats.SignedRank(d)
		} else {
			t, _ := stats.PairedT(d)
			p = t.P
		}
		if p < level && sign*math.Expm1(stats.WalshMedian(d)) > c.Threshold {
			found++
		}
	}
	return float64(found) / powerDraws
}

// pairSpread is the spread of one pair's log ratio that first's interval
// for c implies: n pairs gave the median's bootstrap interval (estimatePaired)
// a half-width h at level, and a normal sample's median has a standard
// error of √(π/2)·σ/√n, so σ = h·√n / (z(level)·√(π/2)). 0 when the
// interval says nothing (absolute metrics, unbounded or missing intervals).
func pairSpread(c verdict.Comparison, n int, level float64) float64 {
	if isAbsoluteMetric(c.Metric) || n < 1 || !(c.CILow > -1) || math.IsInf(c.CIHigh, 0) {
		return 0
	}
	h := (math.Log1p(c.CIHigh) - math.Log1p(c.CILow)) / 2
	z := distuv.UnitNormal.Quantile(1 - level/2)
	return h * math.Sqrt(float64(n)) / (z * math.Sqrt(math.Pi/2))
}

// firstLevel is the level first's intervals were computed at: its look's
// part of the level when it was a look of a sequential gate.
func firstLevel(first *verdict.Verdict, alpha float64) float64 {
	switch {
	case first.Sequential != nil && first.Sequential.Spent > 0:
		return first.Sequential.Spent
	case first.Alpha > 0:
		return first.Alpha
	}
	return alpha
}

// decidedPairs is the number of pairs first decided on: its look's, else
// the fewest runs of a side among its regressed comparisons.
func decidedPairs(first *verdict.Verdict) int {
	if s := first.Sequential; s != nil {
		return s.Pairs
	}
	n := math.MaxInt
	for _, c := range ToConfirm(first) {
		n = min(n, c.NBase, c.NHead)
	}
	if n == math.MaxInt {
		return 0
	}
	return n
}

// only is s restricted to the keys of want.
func only(s *input.Set, want map[input.Key]bool) *input.Set {
	out := *s
	out.Samples = map[input.Key]*input.Sample{}
	for k, sm := range s.Samples {
		if want[k] {
			out.Samples[k] = sm
		}
	}
	return &out
}

// name is "scenario operation metric" of a comparison, for messages.
func name(c verdict.Comparison) string {
	return strings.Join([]string{c.Scenario, c.Operation, c.Metric}, " ")
}

// cloneVerdict copies v deeply enough that changing the copy's comparisons,
// warnings or confirmation leaves v alone.
func cloneVerdict(v *verdict.Verdict) *verdict.Verdict {
	c := *v
	c.Comparisons = slices.Clone(v.Comparisons)
	c.Warnings = slices.Clone(v.Warnings)
	c.Skipped = slices.Clone(v.Skipped)
	return &c
}
