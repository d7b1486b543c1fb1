package gate

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/version"
	"github.com/engram/m18-gate/runners/result"
)

// VersusMetrics are the metrics Engram's position is taken on.
var VersusMetrics = []string{result.MetricP50, result.MetricP99, result.MetricThroughput, result.MetricCPUPerOp}

// VersusFiles are the runs of a competitive comparison: Engram's and the
// competitor's now, on one runner and fingerprint, and optionally both at
// the baseline (the position the current one must not fall behind).
type VersusFiles struct {
	Engram, Versus                 []string
	BaselineEngram, BaselineVersus []string
}

// versusSide is the runs of one side, read.
type versusSide struct {
	files []string
	set   *input.Set
	comp  *result.Competitor // the competitor's runs' record; nil for Engram's
}

func loadVersusSide(files []string, competitor bool, what string) (*versusSide, error) {
	if len(files) == 0 {
		return nil, nil
	}
	s := &versusSide{files: files}
	for _, f := range files {
		doc, err := result.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v (competitive comparisons take m18 results only)", what, f, err)
		}
		c := doc.Run.Competitor
		switch {
		case competitor && c == nil:
			return nil, fmt.Errorf("%s: %s is not a competitor's run (no run.competitor): measure the competitor with m18-run --competitor NAME", what, f)
		case !competitor && c != nil:
			return nil, fmt.Errorf("%s: %s is a run of competitor %s, not Engram's: give it to --versus", what, f, c.Name)
		case competitor && s.comp != nil && c.Name != s.comp.Name:
			return nil, fmt.Errorf("%s: %s measured %s, the other files %s: compare against one competitor at a time", what, f, c.Name, s.comp.Name)
		case competitor && s.comp == nil:
			s.comp = c
		}
	}
	set, err := input.Load(files...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if s.comp != nil {
		// The reader keys a competitor's runs SCENARIO@NAME; the position
		// sets them against Engram's runs of SCENARIO.
		byScenario := map[input.Key]*input.Sample{}
		for k, sm := range set.Samples {
			k.Scenario = strings.TrimSuffix(k.Scenario, "@"+s.comp.Name)
			sm.Key = k
			byScenario[k] = sm
		}
		set.Samples = byScenario
	}
	s.set = set
	return s, nil
}

// CompareVersusFiles reads the files and compares (CompareVersus).
func CompareVersusFiles(f VersusFiles, p Policy) (*verdict.Competitive, error) {
	var sides [4]*versusSide
	for i, in := range []struct {
		files      []string
		competitor bool
		flag       string
	}{
		{f.Engram, false, "--engram"}, {f.Versus, true, "--versus"},
		{f.BaselineEngram, false, "--baseline-engram"}, {f.BaselineVersus, true, "--baseline-versus"},
	} {
		s, err := loadVersusSide(in.files, in.competitor, in.flag)
		if err != nil {
			return nil, err
		}
		sides[i] = s
	}
	e, c, be, bc := sides[0], sides[1], sides[2], sides[3]
	if e == nil || c == nil {
		return nil, errors.New("a competitive comparison needs --engram FILE... and --versus FILE... (Engram's and the competitor's runs on one runner)")
	}
	if (be == nil) != (bc == nil) {
		return nil, errors.New("a baseline position needs both --baseline-engram and --baseline-versus")
	}
	if bc != nil && bc.comp.Name != c.comp.Name {
		return nil, fmt.Errorf("--baseline-versus measured %s, --versus %s: a position moves only against the same competitor", bc.comp.Name, c.comp.Name)
	}
	return compareVersus(e, c, be, bc, p)
}

func compareVersus(e, c, be, bc *versusSide, p Policy) (*verdict.Competitive, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := &verdict.Competitive{
		Competitor: strings.TrimSpace(c.comp.Name + " " + c.comp.Version),
		Method:     c.comp.Method,
		Threshold:  p.CompetitiveThreshold,
		Engram:     e.files, Versus: c.files,
		Positions: []verdict.Position{},
	}
	// Same runner, same fingerprint: a position across machines means
	// nothing.
	sides := []*versusSide{e, c, be, bc}
	var fps []string
	for _, s := range sides {
		if s != nil {
			fps = append(fps, s.set.Fingerprints...)
		}
	}
	slices.Sort(fps)
	if fps = slices.Compact(fps); len(fps) > 1 && !p.AllowFingerprintMismatch {
		return nil, fmt.Errorf("the runs come from %d hardware fingerprints (%s): Engram and the competitor must run on the same runner (or pass --allow-fingerprint-mismatch)", len(fps), strings.Join(fps, ", "))
	}
	sameBaselineVersus := false
	if be != nil {
		out.BaselineEngram, out.BaselineVersus = be.files, bc.files
		sameBaselineVersus = slices.Equal(bc.files, c.files)
	}
	conf := 1 - p.Alpha
	var pvals, thresholds []float64
	var withBase []int
	unpaired := map[int]string{} // why a position's move asked paired was not, by position
	ops := operationsByMetric(e.set, c.set)
	for _, k := range e.set.Keys() {
		if !slices.Contains(VersusMetrics, k.Metric) {
			continue
		}
		es, cs := e.set.Samples[k], c.set.Samples[k]
		if cs == nil || (k.Operation == result.OpOverall && sameAsSoleOperation(e.set, c.set, k, ops) != "") {
			continue
		}
		rp := p
		rp.Competitive = true
		rule := rp.Rule(k, es.HigherIsBetter)
		if rule.Ignore != "" {
			continue
		}
		thresholds = append(thresholds, rule.Threshold)
		pos := verdict.Position{Scenario: k.Scenario, Operation: k.Operation, Metric: k.Metric, HigherIsBetter: es.HigherIsBetter,
			NEngram: len(es.Values), NVersus: len(cs.Values), EngramMedian: stats.Median(es.Values), VersusMedian: stats.Median(cs.Values)}
		seed := p.Seed ^ keyHash(k)
		var bs stats.MedianBootstrap
		lo, hi := bs.RatioCI(cs.Values, es.Values, conf, p.Resamples, seed)
		pos.Ratio = pos.EngramMedian / pos.VersusMedian
		pos.RatioLow, pos.RatioHigh = 1+lo, 1+hi
		pos.Reason = fmt.Sprintf("Engram %s the competitor's", ratioWords(pos.Ratio, pos.HigherIsBetter))
		if be != nil {
			bes, bcs := be.set.Samples[k], bc.set.Samples[k]
			if bes != nil && bcs != nil && allPositive(es.Values, cs.Values, bes.Values, bcs.Values) {
				r := stats.BootstrapRatioOfRatios(es.Values, cs.Values, bes.Values, bcs.Values, sameBaselineVersus, conf, 0, seed)
				if p.Paired {
					var why string
					if r, why = pairedRatioOfRatios(es, cs, bes, bcs, sameBaselineVersus, conf, p.Resamples, seed); why != "" {
						unpaired[len(out.Positions)] = "; unpaired bootstrap: cannot pair, " + why
						r = stats.BootstrapRatioOfRatios(es.Values, cs.Values, bes.Values, bcs.Values, sameBaselineVersus, conf, 0, seed)
					}
				}
				br := stats.Median(bes.Values) / stats.Median(bcs.Values)
				ch, chLo, chHi := r.Estimate-1, r.Low-1, r.High-1
				if pos.HigherIsBetter { // less throughput than before is worse
					ch, chLo, chHi = 1/r.Estimate-1, 1/r.High-1, 1/r.Low-1
				}
				pos.BaselineRatio, pos.Change, pos.ChangeLow, pos.ChangeHigh, pos.PValue = &br, &ch, &chLo, &chHi, &r.P
				pvals = append(pvals, r.P)
				withBase = append(withBase, len(out.Positions))
			}
		}
		out.Positions = append(out.Positions, pos)
	}
	if len(out.Positions) == 0 {
		return nil, fmt.Errorf("Engram's runs (%s) and the competitor's (%s) share no scenario and operation: run the same scenario against both", strings.Join(e.set.Scenarios(), ", "), strings.Join(c.set.Scenarios(), ", "))
	}
	adj := stats.BenjaminiHochberg(pvals)
	for i, at := range withBase {
		pos := &out.Positions[at]
		pos.PAdjusted = &adj[i]
		decidePosition(pos, thresholds[at], p.Alpha)
		pos.Reason += unpaired[at]
		if pos.Decision == verdict.Regressed {
			out.Regressed++
		}
	}
	out.Targets = checkMilestones(e.set, p)
	for _, t := range out.Targets {
		if !t.Met {
			out.Regressed++
		}
	}
	return out, nil
}

// decidePosition decides a position's move as the internal comparisons
// decide: regressed when significant (BH-adjusted p < alpha) and worse
// than the competitive threshold thr (the policy's for the key); improved when significant and better by
// as much; unchanged when the whole interval is within the threshold;
// inconclusive otherwise.
func decidePosition(pos *verdict.Position, thr, alpha float64) {
	better := 1/(1+thr) - 1 // the same factor the other way
	ch, lo, hi, pa := *pos.Change, *pos.ChangeLow, *pos.ChangeHigh, *pos.PAdjusted
	sig := pa < alpha
	move := fmt.Sprintf("position %s since the baseline (ratio %.3g → %.3g; %s, %s%% interval, p %.2g after Benjamini-Hochberg)",
		changeWords(ch), *pos.BaselineRatio, pos.Ratio, CIText(lo, hi), fmt.Sprint(math.Round(100*(1-alpha))), pa)
	switch {
	case sig && ch > thr:
		pos.Decision = verdict.Regressed
		pos.Reason = fmt.Sprintf("competitive regression: %s, worse than the %s threshold", move, config.FormatPercent(thr))
	case sig && ch < better:
		pos.Decision = verdict.Improved
		pos.Reason = "improved: " + move
	case lo > better && hi < thr:
		pos.Decision = verdict.Unchanged
		pos.Reason = fmt.Sprintf("unchanged: %s, within ±%s", move, config.FormatPercent(thr))
	default:
		pos.Decision = verdict.Inconclusive
		pos.Reason = fmt.Sprintf("inconclusive: %s; more runs of both would settle it", move)
	}
}

// checkMilestones checks the policy's [milestone] targets against
// Engram's runs.
func checkMilestones(e *input.Set, p Policy) []verdict.Target {
	if p.Config == nil {
		return nil
	}
	var out []verdict.Target
	for _, sc := range slices.Sorted(maps.Keys(p.Config.Milestones)) {
		m := p.Config.Milestones[sc]
		op := m.Operation
		if op == "" {
			op = result.OpOverall
		}
		for _, b := range []struct {
			metric string
			bound  *float64
		}{{result.MetricP50, m.P50Ms}, {result.MetricP99, m.P99Ms}, {result.MetricThroughput, m.Throughput}} {
			if b.bound == nil {
				continue
			}
			s := e.Samples[input.Key{Scenario: sc, Operation: op, Metric: b.metric}]
			if s == nil {
				continue
			}
			var bs stats.MedianBootstrap
			t := verdict.Target{Scenario: sc, Operation: op, Metric: b.metric, Bound: *b.bound, Median: stats.Median(s.Values)}
			t.Low, t.High = bs.MedianCI(s.Values, 1-p.Alpha, p.Resamples, p.Seed)
			rel, unit := "≤", " ms"
			t.Met = t.Median <= t.Bound
			if b.metric == result.MetricThroughput {
				rel, unit = "≥", " ops/s"
				t.Met = t.Median >= t.Bound
			}
			against := ""
			if m.Competitor != "" {
				against = " (set against " + m.Competitor + ")"
			}
			if m.Note != "" {
				against += ": " + m.Note
			}
			verb := "met"
			if !t.Met {
				verb = "MISSED"
			}
			t.Reason = fmt.Sprintf("milestone %s: %s %s median %.4g%s [%.4g, %.4g], target %s %g%s%s, %s:%d",
				verb, op, b.metric, t.Median, unit, t.Low, t.High, rel, t.Bound, unit, against, p.Config.Path, m.Line)
			out = append(out, t)
		}
	}
	return out
}

func allPositive(xs ...[]float64) bool {
	for _, x := range xs {
		for _, v := range x {
			if !(v > 0) {
				return false
			}
		}
	}
	return true
}

// ratioWords says a ratio Engram/competitor in words: "is 2.1× faster
// than", "has 0.95× the throughput of".
func ratioWords(r float64, higherIsBetter bool) string {
	if higherIsBetter {
		return fmt.Sprintf("has %.3g× the throughput of", r)
	}
	if r <= 1 {
		return fmt.Sprintf("is %.3g× faster than", 1/r)
	}
	return fmt.Sprintf("is %.3g× slower than", r)
}

func changeWords(ch float64) string {
	if ch >= 0 {
		return fmt.Sprintf("%.1f%% worse", 100*ch)
	}
	return fmt.Sprintf("%.1f%% better", -100*ch)
}

// CIText formats a relative interval: "[+3.1%, +9.8%]".
func CIText(lo, hi float64) string {
	return fmt.Sprintf("[%+.1f%%, %+.1f%%]", 100*lo, 100*hi)
}

// VersusVerdict wraps a competitive comparison made without internal
// comparisons in a verdict of its own.
func VersusVerdict(c *verdict.Competitive, p Policy) *verdict.Verdict {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	v := &verdict.Verdict{Schema: verdict.SchemaVersion, CreatedAt: now().UTC(), ToolVersion: version.String(),
		Alpha: p.Alpha, Threshold: p.Threshold, CompetitiveThreshold: p.CompetitiveThreshold,
		Comparisons: []verdict.Comparison{}, Versus: c}
	v.Summary = v.Summarize()
	if v.Summary.Outcome == verdict.OutcomePass && len(c.Positions) > 0 {
		v.Summary.Answer = "no competitive regression"
	}
	return v
}

// pairedRatioOfRatios is the position's move from runs made in
// interleaved rounds (each side's i-th run, by start time, in round i):
// d_i = ln(E_i/C_i) − ln(E0_i/C0_i), the competitor's terms dropped when
// its baseline runs are its current ones. The estimate is exp(Walsh median
// of d), the interval the bootstrap interval of the median of d, the
// p-value Student's paired t test of d, as paired internal comparisons
// are decided. why says why the runs cannot be paired.
func pairedRatioOfRatios(e, c, e0, c0 *input.Sample, sameC bool, conf float64, resamples int, seed uint64) (stats.RatioOfRatios, string) {
	var vals [4][]float64
	for i, s := range []*input.Sample{e, c, e0, c0} {
		v, why := byStart(s, []string{"Engram's", "the competitor's", "Engram's baseline", "the competitor's baseline"}[i])
		if why != "" {
			return stats.RatioOfRatios{}, why
		}
		vals[i] = v
	}
	n := len(vals[0])
	for _, v := range vals {
		if len(v) != n {
			return stats.RatioOfRatios{}, "the sides have different run counts"
		}
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = math.Log(vals[0][i]) - math.Log(vals[2][i])
		if !sameC {
			d[i] += math.Log(vals[3][i]) - math.Log(vals[1][i])
		}
	}
	t, err := stats.PairedT(d)
	if err != nil {
		return stats.RatioOfRatios{}, err.Error()
	}
	var bs stats.MedianBootstrap
	lo, hi := bs.MedianCI(d, conf, resamples, seed)
	return stats.RatioOfRatios{Estimate: math.Exp(stats.WalshMedian(d)), Low: math.Exp(lo), High: math.Exp(hi), P: t.P}, ""
}
