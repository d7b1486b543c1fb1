package result

import (
	"time"
)

// SchemaVersion names the document format this package reads and writes.
const SchemaVersion = "m18.result/v1"

// Operation names, as the Engram loadtest report keys per_operation_stats.
// The same names key Repetition.Operations.
const (
	OpStore             = "Store"
	OpRecall            = "Recall"
	OpSearch            = "Search"
	OpPatternCompletion = "PatternCompletion"
	// OpOverall keys the merge of every request of a repetition, whatever its
	// operation. It is the percentile of all requests, never the maximum of
	// per-operation percentiles.
	OpOverall = "overall"
)

// Operations lists the operation names in their canonical order.
var Operations = []string{OpStore, OpRecall, OpSearch, OpPatternCompletion}

// Document is one m18.result/v1 document. The fields from ConfigName to
// PerOperationStats carry the Engram loadtest report fields with their exact
// names and units (milliseconds at top level, microseconds per operation), so
// that existing M17 scripts and jq one-liners keep working; they describe the
// whole run (all repetitions merged).
type Document struct {
	// Schema is always SchemaVersion.
	Schema string `json:"schema"`
	// Run describes what was run, where and when.
	Run Run `json:"run"`
	// Repetitions holds one entry per independent repetition (warm-up and
	// measured phase). Each is one sample for the statistics.
	Repetitions []Repetition `json:"repetitions"`
	// Preload describes the preload phase, when one ran.
	Preload *Preload `json:"preload,omitempty"`
	// Validation is the outcome of the scenario's [validation] checks.
	Validation *Validation `json:"validation,omitempty"`
	// Tasks holds the sections that the M18 tasks (001…016) add, keyed by
	// task id ("001", …). Their content is defined by each task.
	Tasks map[string]any `json:"tasks,omitempty"`

	// Engram loadtest report fields (whole run).
	ConfigName        string                   `json:"config_name"`
	ElapsedSeconds    float64                  `json:"elapsed_seconds"`
	TotalOperations   uint64                   `json:"total_operations"`
	TotalErrors       uint64                   `json:"total_errors"`
	OverallThroughput float64                  `json:"overall_throughput"`
	OverallErrorRate  float64                  `json:"overall_error_rate"`
	P50LatencyMs      float64                  `json:"p50_latency_ms"`
	P95LatencyMs      float64                  `json:"p95_latency_ms"`
	P99LatencyMs      float64                  `json:"p99_latency_ms"`
	PerOperationStats map[string]EngramOpStats `json:"per_operation_stats"`
}

// Run is the metadata of one invocation.
type Run struct {
	// Scenario is the name the scenario was asked for by ("ci/fast_regression_check")
	// or the path of a user's file. It is the key results are compared by.
	Scenario string `json:"scenario"`
	// ScenarioTitle is the scenario file's own `name` field.
	ScenarioTitle string `json:"scenario_title,omitempty"`
	// ScenarioSHA256 is the hex SHA-256 of the scenario file's bytes.
	ScenarioSHA256 string `json:"scenario_sha256"`
	// Seed is the seed every generated value derives from.
	Seed uint64 `json:"seed"`
	// RunID is unique per invocation (time-ordered, random suffix).
	RunID string    `json:"run_id"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// ToolVersion is the m18-gate version that measured.
	ToolVersion string `json:"tool_version"`
	// Commit and Ref are the git commit and ref of the code under test, when
	// known (GITHUB_SHA/GITHUB_REF, or the repository m18-run ran in).
	Commit string `json:"commit,omitempty"`
	Ref    string `json:"ref,omitempty"`
	// CommitTime is the committer time of Commit, when known; history uses
	// it to order baselines when the repository under test is not at hand.
	CommitTime time.Time `json:"commit_time,omitempty"`
	// Labels are the runner labels (m18-probe's, plus any given).
	Labels []string `json:"labels,omitempty"`
	// Endpoint is the base URL of the target; Target says what it was
	// ("builtin" for the in-process reference target, else "external").
	Endpoint string `json:"endpoint"`
	Target   string `json:"target"`
	// Config is the effective load configuration after flags and budget.
	Config RunConfig `json:"config"`
	// Hardware is the fingerprint of the machine that ran the load.
	Hardware Fingerprint `json:"hardware"`
	// Sharding is set when the load was one shard of several generators
	// (m18-run --shard), or the merge of them (m18-run merge).
	Sharding *Sharding `json:"sharding,omitempty"`
	// Competitor is set when the target was another system driven through
	// a competitor adapter (m18-run --competitor); Target is then its name.
	Competitor *Competitor `json:"competitor,omitempty"`
}

// Competitor describes a competitor system a run measured and how the
// scenario's operations were expressed in it.
type Competitor struct {
	// Name is the adapter's name ("postgres", "weaviate", "qdrant", "neo4j").
	Name string `json:"name"`
	// Version is the version the server reported.
	Version string `json:"version"`
	// Method labels how the operations were run ("exact search, recursive
	// CTE (plain SQL)", "pgvector", "HNSW"): a reader must know whether a
	// figure is an exact or an approximate search.
	Method string `json:"method"`
	// Operations maps each operation the scenario sent to what the
	// competitor ran for it.
	Operations map[string]string `json:"operations"`
}

// SeriesName is the name a run's history series goes by: the scenario, or
// for a competitor's run the scenario, "@" and the competitor's name, so
// that a competitor's runs never become Engram's baselines.
func (r Run) SeriesName() string {
	if r.Competitor != nil && r.Competitor.Name != "" {
		return r.Scenario + "@" + r.Competitor.Name
	}
	return r.Scenario
}

// Sharding describes a load sent by several generators, each its
// deterministic slice of one schedule, all starting at StartAt.
type Sharding struct {
	// Count is how many shards the schedule was split into.
	Count int `json:"count"`
	// StartAt is the shared start of the first phase; each later phase
	// starts at a planned time derived from it, the same on every shard.
	StartAt time.Time `json:"start_at"`
	// Shards holds one entry in a shard's own document, every merged
	// shard's in a merged one (by index).
	Shards []Shard `json:"shards"`
	// Problems says why a merged document is not one complete, valid
	// measurement: a shard missing, started late, or whose generator
	// slipped. Empty when it is.
	Problems []string `json:"problems,omitempty"`
}

// Shard is what one generator of a sharded run reports about itself.
type Shard struct {
	Index int `json:"index"`
	// RunID is the shard's own run id; Hardware its fingerprint hash.
	RunID    string `json:"run_id"`
	Hardware string `json:"hardware,omitempty"`
	// Clock is the shard's clock as it knew it at the start.
	Clock Clock `json:"clock"`
	// MaxStartLagMs is the latest any of its phases began after its
	// planned start, milliseconds; Missed counts the sends of its slice
	// skipped because they were due before their phase began.
	MaxStartLagMs float64 `json:"max_start_lag_ms"`
	Missed        uint64  `json:"missed"`
	// Interrupted says the shard was stopped (SIGINT/SIGTERM) before the
	// end of its schedule: its document holds only part of its slice.
	Interrupted bool `json:"interrupted,omitempty"`
	// Generators is the shard's generator figures, one per repetition.
	Generators []Generator `json:"generators"`
}

// Clock is a generator's estimate of its clock's offset from true time,
// which bounds how well the shards' phases line up.
type Clock struct {
	// Synchronized says the kernel's clock is disciplined (NTP, PTP).
	Synchronized bool `json:"synchronized"`
	// EstErrorMs and MaxErrorMs are the kernel's estimated and maximum
	// error of the clock (adjtimex), milliseconds; 0 when unknown.
	EstErrorMs float64 `json:"est_error_ms"`
	MaxErrorMs float64 `json:"max_error_ms"`
	// TargetOffsetMs is this clock minus the target's (from its HTTP Date
	// header at the midpoint of a request, so to within about a second):
	// a gross check, nil when the target sent no Date.
	TargetOffsetMs *float64 `json:"target_offset_ms,omitempty"`
}

// RunConfig is the effective configuration of the load.
type RunConfig struct {
	Rate            float64 `json:"rate_ops_sec"`
	Arrival         string  `json:"arrival"`
	DurationSeconds float64 `json:"duration_seconds"`
	WarmupSeconds   float64 `json:"warmup_seconds"`
	Repetitions     int     `json:"repetitions"`
	MaxInFlight     int     `json:"max_in_flight"`
	MaxRequests     uint64  `json:"max_requests,omitempty"`
	TimeoutSeconds  float64 `json:"timeout_seconds"`
	NumNodes        int     `json:"num_nodes"`
	EmbeddingDim    int     `json:"embedding_dim"`
	MemorySpaces    int     `json:"memory_spaces"`
	// Weights are the normalised operation weights, keyed by operation name.
	Weights map[string]float64 `json:"weights"`
	Budget  string             `json:"budget,omitempty"`
	// WarmupAuto says the warm-up was adaptive (m18-run --warmup auto):
	// WarmupSeconds is then its maximum, and each repetition's Warmup
	// says how long it ran and how it ended.
	WarmupAuto bool `json:"warmup_auto,omitempty"`
}

// Fingerprint describes the hardware and software a result was measured on.
// Hash covers only the fields that matter for comparability; results are
// never compared across different hashes.
type Fingerprint struct {
	// Hash is a short stable hash (12 hex digits) of the comparable fields.
	Hash          string   `json:"hash"`
	CPUModel      string   `json:"cpu_model"`
	Arch          string   `json:"arch"`
	LogicalCores  int      `json:"logical_cores"`
	PhysicalCores int      `json:"physical_cores"`
	Sockets       int      `json:"sockets"`
	NUMANodes     int      `json:"numa_nodes"`
	MemoryBytes   uint64   `json:"memory_bytes"`
	Kernel        string   `json:"kernel"`
	OS            string   `json:"os"`
	SIMD          []string `json:"simd,omitempty"`
	// CgroupCPUQuota is the CPU limit in cores from the cgroup, 0 if none.
	CgroupCPUQuota float64 `json:"cgroup_cpu_quota"`
	Governor       string  `json:"governor,omitempty"`
	SMT            string  `json:"smt,omitempty"`
	// PerfCounters says whether hardware performance counters work here.
	PerfCounters bool   `json:"perf_counters"`
	GoVersion    string `json:"go_version"`
	ToolVersion  string `json:"tool_version"`
}

// Preload describes loading num_nodes memories before measuring.
type Preload struct {
	Nodes           int     `json:"nodes"`
	Errors          uint64  `json:"errors"`
	DurationSeconds float64 `json:"duration_seconds"`
	RatePerSecond   float64 `json:"rate_per_sec"`
}

// Repetition is one independent repetition: a warm-up (not recorded) and a
// measured phase.
type Repetition struct {
	Index           int       `json:"index"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationSeconds float64   `json:"duration_seconds"`
	// Operations holds per-operation figures keyed by operation name.
	Operations map[string]OpStats `json:"operations"`
	// Overall is the merge of all requests of this repetition.
	Overall OpStats `json:"overall"`
	// Generator reports whether the load generator kept its schedule.
	Generator Generator `json:"generator"`
	// Windows is the measured phase in windows of its schedule, aligned
	// to the phase's start (in a sharded run, the planned start every
	// shard shares); recorded for sharded runs.
	Windows []Window `json:"windows,omitempty"`
	// Target is what the measured phase cost the target's process, when
	// the run knew it (m18-run --target-pid, or a target it started).
	Target *TargetCost `json:"target,omitempty"`
	// Warmup is how the repetition's adaptive warm-up went (m18-run
	// --warmup auto); absent for a fixed warm-up, whose length is
	// Run.Config.WarmupSeconds.
	Warmup *Warmup `json:"warmup,omitempty"`
}

// How an adaptive warm-up ended (Warmup.Ended).
const (
	// WarmupSettled: its last windows were indistinguishable at their
	// sampling error, and it stopped there.
	WarmupSettled = "settled"
	// WarmupMaximum: it ran to its maximum without settling.
	WarmupMaximum = "maximum"
)

// Warmup is one repetition's adaptive warm-up: it ran in windows of its
// schedule and ended at the first window at which the last three were
// pairwise indistinguishable (each window's median latency inside the
// other's distribution-free 95 % confidence interval for the median), or
// at its maximum.
type Warmup struct {
	// Auto is always true (the warm-up was adaptive).
	Auto bool `json:"auto"`
	// Seconds is the warm-up's length, from its start to its last
	// response; MaxSeconds bounded it.
	Seconds    float64 `json:"seconds"`
	MaxSeconds float64 `json:"max_seconds"`
	// WindowSeconds is the width of its windows; Windows how many were
	// judged, and WindowP50Ms their median latencies (milliseconds, 2
	// significant digits), in order.
	WindowSeconds float64   `json:"window_seconds"`
	Windows       int       `json:"windows"`
	WindowP50Ms   []float64 `json:"window_p50_ms,omitempty"`
	// Ended is WarmupSettled or WarmupMaximum; Note says it in a sentence
	// ("settled after 3 windows of 0.333 s (1.01 s of at most 10 s)").
	Ended string `json:"ended"`
	Note  string `json:"note"`
}

// Window is the requests of a repetition whose intended send fell in
// [StartSeconds, EndSeconds) of the measured phase.
type Window struct {
	StartSeconds float64 `json:"start_s"`
	EndSeconds   float64 `json:"end_s"`
	Count        uint64  `json:"count"`
	Errors       uint64  `json:"errors"`
	// Rate is Count per second of window.
	Rate float64 `json:"rate"`
	// P50, P99 and Max latency, milliseconds, from Histogram: latency in
	// µs, 2 significant digits (see WindowHistogram), encoded as
	// OpStats.Histogram is.
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	Histogram string  `json:"histogram"`
}

// Generator describes how well the load generator kept its schedule. When it
// could not, the figures describe the generator, not the target.
type Generator struct {
	Scheduled uint64 `json:"scheduled"`
	Sent      uint64 `json:"sent"`
	// Late counts requests sent more than the lateness tolerance after their
	// intended time; Dropped counts those never sent (in-flight cap reached
	// or the run ended first).
	Late    uint64 `json:"late"`
	Dropped uint64 `json:"dropped"`
	// Schedule lag (actual send minus intended send), milliseconds.
	MeanLagMs float64 `json:"mean_lag_ms"`
	P99LagMs  float64 `json:"p99_lag_ms"`
	MaxLagMs  float64 `json:"max_lag_ms"`
	// MaxInFlightSeen is the largest number of requests in flight at once.
	MaxInFlightSeen int `json:"max_in_flight_seen"`
	// StartLagMs is how long after its planned start (a sharded run's
	// shared time) the phase began; Missed counts the sends due before
	// that, skipped rather than sent in a burst.
	StartLagMs float64 `json:"start_lag_ms,omitempty"`
	Missed     uint64  `json:"missed,omitempty"`
	// Bottleneck, when set, says the generator slipped beyond its limits
	// (too many sends late or dropped): these figures describe the
	// generator, not the target.
	Bottleneck string `json:"bottleneck,omitempty"`
}

// OpStats are the figures of one operation (or of all) in one repetition.
type OpStats struct {
	Count   uint64 `json:"count"`
	Success uint64 `json:"success"`
	Errors  uint64 `json:"errors"`
	// ErrorsByKind counts errors by class: "http_4xx", "http_5xx" (or the
	// exact "http_503" …), "timeout", "connection".
	ErrorsByKind map[string]uint64 `json:"errors_by_kind,omitempty"`
	ErrorRate    float64           `json:"error_rate"`
	// Throughput is completed requests (success or error) per second of the
	// measured phase.
	Throughput float64 `json:"throughput_ops_sec"`
	// Latency is measured from the intended send time (coordinated-omission
	// free); Service from the actual send. Milliseconds.
	Latency Latency `json:"latency_ms"`
	Service Latency `json:"service_ms"`
	// Histogram and ServiceHistogram are HDR histograms of latency in
	// microseconds (1 µs – 1 h, 3 significant digits), encoded with
	// hdrhistogram-go's Encode(V2CompressedEncodingCookieBase) (base64).
	Histogram        string `json:"histogram,omitempty"`
	ServiceHistogram string `json:"service_histogram,omitempty"`
}

// Latency holds the percentiles of one distribution, in milliseconds.
type Latency struct {
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	P9999 float64 `json:"p99_99"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// Validation is the outcome of a scenario's [validation] section.
type Validation struct {
	Passed bool    `json:"passed"`
	Checks []Check `json:"checks"`
}

// Check is one validation check: what was expected and what was measured.
type Check struct {
	Name     string  `json:"name"`
	Expected float64 `json:"expected"`
	Measured float64 `json:"measured"`
	Passed   bool    `json:"passed"`
	Message  string  `json:"message"`
}

// EngramOpStats is one entry of the Engram loadtest report's
// per_operation_stats, latencies in microseconds.
type EngramOpStats struct {
	Count         uint64  `json:"count"`
	SuccessCount  uint64  `json:"success_count"`
	ErrorCount    uint64  `json:"error_count"`
	P50LatencyUs  float64 `json:"p50_latency_us"`
	P95LatencyUs  float64 `json:"p95_latency_us"`
	P99LatencyUs  float64 `json:"p99_latency_us"`
	P999LatencyUs float64 `json:"p999_latency_us"`
	MeanLatencyUs float64 `json:"mean_latency_us"`
	MaxLatencyUs  float64 `json:"max_latency_us"`
}

// TargetCost is the target process's resource use during one measured phase,
// per completed request: CPU time is far less noisy than latency on a shared
// machine (it does not count time spent waiting for a core), so it shows a
// slowdown that latency hides.
type TargetCost struct {
	// PID of the target process (its descendants are counted too).
	PID int `json:"pid"`
	// Source says how it was measured ("procfs schedstat").
	Source string `json:"source"`
	// CPUSeconds is user + system CPU time used during the measured phase.
	CPUSeconds float64 `json:"cpu_seconds"`
	// Requests is the number of requests completed in the phase.
	Requests uint64 `json:"requests"`
	// CPUPerOpMs is CPUSeconds per request, in milliseconds.
	CPUPerOpMs float64 `json:"cpu_per_op_ms"`
	// InstructionsPerOp is instructions retired per request, when
	// measured (hardware counters or valgrind); 0 when not.
	InstructionsPerOp float64 `json:"instructions_per_op,omitempty"`
	// Note says what was not measured and why.
	Note string `json:"note,omitempty"`
}
