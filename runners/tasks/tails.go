package tasks

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
)

// TailsConfig is how task 006 measures tail latency. TailsBudget returns
// each budget's; callers may adjust a copy.
type TailsConfig struct {
	// Scenario is the built-in task scenario (under tasks/).
	Scenario string
	// Duration is the measured run; Warmup runs before it, unrecorded.
	Duration, Warmup time.Duration
	// Rate overrides the scenario's mean rate when > 0.
	Rate float64
	// Keep is how many of the slowest requests are kept (default 100).
	Keep int
	// Deepest is the deepest quantile the budget promises to estimate
	// reliably: the run must have at least 10/(1−Deepest) samples.
	Deepest float64
	// MaxP999Ms is the ceiling on p99.9, checked when p99.9 is reliable.
	MaxP999Ms float64
	// MaxErrorRate is the ceiling on the run's error rate.
	MaxErrorRate float64
	// ClusterGap: slowest requests sent less than this apart belong to one
	// cluster (a stall or a burst shows as one).
	ClusterGap time.Duration
}

// TailsBudget returns task 006's configuration for a budget: enough
// samples for p99.9 at pr (≥ 10 000), for p99.999 at nightly and full
// (≥ 1 000 000).
func TailsBudget(b Budget) TailsConfig {
	c := TailsConfig{Keep: 100, MaxErrorRate: 0.01, ClusterGap: 100 * time.Millisecond}
	switch b {
	case BudgetNightly:
		c.Scenario, c.Duration, c.Warmup = "006_tails_nightly", 20*time.Minute, 30*time.Second
		c.Deepest, c.MaxP999Ms = 0.99999, 15
	case BudgetFull:
		c.Scenario, c.Duration, c.Warmup = "006_tails_full", 2*time.Hour, 2*time.Minute
		c.Deepest, c.MaxP999Ms = 0.99999, 15
	default:
		c.Scenario, c.Duration, c.Warmup = "006_tails_pr", 32*time.Second, 3*time.Second
		c.Deepest, c.MaxP999Ms = 0.999, 50
	}
	return c
}

// TailQuantile is one tail figure and whether the run can estimate it.
type TailQuantile struct {
	// Name is "p99.9", "p99.99", "p99.999" or "max"; Q the quantile (1 for
	// the maximum).
	Name string  `json:"name"`
	Q    float64 `json:"q"`
	// ValueMs is the latency from the intended send time, milliseconds.
	ValueMs float64 `json:"value_ms"`
	// Samples is the run's request count; MinSamples the count needed to
	// estimate the quantile, 10/(1−q): about ten requests beyond it. The
	// maximum is an observation, not an estimate, but it describes the
	// 1−1/n quantile of a run of n, so it gets p99.999's requirement.
	Samples    uint64 `json:"samples"`
	MinSamples uint64 `json:"min_samples"`
	// Reliable is Samples ≥ MinSamples. An unreliable figure is shown, never
	// compared or gated on.
	Reliable bool `json:"reliable"`
}

// TailQuantiles lists the reported tail quantiles (the max is separate).
var TailQuantiles = []struct {
	Name string
	Q    float64
}{{"p99.9", 0.999}, {"p99.99", 0.9999}, {"p99.999", 0.99999}}

// MinSamplesFor returns 10/(1−q) rounded up: the requests a run needs
// before its q-quantile rests on about ten requests beyond it.
func MinSamplesFor(q float64) uint64 {
	if q >= 1 {
		q = 0.99999
	}
	// Rounding away float noise: 10/(1−0.99999) is 1000000.0000082.
	return uint64(math.Ceil(10 / (1 - q) * (1 - 1e-9)))
}

// EstimateTails returns p99.9, p99.99, p99.999 and the maximum of h (a
// latency histogram in microseconds), each marked reliable or not.
func EstimateTails(h *hdr.Histogram) []TailQuantile {
	n := uint64(h.TotalCount())
	var out []TailQuantile
	for _, tq := range TailQuantiles {
		m := MinSamplesFor(tq.Q)
		out = append(out, TailQuantile{Name: tq.Name, Q: tq.Q, ValueMs: float64(h.ValueAtQuantile(100*tq.Q)) / 1000,
			Samples: n, MinSamples: m, Reliable: n >= m})
	}
	m := MinSamplesFor(1)
	out = append(out, TailQuantile{Name: "max", Q: 1, ValueMs: float64(h.Max()) / 1000, Samples: n, MinSamples: m, Reliable: n >= m})
	return out
}

// TailRequest is one of the slowest requests, with what the generator saw
// when it was sent.
type TailRequest struct {
	Op string `json:"op"`
	// IntendedS is the intended send time, seconds from the start of the
	// measured phase; SentS the actual send.
	IntendedS float64 `json:"intended_s"`
	SentS     float64 `json:"sent_s"`
	// LatencyMs runs from the intended send, ServiceMs from the actual
	// send; LagMs is the schedule lag (actual minus intended send).
	LatencyMs float64 `json:"latency_ms"`
	ServiceMs float64 `json:"service_ms"`
	LagMs     float64 `json:"lag_ms"`
	// Outcome is "ok" or the error class ("http_503", "timeout", …).
	Outcome string `json:"outcome"`
	// InFlightAtSend is the number of requests the generator had in flight
	// when it was sent, itself included (load.Sample.InFlight).
	InFlightAtSend int `json:"in_flight_at_send"`
}

// TailCluster is a run of slowest requests sent close together: a stall,
// a burst, a GC pause.
type TailCluster struct {
	StartS       float64 `json:"start_s"`
	EndS         float64 `json:"end_s"`
	Count        int     `json:"count"`
	MaxLatencyMs float64 `json:"max_latency_ms"`
}

// TailReport is task 006's section of the result document
// (Document.Tasks["006"]).
type TailReport struct {
	Budget     string  `json:"budget"`
	DurationS  float64 `json:"duration_s"`
	RateOpsSec float64 `json:"rate_ops_sec"`
	Samples    uint64  `json:"samples"`
	Errors     uint64  `json:"errors"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	// Quantiles holds p99.9, p99.99, p99.999 and max.
	Quantiles []TailQuantile `json:"quantiles"`
	// Slowest are the slowest requests, slowest first.
	Slowest []TailRequest `json:"slowest"`
	// Clusters groups the slowest requests by send time.
	Clusters []TailCluster  `json:"clusters"`
	Checks   []result.Check `json:"checks"`
}

// Quantile returns the named tail figure.
func (r *TailReport) Quantile(name string) (TailQuantile, bool) {
	for _, q := range r.Quantiles {
		if q.Name == name {
			return q, true
		}
	}
	return TailQuantile{}, false
}

// TailRecorder keeps what task 006 needs of every sample: an HDR histogram
// of latency and the slowest requests, each with the requests the
// generator had in flight when it was sent (load.Sample.InFlight). Its
// Observe has the signature of load.Engine.Observe and is safe for
// concurrent use.
type TailRecorder struct {
	keep int

	mu   sync.Mutex
	hist *hdr.Histogram
	slow slowHeap
}

// NewTailRecorder keeps the keep slowest requests (keep ≤ 0 = 100).
func NewTailRecorder(keep int) *TailRecorder {
	if keep <= 0 {
		keep = 100
	}
	return &TailRecorder{keep: keep, hist: load.NewHistogram()}
}

// Observe records one sample.
func (t *TailRecorder) Observe(s load.Sample) {
	us := min(max(int64(s.Latency/time.Microsecond), 1), int64(time.Hour/time.Microsecond))
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = t.hist.RecordValue(us)
	if len(t.slow) < t.keep || s.Latency > t.slow[0].Latency {
		if len(t.slow) == t.keep {
			heap.Pop(&t.slow)
		}
		heap.Push(&t.slow, s)
	}
}

// Histogram returns a copy of the latency histogram (microseconds).
func (t *TailRecorder) Histogram() *hdr.Histogram {
	t.mu.Lock()
	defer t.mu.Unlock()
	return hdr.Import(t.hist.Export())
}

// Slowest returns the kept slowest requests, slowest first.
func (t *TailRecorder) Slowest() []TailRequest {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TailRequest, 0, len(t.slow))
	for _, s := range t.slow {
		r := TailRequest{
			Op: s.Op.String(), IntendedS: s.Intended.Seconds(), SentS: (s.Intended + max(s.Lag, 0)).Seconds(),
			LatencyMs: ms(s.Latency), ServiceMs: ms(s.Service), LagMs: ms(s.Lag),
			Outcome: s.Outcome.Kind(), InFlightAtSend: s.InFlight,
		}
		if r.Outcome == "" {
			r.Outcome = "ok"
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b TailRequest) int { return cmp.Compare(b.LatencyMs, a.LatencyMs) })
	return out
}

// ClusterSlowest groups requests by send time: consecutive sends (in time
// order) less than gap apart form one cluster. Clusters come in time order.
func ClusterSlowest(rs []TailRequest, gap time.Duration) []TailCluster {
	if len(rs) == 0 {
		return nil
	}
	byTime := slices.Clone(rs)
	slices.SortFunc(byTime, func(a, b TailRequest) int { return cmp.Compare(a.SentS, b.SentS) })
	var out []TailCluster
	cur := TailCluster{StartS: byTime[0].SentS, EndS: byTime[0].SentS}
	for _, r := range byTime {
		if r.SentS-cur.EndS > gap.Seconds() {
			out = append(out, cur)
			cur = TailCluster{StartS: r.SentS, EndS: r.SentS}
		}
		cur.EndS = r.SentS
		cur.Count++
		cur.MaxLatencyMs = max(cur.MaxLatencyMs, r.LatencyMs)
	}
	return append(out, cur)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// slowHeap is a min-heap of samples by latency: its root is the fastest of
// the slowest, the one to evict.
type slowHeap []load.Sample

func (h slowHeap) Len() int           { return len(h) }
func (h slowHeap) Less(i, j int) bool { return h[i].Latency < h[j].Latency }
func (h slowHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *slowHeap) Push(x any)        { *h = append(*h, x.(load.Sample)) }
func (h *slowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Tails runs task 006: a warm-up, then an open-loop run long enough for the
// budget's deepest quantile, recording every request's latency and the
// slowest requests with the requests in flight at each one's send.
func Tails(ctx context.Context, env Env, cfg TailsConfig) (*Outcome, error) {
	if env.Duration > 0 {
		cfg.Duration = env.Duration
	}
	if env.Rate > 0 {
		cfg.Rate = env.Rate
	}
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("task 006: duration must be > 0 (got %v)", cfg.Duration)
	}
	sc, err := taskScenario(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	tgt, base, err := prepareRun(ctx, env, sc, "006", "tails", runLoad{Rate: cfg.Rate, Warmup: cfg.Warmup})
	if err != nil {
		return nil, err
	}
	defer tgt.Close()
	rec := NewTailRecorder(cfg.Keep)
	mc := base
	mc.Duration = cfg.Duration
	mc.Observe = rec.Observe
	mc.Progress = env.Progress
	doc, runErr := load.Run(ctx, mc)
	generatorOK, fatal := sortRunErr(doc, runErr)
	if fatal != nil {
		return nil, fmt.Errorf("task 006: %w", fatal)
	}
	h := rec.Histogram()
	rep := &TailReport{
		Budget: string(env.Budget), DurationS: doc.ElapsedSeconds, RateOpsSec: doc.Run.Config.Rate,
		Samples: uint64(h.TotalCount()), Errors: doc.TotalErrors,
		P50Ms: float64(h.ValueAtQuantile(50)) / 1000, P99Ms: float64(h.ValueAtQuantile(99)) / 1000,
		Quantiles: EstimateTails(h), Slowest: rec.Slowest(),
	}
	rep.Clusters = ClusterSlowest(rep.Slowest, cfg.ClusterGap)
	rep.Checks = tailChecks(cfg, rep, doc.OverallErrorRate, generatorOK)
	ensureTasks(doc)
	doc.Tasks["006"] = rep
	for _, q := range rep.Quantiles {
		mark := ""
		if !q.Reliable {
			mark = fmt.Sprintf(" (unreliable: %d < %d samples)", q.Samples, q.MinSamples)
		}
		progressf(env, "006 tails: %-8s %8.2f ms%s\n", q.Name, q.ValueMs, mark)
	}
	return &Outcome{Document: doc, Checks: rep.Checks}, nil
}

func tailChecks(cfg TailsConfig, rep *TailReport, errRate float64, generatorOK bool) []result.Check {
	need := MinSamplesFor(cfg.Deepest)
	cs := []result.Check{
		checkAs("tail_samples", float64(rep.Samples), "≥", float64(need), " requests", rep.Samples >= need),
	}
	cs[0].Message += fmt.Sprintf(" (for q = %g)", cfg.Deepest)
	if q, ok := rep.Quantile("p99.9"); ok {
		if q.Reliable {
			cs = append(cs, checkAs("p99.9_ms", q.ValueMs, "≤", cfg.MaxP999Ms, " ms", q.ValueMs <= cfg.MaxP999Ms))
		} else {
			c := checkAs("p99.9_ms", q.ValueMs, "≤", cfg.MaxP999Ms, " ms", false)
			c.Message = fmt.Sprintf("p99.9_ms FAILED: unreliable (%d < %d samples); lengthen the run or raise the rate", q.Samples, q.MinSamples)
			cs = append(cs, c)
		}
	}
	cs = append(cs, checkAs("error_rate", errRate, "≤", cfg.MaxErrorRate, "", errRate <= cfg.MaxErrorRate))
	gc := checkAs("generator_kept_schedule", b2f(generatorOK), "=", 1, "", generatorOK)
	if !generatorOK {
		gc.Message += ": the load generator could not keep its schedule; tails describe the generator"
	}
	return append(cs, gc)
}
