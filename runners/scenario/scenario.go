// Package scenario reads workload scenario files: Engram loadtest TOML
// (name, [duration], [arrival], [operations], [data], [validation], [chaos])
// and the M18 additions, and ships the built-in scenarios embedded.
//
// It is strict on purpose: an unknown key or an out-of-range value is an
// error naming the file, line and field (with the nearest valid key), because
// a typo that silently falls back to a default measures the wrong thing.
package scenario

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
type Distribution struct {
	// Type is "uniform" (default), "clustered" or "hot_spot".
	Type string
	// clustered: NumClusters centres, StdDev noise around them.
	NumClusters int
	StdDev      float64
	// hot_spot: HotFraction of the nodes receive HotProbability of the
	// accesses (defaults 0.01 and 0.9, Engram's defaults when it has them).
	HotFraction    float64
	HotProbability float64
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
