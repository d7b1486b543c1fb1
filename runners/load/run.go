package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/engram/m18-gate/internal/version"
	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/dataset"
	clientpkg "github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
)

// Errors Run wraps, so that callers can map them to exit codes.
var (
	// ErrValidation: the run completed, and the scenario's [validation]
	// failed; the document says which check and by how much.
	ErrValidation = errors.New("validation failed")
	// ErrUnreachable: the target did not answer.
	ErrUnreachable = errors.New("target unreachable")
	// ErrConfig: the configuration or the scenario cannot be run.
	ErrConfig = errors.New("bad configuration")
	// ErrInterrupted: the context ended the run; the document is partial.
	ErrInterrupted = errors.New("interrupted")
	// ErrPreload: too many preload stores failed for the measurement to mean
	// anything (recall would search an incomplete store).
	ErrPreload = errors.New("preload failed")
)

// Config is one m18-run invocation. Zero values take the scenario's value or
// the documented default.
type Config struct {
	// Scenario is the parsed scenario (required).
	Scenario *scenario.Scenario
	// Endpoint is the target's base URL (required), Target what it is
	// ("builtin" or "external", recorded in the document).
	Endpoint string
	Target   string
	// Duration of each measured phase; 0 = the scenario's total_seconds.
	Duration time.Duration
	// Warmup before each measured phase; nil = the scenario's (its
	// warmup_seconds, else 10 % of the duration, at most 10 s).
	Warmup *time.Duration
	// AutoWarmup ends each warm-up when its windows settle (see
	// SettleWindows), at most Warmup long (nil: the scenario's warm-up,
	// or DefaultAutoWarmupMax when that is 0). It cannot be combined with
	// Shard or StartAt, whose phases follow a timeline planned ahead.
	AutoWarmup bool
	// Rate overrides the scenario's mean rate, keeping the pattern's shape;
	// 0 = the scenario's.
	Rate float64
	// Repetitions is how many warm-up + measured phases run (default 1).
	Repetitions int
	// Seed derives every generated value.
	Seed uint64
	// MaxInFlight caps the requests in flight; 0 = peak rate × Timeout,
	// within [1000, 10000].
	MaxInFlight int
	// MaxRequests bounds each measured phase by count; 0 = the scenario's
	// (max_requests, else mean rate × duration × 1.5 + 1000).
	MaxRequests uint64
	// Timeout of one request (default 10 s).
	Timeout time.Duration
	// Nodes overrides [data] num_nodes (the preload size); nil = the
	// scenario's. 0 skips the preload.
	Nodes *int
	// PreloadedNodes says the target already holds the first PreloadedNodes
	// nodes of this seed's dataset (a previous run of the same seed, or a
	// task that preloaded them itself): the preload is skipped, and reads
	// and stores are generated as if it had run. It cannot be combined with
	// a non-zero Nodes.
	PreloadedNodes int
	// PreloadConcurrency is how many preload stores run at once (default 32).
	PreloadConcurrency int
	// Limits on the generator's schedule slip; zero = DefaultLimits.
	Limits Limits
	// Progress receives human-readable progress lines; nil = none.
	Progress io.Writer
	// Observe is passed to the Engine (see Engine.Observe).
	Observe func(Sample)
	// Metadata recorded as given.
	Labels     []string
	Hardware   result.Fingerprint
	Commit     string
	Ref        string
	CommitTime time.Time
	// Client overrides the HTTP client (default NewClient).
	Client *http.Client
	// TargetPID, when not 0, is the target's process: each measured phase
	// records its CPU time (and its descendants') per completed request in
	// Repetition.Target.
	TargetPID int
	// Instructions, with TargetPID, also counts the target's instructions
	// per request: InstructionsCallgrind, or "" for none.
	Instructions string
	// Adapter, when set, runs the scenario against a competitor system
	// through it (see Adapter) instead of Engram's HTTP API; Endpoint is
	// then only recorded, and Target becomes the competitor's name.
	Adapter Adapter
	// Senders sends from goroutines spread over every core instead of the
	// single-core event loop (see Engine.Senders).
	Senders bool
	// Shard makes this run one generator of several (see Shard): each
	// phase sends its slice of one global schedule, the document records
	// the shard (Run.Sharding) and the measured phases' windows, and
	// m18-run merge combines the shards' documents. Needs StartAt.
	Shard Shard
	// StartAt is when the first phase starts (after the preload, which
	// must be done by then or the phase starts late and skips what was
	// due); every later phase starts at a planned time, the previous
	// phase's planned start plus its duration plus PhaseGap, the same on
	// every shard. Zero: each phase starts when the previous one ended.
	StartAt time.Time
	// PhaseGap is the time planned between a phase's scheduled end and
	// the next phase's start, for the last responses to come in (default
	// 1 s). A phase whose responses take longer starts late.
	PhaseGap time.Duration
}

// DefaultTimeout is the per-request timeout when Config.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// plan is a Config resolved against its scenario.
type plan struct {
	Config
	sc          *scenario.Scenario
	base        *url.URL
	arrival     scenario.Arrival
	duration    time.Duration
	warmup      time.Duration
	maxRequests uint64
	nodes       int
	data        scenario.Data
	weights     [numOps]float64
}

func resolve(c Config) (*plan, error) {
	sc := c.Scenario
	if sc == nil {
		return nil, fmt.Errorf("%w: no scenario", ErrConfig)
	}
	p := &plan{Config: c, sc: sc}
	u, err := url.Parse(c.Endpoint)
	if c.Adapter == nil && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return nil, fmt.Errorf("%w: endpoint %q is not an http:// or https:// URL (example: http://127.0.0.1:7432)", ErrConfig, c.Endpoint)
	}
	p.base = u
	eff := sc.Effective()
	p.duration = c.Duration
	if p.duration == 0 {
		p.duration = time.Duration(eff.TotalSeconds * float64(time.Second))
	}
	if p.duration <= 0 {
		return nil, fmt.Errorf("%w: duration must be > 0 (got %v): set [duration] total_seconds or --duration", ErrConfig, p.duration)
	}
	if c.Warmup != nil {
		p.warmup = *c.Warmup
	} else {
		p.warmup = time.Duration(eff.WarmupSeconds * float64(time.Second))
	}
	if p.warmup < 0 {
		return nil, fmt.Errorf("%w: warm-up must be ≥ 0 (got %v)", ErrConfig, p.warmup)
	}
	if c.AutoWarmup {
		switch {
		case c.Warmup != nil && *c.Warmup == 0:
			return nil, fmt.Errorf("%w: an adaptive warm-up needs a maximum > 0 (auto:10s), or give a warm-up of 0 for none", ErrConfig)
		case p.warmup == 0:
			p.warmup = DefaultAutoWarmupMax
		}
		if c.Shard.sharded() || !c.StartAt.IsZero() {
			return nil, fmt.Errorf("%w: an adaptive warm-up (auto) cannot follow a planned timeline (--shard, --start-at): give a fixed --warmup such as 5s", ErrConfig)
		}
	}
	p.arrival = sc.Arrival
	if c.Rate < 0 {
		return nil, fmt.Errorf("%w: rate must be > 0 (got %g)", ErrConfig, c.Rate)
	}
	if c.Rate > 0 {
		p.arrival = arrival.WithMeanRate(p.arrival, c.Rate)
	}
	if _, err := arrival.New(p.arrival, c.Seed); err != nil {
		return nil, fmt.Errorf("%w: scenario %s: %v", ErrConfig, sc.Ref, err)
	}
	mean := arrival.MeanRate(p.arrival)
	p.maxRequests = c.MaxRequests
	if p.maxRequests == 0 {
		if c.Duration == 0 && c.Rate == 0 {
			p.maxRequests = eff.MaxRequests
		} else {
			p.maxRequests = uint64(math.Ceil(mean*p.duration.Seconds()*1.5)) + 1000
		}
	}
	if p.Repetitions == 0 {
		p.Repetitions = 1
	}
	if p.Repetitions < 0 {
		return nil, fmt.Errorf("%w: repetitions must be ≥ 1 (got %d)", ErrConfig, p.Repetitions)
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultTimeout
	}
	if p.Timeout < 0 {
		return nil, fmt.Errorf("%w: timeout must be > 0 (got %v)", ErrConfig, p.Timeout)
	}
	if p.MaxInFlight == 0 {
		peak := max(p.arrival.Rate, p.arrival.BaseRate, p.arrival.BurstRate)
		p.MaxInFlight = int(min(max(math.Ceil(peak*p.Timeout.Seconds()), 1000), 10000))
	}
	if p.MaxInFlight < 0 {
		return nil, fmt.Errorf("%w: max in-flight must be ≥ 1 (got %d)", ErrConfig, p.MaxInFlight)
	}
	p.data = sc.Data
	p.nodes = sc.Data.NumNodes
	if c.Nodes != nil {
		p.nodes = *c.Nodes
		p.data.NumNodes = max(p.nodes, 1)
	}
	if c.PreloadedNodes < 0 {
		return nil, fmt.Errorf("%w: preloaded nodes must be ≥ 0 (got %d)", ErrConfig, c.PreloadedNodes)
	}
	if c.PreloadedNodes > 0 {
		if c.Nodes != nil && *c.Nodes > 0 {
			return nil, fmt.Errorf("%w: nodes (%d) and preloaded nodes (%d) both set: give one; preloaded nodes are not loaded again", ErrConfig, *c.Nodes, c.PreloadedNodes)
		}
		p.nodes = c.PreloadedNodes
		p.data.NumNodes = p.nodes
	}
	if p.nodes < 0 {
		return nil, fmt.Errorf("%w: nodes must be ≥ 0 (got %d)", ErrConfig, p.nodes)
	}
	if p.data.EmbeddingDim <= 0 {
		p.data.EmbeddingDim = 768
	}
	if p.data.MemorySpaces <= 0 {
		p.data.MemorySpaces = 1
	}
	w := sc.Weights()
	p.weights = Weights(w)
	if _, err := NewMix(p.weights, 0); err != nil {
		return nil, fmt.Errorf("%w: scenario %s: %v", ErrConfig, sc.Ref, err)
	}
	if p.PreloadConcurrency <= 0 {
		p.PreloadConcurrency = 32
	}
	if p.Limits == (Limits{}) {
		p.Limits = DefaultLimits
	}
	if p.Target == "" {
		p.Target = "external"
	}
	if c.Shard.Count < 0 || c.Shard.Index < 0 || (c.Shard.Count > 0 && c.Shard.Index >= c.Shard.Count) {
		return nil, fmt.Errorf("%w: shard %v: want 0 ≤ index < count", ErrConfig, c.Shard)
	}
	if c.Shard.sharded() && c.StartAt.IsZero() {
		return nil, fmt.Errorf("%w: shard %v needs a shared start time (--start-at) so that the shards' phases line up", ErrConfig, c.Shard)
	}
	if p.PhaseGap == 0 {
		p.PhaseGap = time.Second
	}
	if p.PhaseGap < 0 {
		return nil, fmt.Errorf("%w: phase gap must be ≥ 0 (got %v)", ErrConfig, p.PhaseGap)
	}
	return p, nil
}

// Run runs a scenario against a target: the preload, then for each
// repetition a warm-up (not recorded) and a measured phase, and returns the
// m18.result/v1 document.
//
// The document is returned whenever anything was measured, also with an
// error: wrapping ErrValidation (the run is complete, a [validation] check
// failed), ErrGeneratorBottleneck (the first repetition whose figures
// describe the generator rather than the target; every repetition still
// ran, and each one's Generator section says whether it slipped), or ErrInterrupted (ctx ended
// the run; the document holds the repetitions finished so far, the
// interrupted one included up to the interruption). Errors wrapping
// ErrConfig, ErrUnreachable or ErrPreload come without a document.
func Run(ctx context.Context, c Config) (*result.Document, error) {
	p, err := resolve(c)
	if err != nil {
		return nil, err
	}
	gen := dataset.New(p.data, p.Seed)
	var transport clientpkg.Client
	var competitor *result.Competitor
	var targetOffset *float64
	if p.Adapter != nil {
		setup := AdapterSetup{Data: gen, Dim: p.data.EmbeddingDim, Nodes: uint64(p.nodes), Ops: p.ops(),
			MaxInFlight: p.MaxInFlight, Timeout: p.Timeout, Progress: p.progressf}
		if competitor, err = p.Adapter.Describe(ctx, setup); err != nil {
			if errors.Is(err, ErrUnsupported) {
				return nil, fmt.Errorf("%w: %w", ErrConfig, err)
			}
			return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
		}
		p.Target = competitor.Name
		if transport, err = p.Adapter.Client(setup); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	client := p.Client
	if client == nil && p.Adapter == nil {
		client = NewClient(p.MaxInFlight, p.Timeout)
		// Its connections end with the run: a process that runs many
		// (tests, tasks) must not accumulate idle connections on the target.
		defer client.CloseIdleConnections()
	}
	if p.Adapter == nil {
		if targetOffset, err = checkReachable(ctx, client, p.base); err != nil {
			return nil, err
		}
	}
	doc := &result.Document{Schema: result.SchemaVersion, Run: p.runMeta()}
	doc.Run.Start = time.Now().UTC()
	doc.Run.Competitor = competitor

	if p.nodes > 0 && p.PreloadedNodes == 0 {
		var pl *result.Preload
		if p.Adapter != nil {
			pl, err = p.Adapter.Prepare(ctx, AdapterSetup{Data: gen, Dim: p.data.EmbeddingDim, Nodes: uint64(p.nodes), Ops: p.ops(),
				MaxInFlight: p.MaxInFlight, Timeout: p.Timeout, Progress: p.progressf})
			if err != nil && pl == nil {
				err = fmt.Errorf("%w: %v", ErrPreload, err)
			}
		} else {
			pl, err = preload(ctx, client, p, gen)
		}
		doc.Preload = pl
		if err != nil {
			return nil, err
		}
	}

	var shard *result.Shard
	if p.Shard.sharded() {
		shard = &result.Shard{Index: p.Shard.Index, RunID: doc.Run.RunID, Hardware: p.Hardware.Hash, Clock: kernelClock()}
		shard.Clock.TargetOffsetMs = targetOffset
		doc.Run.Sharding = &result.Sharding{Count: p.Shard.Count, StartAt: p.StartAt.UTC()}
	}
	// The measured phase's windows, when sharded: the observer records
	// into the current phase's, none during a warm-up; and an adaptive
	// warm-up's, during one.
	var win atomic.Pointer[windows]
	var warm atomic.Pointer[autoWarmup]
	observe := p.Observe
	if shard != nil || p.AutoWarmup {
		observe = func(s Sample) {
			if w := win.Load(); w != nil {
				w.observe(s)
			}
			if a := warm.Load(); a != nil {
				a.observe(s)
			}
			if p.Observe != nil {
				p.Observe(s)
			}
		}
	}
	eng := &Engine{
		Transport:   transport,
		Client:      client,
		Workload:    &Engram{Base: p.base, Data: gen, Dim: p.data.EmbeddingDim, NumNodes: uint64(p.nodes)},
		MaxInFlight: p.MaxInFlight,
		Limits:      p.Limits,
		Observe:     observe,
		Senders:     p.Senders,
	}
	// planned is the next phase's start when the run follows StartAt.
	planned := p.StartAt
	onTimeline := func(ph Phase) Phase {
		if !planned.IsZero() {
			ph.StartAt = planned
			planned = planned.Add(ph.Duration + p.PhaseGap)
		}
		ph.Shard = p.Shard
		return ph
	}
	total := NewRecorder()
	var elapsed time.Duration
	var seq uint64
	var runErr error
	for rep := 1; rep <= p.Repetitions; rep++ {
		repSeed := p.Seed + uint64(rep)*0x9e3779b97f4a7c15
		var warmed *result.Warmup
		if p.warmup > 0 {
			name := fmt.Sprintf("warm-up %d/%d", rep, p.Repetitions)
			ph := onTimeline(p.phase(name, p.warmup, 0, seq, repSeed^0xa5a5))
			var auto *autoWarmup
			if p.AutoWarmup {
				auto = newAutoWarmup(p.warmup, settleWidth(arrival.MeanRate(p.arrival)), p.Limits.DropAfter+p.Timeout)
				ph.Pacer = auto.pacer(ph.Pacer)
				warm.Store(auto)
				auto.begin()
			}
			res, err := eng.Run(ctx, ph)
			warm.Store(nil)
			if err != nil {
				return nil, err
			}
			if auto != nil {
				warmed = auto.outcome(res)
				p.progressf("%s: %s\n", name, warmed.Note)
			}
			seq = res.NextSeq
			if res.Interrupted {
				runErr = fmt.Errorf("%w during warm-up %d of %d", ErrInterrupted, rep, p.Repetitions)
				break
			}
		}
		var w *windows
		if shard != nil {
			w = newWindows(p.duration)
			win.Store(w)
		}
		cost := startCost(p.TargetPID, p.Instructions)
		res, err := eng.Run(ctx, onTimeline(p.phase(fmt.Sprintf("measure %d/%d", rep, p.Repetitions), p.duration, p.maxRequests, seq, repSeed)))
		win.Store(nil)
		if err != nil {
			return nil, err
		}
		target := cost.stop()
		seq = res.NextSeq
		// A repetition the generator could not keep to its schedule says
		// so in its figures (and the run's error, below).
		slip := res.Check(p.Limits)
		if slip != nil {
			res.Generator.Bottleneck = slip.Error()
		}
		r, err := repetition(rep, res)
		if err != nil {
			return nil, err
		}
		r.Target = target.perRequest(r.Overall.Count)
		r.Warmup = warmed
		if w != nil {
			if r.Windows, err = w.series(); err != nil {
				return nil, err
			}
		}
		if shard != nil {
			shard.Generators = append(shard.Generators, r.Generator)
			shard.Missed += res.Missed
			shard.MaxStartLagMs = max(shard.MaxStartLagMs, r.Generator.StartLagMs)
		}
		if res.StartLag > p.Limits.LateAfter {
			p.progressf("%s started %.0f ms after its planned start: %d sends due before then were skipped\n", fmt.Sprintf("measure %d/%d", rep, p.Repetitions), float64(res.StartLag)/float64(time.Millisecond), res.Missed)
		}
		doc.Repetitions = append(doc.Repetitions, r)
		total.Merge(res.Recorder)
		elapsed += res.Elapsed()
		p.progressf("repetition %d/%d: %d requests in %.1fs, p99 %.2f ms, %.1f%% errors, schedule lag p99 %.2f ms\n",
			rep, p.Repetitions, r.Overall.Count, r.DurationSeconds, r.Overall.Latency.P99, 100*r.Overall.ErrorRate, r.Generator.P99LagMs)
		if res.Interrupted {
			runErr = fmt.Errorf("%w during repetition %d of %d", ErrInterrupted, rep, p.Repetitions)
			break
		}
		// A repetition the generator could not keep to its schedule is
		// reported (the first one, at the end), but the others still run: a
		// busy moment on a shared runner should not cost every later sample.
		// Each repetition's generator figures say which ones slipped.
		if slip != nil && runErr == nil {
			runErr = fmt.Errorf("repetition %d of %d: %w", rep, p.Repetitions, slip)
		}
	}
	doc.Run.End = time.Now().UTC()
	if shard != nil {
		shard.Interrupted = errors.Is(runErr, ErrInterrupted)
		doc.Run.Sharding.Shards = []result.Shard{*shard}
	}
	if len(doc.Repetitions) == 0 {
		if runErr == nil {
			runErr = fmt.Errorf("%w: nothing measured", ErrInterrupted)
		}
		return nil, runErr
	}
	if err := fillEngram(doc, total, elapsed); err != nil {
		return nil, err
	}
	doc.Validation = validate(p.sc.Validation, doc)
	// A shard's figures are a slice of the load: its [validation] is
	// recorded for the merge to re-check on the whole, never failed here.
	if runErr == nil && !doc.Validation.Passed && !p.Shard.sharded() {
		var failed []string
		for _, c := range doc.Validation.Checks {
			if !c.Passed {
				failed = append(failed, c.Message)
			}
		}
		runErr = fmt.Errorf("%w: %s", ErrValidation, strings.Join(failed, "; "))
	}
	return doc, runErr
}

func (p *plan) phase(name string, d time.Duration, maxReq uint64, seq, seed uint64) Phase {
	pacer, _ := arrival.New(p.arrival, seed) // validated in resolve
	mix, _ := NewMix(p.weights, seed^0x3c6ef372fe94f82b)
	ph := Phase{Name: name, Pacer: pacer, Mix: mix, Duration: d, MaxRequests: maxReq, FirstSeq: seq}
	if p.Progress != nil && d >= 3*time.Second {
		ph.Progress = func(pr Progress) {
			rate := float64(pr.Completed) / pr.Elapsed.Seconds()
			p.progressf("%-14s %5.0fs/%-5.0fs  %8.0f req/s  %6d done  %5d errors  %5d in flight\n",
				pr.Phase, pr.Elapsed.Seconds(), pr.Duration.Seconds(), rate, pr.Completed, pr.Errors, pr.InFlight)
		}
	}
	return ph
}

func (p *plan) progressf(format string, args ...any) {
	if p.Progress != nil {
		fmt.Fprintf(p.Progress, format, args...)
	}
}

func (p *plan) runMeta() result.Run {
	w := p.sc.Weights()
	return result.Run{
		Scenario:       p.sc.Ref,
		ScenarioTitle:  p.sc.Name,
		ScenarioSHA256: p.sc.SHA256,
		Seed:           p.Seed,
		RunID:          newRunID(),
		ToolVersion:    version.String(),
		Commit:         p.Commit,
		Ref:            p.Ref,
		CommitTime:     p.CommitTime,
		Labels:         p.Labels,
		Endpoint:       p.Endpoint,
		Target:         p.Target,
		Hardware:       p.Hardware,
		Config: result.RunConfig{
			Rate:            arrival.MeanRate(p.arrival),
			Arrival:         p.arrival.Pattern,
			DurationSeconds: p.duration.Seconds(),
			WarmupSeconds:   p.warmup.Seconds(),
			WarmupAuto:      p.AutoWarmup,
			Repetitions:     p.Repetitions,
			MaxInFlight:     p.MaxInFlight,
			MaxRequests:     p.maxRequests,
			TimeoutSeconds:  p.Timeout.Seconds(),
			NumNodes:        p.nodes,
			EmbeddingDim:    p.data.EmbeddingDim,
			MemorySpaces:    p.data.MemorySpaces,
			Weights: map[string]float64{
				result.OpStore: w.Store, result.OpRecall: w.Recall,
				result.OpSearch: w.Search, result.OpPatternCompletion: w.PatternCompletion,
			},
		},
	}
}

// newRunID is time-ordered with a random suffix: 20060102T150405Z-1a2b3c4d.
func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func repetition(index int, res *PhaseResult) (result.Repetition, error) {
	ops, all, err := res.Recorder.Stats(res.Elapsed())
	if err != nil {
		return result.Repetition{}, err
	}
	return result.Repetition{
		Index:           index,
		Start:           res.Start.UTC(),
		End:             res.End.UTC(),
		DurationSeconds: res.Elapsed().Seconds(),
		Operations:      ops,
		Overall:         all,
		Generator:       res.Generator,
	}, nil
}

// fillEngram sets the Engram loadtest report fields from the merge of every
// measured request of every repetition.
func fillEngram(doc *result.Document, total *Recorder, elapsed time.Duration) error {
	ops, all, err := total.Stats(elapsed)
	if err != nil {
		return err
	}
	doc.ConfigName = doc.Run.ScenarioTitle
	if doc.ConfigName == "" {
		doc.ConfigName = doc.Run.Scenario
	}
	doc.ElapsedSeconds = elapsed.Seconds()
	doc.TotalOperations = all.Count
	doc.TotalErrors = all.Errors
	doc.OverallThroughput = all.Throughput
	doc.OverallErrorRate = all.ErrorRate
	doc.P50LatencyMs = all.Latency.P50
	doc.P95LatencyMs = all.Latency.P95
	doc.P99LatencyMs = all.Latency.P99
	doc.PerOperationStats = map[string]result.EngramOpStats{}
	for name, s := range ops {
		doc.PerOperationStats[name] = result.EngramOpStats{
			Count:         s.Count,
			SuccessCount:  s.Success,
			ErrorCount:    s.Errors,
			P50LatencyUs:  1000 * s.Latency.P50,
			P95LatencyUs:  1000 * s.Latency.P95,
			P99LatencyUs:  1000 * s.Latency.P99,
			P999LatencyUs: 1000 * s.Latency.P999,
			MeanLatencyUs: 1000 * s.Latency.Mean,
			MaxLatencyUs:  1000 * s.Latency.Max,
		}
	}
	return nil
}

// validate evaluates [validation] against the whole run (all repetitions
// merged): p99 ≤ expected_p99_latency_ms, throughput ≥
// expected_throughput_ops_sec, error rate ≤ max_error_rate.
func validate(v scenario.Validation, doc *result.Document) *result.Validation {
	out := &result.Validation{Passed: true, Checks: []result.Check{}}
	add := func(name string, expected, measured float64, passed bool, unit, rel string) {
		c := result.Check{Name: name, Expected: expected, Measured: measured, Passed: passed}
		verdict := "ok"
		if !passed {
			verdict = "FAILED"
			out.Passed = false
		}
		by := ""
		if !passed && expected != 0 {
			by = fmt.Sprintf(", off by %+.1f%%", 100*(measured-expected)/expected)
		}
		c.Message = fmt.Sprintf("%s %s: measured %.4g%s, expected %s %.4g%s%s", name, verdict, measured, unit, rel, expected, unit, by)
		out.Checks = append(out.Checks, c)
	}
	if e := v.ExpectedP99LatencyMs; e != nil {
		add("p99_latency_ms", *e, doc.P99LatencyMs, doc.P99LatencyMs <= *e, " ms", "≤")
	}
	if e := v.ExpectedThroughputOpsSec; e != nil {
		add("throughput_ops_sec", *e, doc.OverallThroughput, doc.OverallThroughput >= *e, " ops/s", "≥")
	}
	if e := v.MaxErrorRate; e != nil {
		add("error_rate", *e, doc.OverallErrorRate, doc.OverallErrorRate <= *e, "", "≤")
	}
	return out
}

// checkReachable asks GET /health/alive (any answer will do, a 404 of a
// server without that route included) before anything else is sent. It
// returns this clock minus the target's, from the answer's Date header
// (whole seconds) against the request's midpoint, or nil without one.
func checkReachable(ctx context.Context, client *http.Client, base *url.URL) (*float64, error) {
	u := *base
	u.Path = joinPath(u.Path, "/health/alive")
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	sent := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s did not answer (%v): start the target (e.g. engram start --port 7432), fix --endpoint, or leave --endpoint out to use the built-in reference target", ErrUnreachable, base, err)
	}
	mid := sent.Add(time.Since(sent) / 2)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	theirs, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return nil, nil
	}
	// Date truncates to the second: its clock read theirs + [0, 1) s.
	off := float64(mid.Sub(theirs.Add(500*time.Millisecond))) / float64(time.Millisecond)
	return &off, nil
}
