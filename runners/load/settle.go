package load

import (
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The settle rule of the adaptive warm-up (Config.AutoWarmup): a warm-up
// runs in windows of its schedule and ends at the first window at which the
// last SettleWindows windows are indistinguishable at their sampling error.
// Two windows are indistinguishable when each one's median latency lies
// inside the other's distribution-free 95 % confidence interval for the
// median. Comparing three windows pairwise, not two, also refuses a slow
// drift whose step from one window to the next hides inside the sampling
// error but whose step over two windows does not.
const (
	// SettleWindows is how many consecutive windows must agree.
	SettleWindows = 3
	// SettleMinRequests and SettleMinWindow size a window: long enough for
	// SettleMinRequests requests at the scenario's mean rate, and never
	// shorter than SettleMinWindow. With 100 requests the median's 95 %
	// interval spans ranks 40–61, about ±10 percentile points; fewer would
	// let a real shift hide in it, and a window shorter than a quarter of
	// a second would judge timer and scheduler hiccups, not the target.
	SettleMinRequests = 100
	SettleMinWindow   = 250 * time.Millisecond
	// settleZ is the normal quantile of the interval's 95 % coverage.
	settleZ = 1.96
)

// medianRanks returns the 1-based ranks of the order statistics that bound
// the distribution-free 95 % confidence interval for the median of n
// values: n/2 − 1.96·√n/2 and 1 + n/2 + 1.96·√n/2, rounded to the nearest
// rank (the binomial interval's normal approximation, as in Campbell and
// Gardner, "Calculating confidence intervals for some non-parametric
// analyses", BMJ 1988), clamped to [1, n]. n = 0 gives (0, 0).
func medianRanks(n uint64) (lo, hi uint64) {
	if n == 0 {
		return 0, 0
	}
	f := float64(n)
	half := settleZ * math.Sqrt(f) / 2
	l := math.Round(f/2 - half)
	h := math.Round(1 + f/2 + half)
	return uint64(min(max(l, 1), f)), uint64(min(max(h, 1), f))
}

// medianCI is one window's median latency and its 95 % confidence
// interval, in the histogram's unit (µs), from N requests.
type medianCI struct {
	N              uint64
	Median, Lo, Hi int64
}

// atRank is the value of rank r (1-based) of h's values: hdrhistogram
// rounds q·n/100 to the nearest rank.
func atRank(h *hdr.Histogram, r uint64) int64 {
	return h.ValueAtQuantile(100 * float64(r) / float64(h.TotalCount()))
}

// medianOf returns h's median and its confidence interval.
func medianOf(h *hdr.Histogram) medianCI {
	n := uint64(h.TotalCount())
	if n == 0 {
		return medianCI{}
	}
	lo, hi := medianRanks(n)
	return medianCI{N: n, Median: h.ValueAtQuantile(50), Lo: atRank(h, lo), Hi: atRank(h, hi)}
}

// contains says whether v lies inside the interval (bounds included: a
// histogram's values are bucketed, so equal means the same bucket).
func (m medianCI) contains(v int64) bool { return m.Lo <= v && v <= m.Hi }

// indistinguishable says two windows' medians lie each inside the other's
// interval. A window with fewer than half of SettleMinRequests requests
// (a stalled target, a lull of a bursty schedule) is distinguishable from
// anything: too few to judge.
func indistinguishable(a, b medianCI) bool {
	const least = SettleMinRequests / 2
	if a.N < least || b.N < least {
		return false
	}
	return a.contains(b.Median) && b.contains(a.Median)
}

// settled says the last SettleWindows windows of ws are pairwise
// indistinguishable (false while there are fewer).
func settled(ws []medianCI) bool {
	if len(ws) < SettleWindows {
		return false
	}
	last := ws[len(ws)-SettleWindows:]
	for i := range last {
		for j := i + 1; j < len(last); j++ {
			if !indistinguishable(last[i], last[j]) {
				return false
			}
		}
	}
	return true
}

// settleAt returns the number of windows after which ws settles (the
// first k with settled(ws[:k])), or 0 when it never does.
func settleAt(ws []medianCI) int {
	for k := SettleWindows; k <= len(ws); k++ {
		if settled(ws[:k]) {
			return k
		}
	}
	return 0
}
