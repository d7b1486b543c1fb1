package procstat

// Summary is what a run's samples of the target process come to: the
// figures a reader compares between runs (the dashboard shows them before
// and after a regression). m18-run stores it in the result document under
// Tasks["016"]["target"].
type Summary struct {
	// Samples is how many readings it is drawn from.
	Samples int `json:"samples"`
	// CPUCores is the CPU time used over the sampled span divided by the
	// span (1.0 = one core busy throughout).
	CPUCores float64 `json:"cpu_cores"`
	// RSSMiB is the mean resident size, RSSMaxMiB the largest reading.
	RSSMiB    float64 `json:"rss_mib"`
	RSSMaxMiB float64 `json:"rss_max_mib"`
}

// Summarize sums up samples in time order; it needs two to say anything
// about CPU (one gives the memory figures and CPUCores 0).
func Summarize(samples []Stats) Summary {
	s := Summary{Samples: len(samples)}
	if len(samples) == 0 {
		return s
	}
	var sum float64
	for _, x := range samples {
		m := x.RSSMiB()
		sum += m
		s.RSSMaxMiB = max(s.RSSMaxMiB, m)
	}
	s.RSSMiB = sum / float64(len(samples))
	first, last := samples[0], samples[len(samples)-1]
	if span := last.At.Sub(first.At).Seconds(); span > 0 {
		s.CPUCores = (last.CPUSeconds - first.CPUSeconds) / span
	}
	return s
}
