// Package scenario reads workload scenario files: Engram loadtest TOML
// (name, [duration], [arrival], [operations], [data], [validation], [chaos])
// and the M18 additions, and ships the built-in scenarios embedded.
//
// It is strict on purpose: an unknown key or an out-of-range value is an
// error naming the file, line and field (with the nearest valid key), because
// a typo that silently falls back to a default measures the wrong thing; and
// it reports every problem of a file at once (Errors), not the first. Any
// file Engram's loadtest reads, it reads to the same values, Engram's
// defaults included (no [duration]: 300 s; no embedding_distribution:
// clustered, 10 clusters, std_dev 0.1).
package scenario

import (
	"encoding/binary"
	"math"
)

// Scenario is one parsed, defaulted and validated scenario file.
type Scenario struct {
	Name        string
	Description string
	Duration    Duration
	Arrival     Arrival
	Operations  Operations
	Data        Data
	Validation  Validation
	Chaos       Chaos

	// Ref is how the scenario was asked for: a built-in name such as
	// "ci/fast_regression_check", or the path of a user's file.
	Ref string
	// SHA256 is the hex SHA-256 of the file's bytes.
	SHA256 string
	// Raw is the file's bytes as read.
	Raw []byte
}

// Duration is [duration].
type Duration struct {
	// TotalSeconds is the measured phase's length (Engram: total_seconds).
	TotalSeconds float64
	// WarmupSeconds (M18 addition, warmup_seconds) is run before each
	// measured phase and not recorded. Default: 10 % of TotalSeconds, at
	// most 10 s.
	WarmupSeconds float64
	// MaxRequests (M18 addition, max_requests) bounds the measured phase by
	// count as well as by time; 0 means rate × duration × 1.5 + 1000.
	MaxRequests uint64

	// warmupSet records that the file gave warmup_seconds (so an explicit 0
	// is kept by Effective instead of being replaced by the default).
	warmupSet bool
}

// Arrival is [arrival]: when requests are intended to be sent.
type Arrival struct {
	// Pattern is "constant", "poisson", "exponential" or "periodic_burst".
	Pattern string
	// Rate is requests per second for constant (rate), and the mean rate of
	// poisson (lambda) and exponential (rate or lambda).
	Rate float64
	// periodic_burst: BaseRate between bursts, BurstRate during bursts of
	// BurstDurationSec every BurstPeriodSec.
	BaseRate         float64
	BurstRate        float64
	BurstDurationSec float64
	BurstPeriodSec   float64

	// The M18 patterns (diurnal, bursts, ramp, steps, burst_sequence,
	// composite); runners/arrival builds them and documents them.

	// Spacing is how sends are spaced along the pattern's rate: "regular"
	// (one send per unit of integrated rate, the default) or "poisson"
	// (exponential gaps in the integrated rate).
	Spacing string
	// diurnal: BaseRate at TroughHour rising to BaseRate × PeakMultiplier
	// at PeakHour, one day compressed into CycleSec seconds.
	PeakMultiplier float64
	PeakHour       float64
	TroughHour     float64
	CycleSec       float64
	// bursts: BurstRate for BurstDurationSec, arriving as a Poisson process
	// with quiet gaps at BaseRate of mean MeanGapSec.
	MeanGapSec float64
	// ramp: FromRate to ToRate linearly over RampSec, then ToRate.
	// steps: FromRate, raised by StepRate every StepSec up to MaxRate.
	FromRate float64
	ToRate   float64
	RampSec  float64
	StepRate float64
	StepSec  float64
	MaxRate  float64
	// burst_sequence: GapSec at BaseRate, then for each multiplier m a
	// burst at BaseRate × m for BurstDurationSec followed by GapSec at
	// BaseRate; BaseRate after the sequence.
	Multipliers []float64
	GapSec      float64
	// composite: the weighted parts ([arrival.diurnal] weight = 0.8 …), in
	// a fixed order; Weight is a part's weight.
	Parts  []Arrival
	Weight float64
}

// Operations are the relative weights of [operations], normalised to sum 1.
type Operations struct {
	Store             float64 // store_weight
	Recall            float64 // recall_weight
	Search            float64 // embedding_search_weight
	PatternCompletion float64 // pattern_completion_weight
}

// Data is [data]: what is preloaded and how embeddings are generated.
type Data struct {
	NumNodes     int // num_nodes
	EmbeddingDim int // embedding_dim (Engram accepts 768 only)
	MemorySpaces int // memory_spaces, at least 1
	Distribution Distribution
}

// Distribution is [data] embedding_distribution (inline or table form).
//
// When the file has no embedding_distribution the default is Engram's:
// clustered with 10 clusters and std_dev 0.1 (DefaultDistribution).
type Distribution struct {
	// Type is "clustered" (the default), "uniform" or "hot_spot".
	Type string
	// clustered: NumClusters centres, StdDev noise around them (per
	// component, before normalisation). hot_spot: StdDev is the noise
	// around the single centre (default 0.01, as Engram).
	NumClusters int
	StdDev      float64
	// hot_spot: HotFraction of the nodes receive HotProbability of the
	// accesses (M18 additions hot_fraction and hot_probability, defaults
	// 0.01 and 0.9; Engram has no such keys and spreads accesses uniformly).
	HotFraction    float64
	HotProbability float64

	// center is hot_spot's centre (Engram: center, an array of floats),
	// kept as the float64s' bits in a string so that Distribution, Data and
	// Scenario stay comparable with ==. See Center and WithCenter.
	center string
}

// Center is hot_spot's centre as given by the file's center key (padded with
// zeros to embedding_dim by the data generator); nil means a centre derived
// from the seed.
func (d Distribution) Center() []float64 {
	if d.center == "" {
		return nil
	}
	out := make([]float64, len(d.center)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64([]byte(d.center[8*i : 8*i+8])))
	}
	return out
}

// WithCenter returns d with hot_spot's centre set to c (nil clears it).
func (d Distribution) WithCenter(c []float64) Distribution {
	b := make([]byte, 8*len(c))
	for i, f := range c {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
	}
	d.center = string(b)
	return d
}

// Validation is [validation]. A nil field is not checked.
type Validation struct {
	ExpectedP99LatencyMs     *float64 // expected_p99_latency_ms: p99 must be ≤
	ExpectedThroughputOpsSec *float64 // expected_throughput_ops_sec: throughput must be ≥
	MaxErrorRate             *float64 // max_error_rate: error rate must be ≤
}

// Chaos is [chaos]. m18-run reads it for compatibility; injecting faults is
// the reference target's job (its knobs), not the load generator's.
type Chaos struct {
	Enabled bool
}

// Normalized returns the weights scaled to sum to 1. All-zero (or negative)
// weights give all zeros; Parse rejects such files.
func (o Operations) Normalized() Operations {
	sum := o.Store + o.Recall + o.Search + o.PatternCompletion
	if !(sum > 0) {
		return Operations{}
	}
	return Operations{
		Store:             o.Store / sum,
		Recall:            o.Recall / sum,
		Search:            o.Search / sum,
		PatternCompletion: o.PatternCompletion / sum,
	}
}

// Weights returns the scenario's operation weights normalised to sum 1 (Parse
// already stores them normalised; this also serves hand-built scenarios).
func (s *Scenario) Weights() Operations { return s.Operations.Normalized() }

// MeanRate is the long-run requests per second of the pattern (Engram's
// mean_rate: for periodic_burst the time-weighted mean of the two rates).
func (a Arrival) MeanRate() float64 {
	switch a.Pattern {
	case "periodic_burst":
		if a.BurstPeriodSec <= 0 {
			return a.BaseRate
		}
		f := min(a.BurstDurationSec/a.BurstPeriodSec, 1)
		return a.BurstRate*f + a.BaseRate*(1-f)
	case "diurnal", "bursts", "ramp", "steps", "burst_sequence", "composite":
		return a.m18MeanRate()
	}
	return a.Rate
}

// PeakRate is the highest rate the pattern asks for at any moment.
func (a Arrival) PeakRate() float64 {
	switch a.Pattern {
	case "periodic_burst":
		return max(a.BaseRate, a.BurstRate)
	case "diurnal", "bursts", "ramp", "steps", "burst_sequence", "composite":
		return a.m18PeakRate()
	}
	return a.Rate
}

// Effective returns [duration] with the M18 defaults filled in:
// WarmupSeconds, when the file did not give warmup_seconds, is 10 % of
// TotalSeconds capped at DefaultMaxWarmupSeconds (a hand-built Duration with
// WarmupSeconds > 0 keeps it); MaxRequests, when 0, is
// mean rate × TotalSeconds × 1.5 + 1000.
func (s *Scenario) Effective() Duration {
	d := s.Duration
	if !d.warmupSet && d.WarmupSeconds <= 0 {
		d.WarmupSeconds = min(d.TotalSeconds*0.1, DefaultMaxWarmupSeconds)
	}
	if d.MaxRequests == 0 {
		d.MaxRequests = uint64(math.Ceil(s.Arrival.MeanRate()*d.TotalSeconds*1.5)) + 1000
	}
	d.warmupSet = true
	return d
}
