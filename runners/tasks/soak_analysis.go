package tasks

import (
	"fmt"
	"time"

	"github.com/engram/m18-gate/runners/fit"
	"github.com/engram/m18-gate/runners/procstat"
	"github.com/engram/m18-gate/runners/window"
)

// LeakFinding is the soak's verdict on memory: the least-squares line of
// the target's RSS (MiB) against time (hours). A leak is a slope above the
// threshold with an R² above the minimum, over the whole span and still
// above the threshold over its second half: RSS that rises steadily, not
// RSS that jumps once (a burst of new connections), settles or wanders.
type LeakFinding struct {
	// Measured is false when no resource samples were taken (no target
	// pid); the other fields are then zero.
	Measured bool `json:"measured"`
	// Samples is the number of RSS readings fitted.
	Samples int `json:"samples"`
	// SlopeMBPerHour is the fitted RSS growth, MiB per hour; R2 its fit.
	SlopeMBPerHour float64 `json:"slope_mb_per_hour"`
	R2             float64 `json:"r2"`
	// LastHalfSlopeMBPerHour is the slope over the second half of the
	// samples: growth that has stopped is not a leak.
	LastHalfSlopeMBPerHour float64 `json:"last_half_slope_mb_per_hour"`
	// StartMB and EndMB are the first and last RSS readings, MiB; GrowthMB
	// the fitted growth over the sampled span.
	StartMB  float64 `json:"start_mb"`
	EndMB    float64 `json:"end_mb"`
	GrowthMB float64 `json:"growth_mb"`
	// ThresholdMBPerHour and MinR2 are the criteria applied.
	ThresholdMBPerHour float64 `json:"threshold_mb_per_hour"`
	MinR2              float64 `json:"min_r2"`
	// Leak is the verdict; Reason says why in one sentence.
	Leak   bool   `json:"leak"`
	Reason string `json:"reason"`
}

// minLeakSamples is the fewest RSS readings a leak verdict is given on.
const minLeakSamples = 10

// AnalyzeLeak fits RSS against time over samples and applies the leak
// criterion: slope > thresholdMBPerHour and R² > minR2.
func AnalyzeLeak(samples []procstat.Stats, thresholdMBPerHour, minR2 float64) LeakFinding {
	f := LeakFinding{ThresholdMBPerHour: thresholdMBPerHour, MinR2: minR2, Samples: len(samples)}
	if len(samples) == 0 {
		f.Reason = "not measured: no resource samples (no target pid; pass --target-pid for an external target)"
		return f
	}
	f.Measured = true
	t0 := samples[0].At
	x := make([]float64, len(samples))
	y := make([]float64, len(samples))
	for i, s := range samples {
		x[i] = s.At.Sub(t0).Hours()
		y[i] = s.RSSMiB()
	}
	l := fit.Linear(x, y)
	f.SlopeMBPerHour, f.R2 = l.Slope, l.R2
	h := len(x) / 2
	f.LastHalfSlopeMBPerHour = fit.Linear(x[h:], y[h:]).Slope
	f.StartMB, f.EndMB = y[0], y[len(y)-1]
	f.GrowthMB = l.Slope * x[len(x)-1]
	trend := classifyTrend(l.Slope, l.R2, thresholdMBPerHour, minR2)
	switch {
	case len(samples) < minLeakSamples:
		f.Reason = fmt.Sprintf("too few samples (%d < %d) for a verdict", len(samples), minLeakSamples)
	case trend == trendSteady && f.LastHalfSlopeMBPerHour > thresholdMBPerHour:
		f.Leak = true
		f.Reason = fmt.Sprintf("RSS grows %.1f MB/h (threshold %.1f) with R² %.2f > %.2f, and %.1f MB/h over the second half: a steady leak",
			l.Slope, thresholdMBPerHour, l.R2, minR2, f.LastHalfSlopeMBPerHour)
	case trend == trendSteady:
		f.Reason = fmt.Sprintf("RSS slope %.1f MB/h with R² %.2f, but only %.1f MB/h over the second half: growth that stopped (settling, a step), no leak claimed",
			l.Slope, l.R2, f.LastHalfSlopeMBPerHour)
	case trend == trendNoisy:
		f.Reason = fmt.Sprintf("RSS slope %.1f MB/h is above %.1f but R² %.2f ≤ %.2f: growth is not steady, no leak claimed", l.Slope, thresholdMBPerHour, l.R2, minR2)
	default:
		f.Reason = fmt.Sprintf("RSS slope %.1f MB/h ≤ %.1f MB/h: no leak", l.Slope, thresholdMBPerHour)
	}
	return f
}

// trend is how a fitted line compares with a threshold on its slope.
type trend int

const (
	// trendBelow: the slope is at most the threshold.
	trendBelow trend = iota
	// trendNoisy: the slope is above the threshold, but the line explains
	// too little of the variance (R² ≤ the minimum) to call it a trend.
	trendNoisy
	// trendSteady: the slope is above the threshold with R² above the
	// minimum.
	trendSteady
)

// classifyTrend applies the soak's rule, shared by leak and drift: a slope
// above threshold counts when its fit's R² is above minR2.
func classifyTrend(slope, r2, threshold, minR2 float64) trend {
	switch {
	case slope <= threshold:
		return trendBelow
	case r2 > minR2:
		return trendSteady
	}
	return trendNoisy
}

// DriftFinding is the soak's verdict on latency: the least-squares line of
// per-window p99 (ms) against time (hours) over the last stretch of the
// run, as a percentage of the mean p99 per hour.
type DriftFinding struct {
	// FromSeconds and ToSeconds bound the stretch fitted (offsets from the
	// start of the measured soak); Windows is how many windows were fitted.
	FromSeconds float64 `json:"from_s"`
	ToSeconds   float64 `json:"to_s"`
	Windows     int     `json:"windows"`
	// MeanP99Ms is the mean of the fitted windows' p99; SlopeMsPerHour the
	// fitted slope; SlopePctPerHour the slope relative to the mean.
	MeanP99Ms       float64 `json:"mean_p99_ms"`
	SlopeMsPerHour  float64 `json:"slope_ms_per_hour"`
	SlopePctPerHour float64 `json:"slope_pct_per_hour"`
	R2              float64 `json:"r2"`
	// OverRunPct is the fitted change over the fitted stretch, and
	// Projected24hPct the slope carried over 24 hours, both in percent of
	// the mean p99. The milestone's goal is < 1 % over 24 h.
	OverRunPct      float64 `json:"over_run_pct"`
	Projected24hPct float64 `json:"projected_24h_pct"`
	// ThresholdPctPerHour and MinR2 are the criteria applied.
	ThresholdPctPerHour float64 `json:"threshold_pct_per_hour"`
	MinR2               float64 `json:"min_r2"`
	// Drift is the verdict; Reason says why.
	Drift  bool   `json:"drift"`
	Reason string `json:"reason"`
}

// minDriftWindows is the fewest windows a drift verdict is given on.
const minDriftWindows = 5

// AnalyzeDrift fits p99 against time over the windows that start at or
// after end−last and end by end (the run's measured length), skipping
// windows with fewer than minCount requests (their p99 is noise), and
// applies the drift criterion: slope > thresholdPctPerHour % of the mean p99
// per hour with R² > minR2. Only rising latency is drift.
func AnalyzeDrift(ws []window.Window, end, last time.Duration, minCount uint64, thresholdPctPerHour, minR2 float64) DriftFinding {
	from := max(end-last, 0)
	f := DriftFinding{FromSeconds: from.Seconds(), ToSeconds: end.Seconds(), ThresholdPctPerHour: thresholdPctPerHour, MinR2: minR2}
	var x, y []float64
	var sum float64
	for _, w := range ws {
		if w.Start < from || w.End > end || w.Count < minCount {
			continue
		}
		mid := (w.Start + w.End) / 2
		x = append(x, mid.Hours())
		y = append(y, w.P99)
		sum += w.P99
	}
	f.Windows = len(x)
	if len(x) < minDriftWindows {
		f.Reason = fmt.Sprintf("too few windows (%d < %d with ≥ %d requests) for a verdict", len(x), minDriftWindows, minCount)
		return f
	}
	f.MeanP99Ms = sum / float64(len(y))
	l := fit.Linear(x, y)
	f.SlopeMsPerHour, f.R2 = l.Slope, l.R2
	if f.MeanP99Ms > 0 {
		f.SlopePctPerHour = 100 * l.Slope / f.MeanP99Ms
	}
	f.OverRunPct = f.SlopePctPerHour * (x[len(x)-1] - x[0])
	f.Projected24hPct = f.SlopePctPerHour * 24
	switch classifyTrend(f.SlopePctPerHour, l.R2, thresholdPctPerHour, minR2) {
	case trendSteady:
		f.Drift = true
		f.Reason = fmt.Sprintf("p99 rises %.2f %%/h (threshold %.2f) with R² %.2f > %.2f: latency drifts", f.SlopePctPerHour, thresholdPctPerHour, l.R2, minR2)
	case trendNoisy:
		f.Reason = fmt.Sprintf("p99 slope %.2f %%/h is above %.2f but R² %.2f ≤ %.2f: noise, not a trend", f.SlopePctPerHour, thresholdPctPerHour, l.R2, minR2)
	default:
		f.Reason = fmt.Sprintf("p99 slope %.2f %%/h ≤ %.2f %%/h: no drift", f.SlopePctPerHour, thresholdPctPerHour)
	}
	return f
}

// ResourceSummary condenses the resource samples of a soak.
type ResourceSummary struct {
	Samples int `json:"samples"`
	// RSS and virtual size, MiB.
	RSSStartMB float64 `json:"rss_start_mb"`
	RSSEndMB   float64 `json:"rss_end_mb"`
	RSSMaxMB   float64 `json:"rss_max_mb"`
	VSZEndMB   float64 `json:"vsz_end_mb"`
	VSZMaxMB   float64 `json:"vsz_max_mb"`
	// Threads and open file descriptors.
	ThreadsStart int `json:"threads_start"`
	ThreadsEnd   int `json:"threads_end"`
	ThreadsMax   int `json:"threads_max"`
	FDsStart     int `json:"fds_start"`
	FDsEnd       int `json:"fds_end"`
	FDsMax       int `json:"fds_max"`
	// CPUSeconds is the CPU time used over the sampled span; CPUCores that
	// divided by the span (1.0 = one core busy throughout).
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUCores   float64 `json:"cpu_cores"`
	// FDSlopePerHour and ThreadSlopePerHour are least-squares slopes: a
	// steady rise is a descriptor or thread leak (reported, not judged).
	FDSlopePerHour     float64 `json:"fd_slope_per_hour"`
	ThreadSlopePerHour float64 `json:"thread_slope_per_hour"`
}

// SummarizeResources condenses samples.
func SummarizeResources(ss []procstat.Stats) ResourceSummary {
	r := ResourceSummary{Samples: len(ss)}
	if len(ss) == 0 {
		return r
	}
	first, last := ss[0], ss[len(ss)-1]
	r.RSSStartMB, r.RSSEndMB = first.RSSMiB(), last.RSSMiB()
	r.VSZEndMB = float64(last.VSZBytes) / (1 << 20)
	r.ThreadsStart, r.ThreadsEnd = first.Threads, last.Threads
	r.FDsStart, r.FDsEnd = first.FDs, last.FDs
	x := make([]float64, len(ss))
	fds := make([]float64, len(ss))
	th := make([]float64, len(ss))
	for i, s := range ss {
		r.RSSMaxMB = max(r.RSSMaxMB, s.RSSMiB())
		r.VSZMaxMB = max(r.VSZMaxMB, float64(s.VSZBytes)/(1<<20))
		r.ThreadsMax = max(r.ThreadsMax, s.Threads)
		r.FDsMax = max(r.FDsMax, s.FDs)
		x[i] = s.At.Sub(first.At).Hours()
		fds[i] = float64(s.FDs)
		th[i] = float64(s.Threads)
	}
	r.CPUSeconds = last.CPUSeconds - first.CPUSeconds
	if span := last.At.Sub(first.At).Seconds(); span > 0 {
		r.CPUCores = r.CPUSeconds / span
	}
	r.FDSlopePerHour = fit.Linear(x, fds).Slope
	r.ThreadSlopePerHour = fit.Linear(x, th).Slope
	return r
}

// thinStats returns at most n samples spread evenly over ss, first and last
// included.
func thinStats(ss []procstat.Stats, n int) []procstat.Stats {
	if len(ss) <= n || n < 2 {
		return ss
	}
	out := make([]procstat.Stats, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, ss[i*(len(ss)-1)/(n-1)])
	}
	return out
}
