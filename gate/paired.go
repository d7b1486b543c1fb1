package gate

import (
	"fmt"
	"math"
	"sort"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/stats"
)

// pairedLogRatios pairs the i-th base run with the i-th head run, each side
// ordered by run start time, and returns d_i = ln(head_i) − ln(base_i) and
// the raw differences head_i − base_i. why says, when not empty, why the two
// samples cannot be paired (the comparison then falls back to the unpaired
// test).
func pairedLogRatios(b, h *input.Sample) (d, raw []float64, why string) {
	if len(b.Values) != len(h.Values) {
		return nil, nil, fmt.Sprintf("base has %d runs and head %d", len(b.Values), len(h.Values))
	}
	bs, bwhy := byStart(b, "base")
	if bwhy != "" {
		return nil, nil, bwhy
	}
	hs, hwhy := byStart(h, "head")
	if hwhy != "" {
		return nil, nil, hwhy
	}
	d, raw = make([]float64, len(bs)), make([]float64, len(bs))
	for i := range bs {
		x, y := bs[i], hs[i]
		if !(x > 0 && y > 0) {
			return nil, nil, fmt.Sprintf("a value is not positive (base %v, head %v), so log ratios are undefined", x, y)
		}
		d[i] = math.Log(y) - math.Log(x)
		raw[i] = y - x
	}
	return d, raw, ""
}

// byStart returns the values of s ordered by run start time, or why it
// cannot (a run without a start time).
func byStart(s *input.Sample, side string) ([]float64, string) {
	if len(s.Starts) != len(s.Values) {
		return nil, side + " runs carry no start times (only m18 results do)"
	}
	idx := make([]int, len(s.Values))
	for i := range idx {
		if s.Starts[i].IsZero() {
			return nil, side + " runs carry no start times (only m18 results do)"
		}
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.Starts[idx[a]].Before(s.Starts[idx[b]]) })
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = s.Values[j]
	}
	return out, ""
}

// estimatePaired replaces the unpaired estimates of a relative comparison
// with the paired ones: the change is exp(Walsh median of d) − 1 (the
// one-sample Hodges–Lehmann estimate of the log ratio), its interval the
// seeded bootstrap interval of the median of d, resampling whole pairs, and
// the p-value Student's paired t test of d (see stats.PairedT for why not the
// signed-rank test: its p-values are bounded below by 2/2ⁿ, too coarse for
// false-discovery control at 10 pairs) — except for the target's cost per
// request, whose family is small enough for the signed-rank test. HodgesLehmann becomes the Walsh
// median of the raw differences, in Unit. The noise for RunsNeeded is the
// robust spread of d scaled so that runsNeeded's two-sample formula gives the
// paired t sample size, z²·σ_d² / effect².
func estimatePaired(pr *pair, d, raw []float64, conf float64, resamples int, seed uint64, bs *stats.MedianBootstrap) {
	c := &pr.c
	pr.pairs = len(d)
	pr.zeroBase = false
	c.Change = math.Expm1(stats.WalshMedian(d))
	lo, hi := bs.MedianCI(d, conf, resamples, seed)
	c.CILow, c.CIHigh = clampCI(math.Expm1(lo), math.Expm1(hi))
	pr.shift = c.Change
	c.HodgesLehmann = finite(stats.WalshMedian(raw))
	if tt, err := stats.PairedT(d); err == nil && !math.IsNaN(tt.P) {
		c.PValue = tt.P
	} else {
		c.PValue = 1
	}
	if isCostMetric(pr.key.Metric) {
		// The target's cost per request sits in a family of one or
		// two comparisons, where the signed-rank test's floor of 2/2ⁿ
		// does no harm, and a run that collapsed on a busy machine must
		// not hide the other pairs as it does in the t test.
		pr.signedRank = true
		if sr, err := stats.SignedRank(d); err == nil {
			c.PValue = sr
		} else {
			c.PValue = 1
		}
	}
	pr.noise = stats.EstimateNoise(d).MAD / math.Sqrt2 * math.Sqrt(3/math.Pi)
}

// annotatePairing says in the reason how a comparison was tested when the
// policy asked for pairing.
func annotatePairing(pr *pair) {
	switch {
	case pr.pairs > 0 && pr.signedRank:
		pr.c.Reason += fmt.Sprintf(" (Wilcoxon signed-rank test of log ratios over %d interleaved pairs)", pr.pairs)
	case pr.pairs > 0:
		pr.c.Reason += fmt.Sprintf(" (paired t test of log ratios over %d interleaved pairs)", pr.pairs)
	case pr.unpairedWhy != "":
		pr.c.Reason += " (unpaired Mann-Whitney: cannot pair, " + pr.unpairedWhy + ")"
	}
}
