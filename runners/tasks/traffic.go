package tasks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram/m18-gate/internal/version"
	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/dataset"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/target"
)

// trafficTasks returns tasks 001 (production workload), 003 (bursts) and
// 005 (throughput breaking point).
func trafficTasks() []Task {
	return []Task{
		{ID: "001", Title: "Production workload",
			Description: "diurnal, bursty, ramping and composite arrivals followed window by window, with correlated operations (store→recall, recall→search, search→recall) and a CSV timeline",
			Run:         budgeted(Production, ProductionBudget)},
		{ID: "003", Title: "Burst traffic",
			Description: "2×, 5× and 10× bursts, sustained and oscillating: per-second p99, recovery time after each burst, errors in and out of bursts, target RSS",
			Run:         budgeted(BurstTraffic, BurstBudget)},
		{ID: "005", Title: "Throughput breaking point",
			Description: "the rate raised step by step (+100 ops/s) until p99 passes its limit or errors pass 5 %: breaking point, headroom over the expected rate, spread across runs",
			Run:         budgeted(BreakingPoint, BreakingBudget)},
	}
}

// trRequestTimeout is the timeout of one request of the traffic tasks.
const trRequestTimeout = 10 * time.Second

// trRig is what a traffic task sends with: a target (started here or
// given), an HTTP client, the scenario's data, and the preloaded store.
type trRig struct {
	env      Env
	sc       *scenario.Scenario
	base     *url.URL
	endpoint string
	kind     string // "builtin" or "external"
	client   *http.Client
	data     *dataset.Generator
	nodes    int
	pid      int // process whose resources are sampled; 0 = none
	preload  *result.Preload
	inst     *target.Instance
	maxIn    int
	// limits on the generator's schedule slip (zero = load.DefaultLimits).
	limits load.Limits
}

// trStart starts (or reaches) the target, and preloads nodes memories.
func trStart(ctx context.Context, env Env, sc *scenario.Scenario, nodes, maxInFlight int) (*trRig, error) {
	r := &trRig{env: env, sc: sc, nodes: nodes, pid: env.TargetPID, kind: "external", endpoint: env.Endpoint, maxIn: maxInFlight}
	if env.Endpoint == "" {
		o := env.TargetOptions
		if o.Seed == 0 {
			o.Seed = env.Seed
		}
		inst, err := target.Start(o)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", load.ErrConfig, err)
		}
		r.inst, r.endpoint, r.kind = inst, inst.URL(), "builtin"
		if r.pid == 0 {
			r.pid = os.Getpid()
		}
	}
	u, err := url.Parse(r.endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.Close()
		return nil, fmt.Errorf("%w: endpoint %q is not an http:// URL (example: http://127.0.0.1:7432)", load.ErrConfig, r.endpoint)
	}
	r.base = u
	r.client = load.NewClient(maxInFlight, trRequestTimeout)
	d := sc.Data
	if d.EmbeddingDim <= 0 {
		d.EmbeddingDim = 768
	}
	d.NumNodes = max(nodes, 1)
	r.data = dataset.New(d, env.Seed)
	if err := r.reachable(ctx); err != nil {
		r.Close()
		return nil, err
	}
	if nodes > 0 {
		if err := r.load(ctx); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// Close stops a target started here.
func (r *trRig) Close() {
	if r.inst != nil {
		r.inst.Close()
		r.inst = nil
	}
	if r.client != nil {
		r.client.CloseIdleConnections()
	}
}

func (r *trRig) url(route string) string {
	u := *r.base
	u.Path = joinURLPath(u.Path, route)
	return u.String()
}

func joinURLPath(base, p string) string {
	if len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + p
}

func (r *trRig) reachable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url("/health/alive"), nil)
	if err != nil {
		return fmt.Errorf("%w: %v", load.ErrConfig, err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s did not answer (%v): start the target, fix --endpoint, or leave --endpoint out to use the built-in reference target", load.ErrUnreachable, r.endpoint, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// load stores nodes 0…nodes-1 closed-loop, 16 at a time, under
// load.PreloadID ids (so a second preload replaces them).
func (r *trRig) load(ctx context.Context) error {
	start := time.Now()
	var next, failed atomic.Uint64
	var wg sync.WaitGroup
	n := uint64(r.nodes)
	dst := r.url(load.RouteRemember)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vec := make([]float32, r.data.Dim())
			var buf []byte
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= n {
					return
				}
				r.data.Embedding(i, vec)
				space := r.data.Space(i)
				buf = load.AppendRemember(buf[:0], r.data, i, load.PreloadID(i), space, vec)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, dst, bytes.NewReader(buf))
				if err != nil {
					failed.Add(1)
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Memory-Space", space)
				resp, err := r.client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusConflict {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	r.preload = &result.Preload{Nodes: r.nodes, Errors: failed.Load(), DurationSeconds: el.Seconds(), RatePerSecond: float64(r.nodes) / el.Seconds()}
	if ctx.Err() != nil {
		return fmt.Errorf("%w during the preload", load.ErrInterrupted)
	}
	if f := failed.Load(); f*100 > n {
		return fmt.Errorf("%w: %d of %d preload stores failed", load.ErrPreload, f, n)
	}
	return nil
}

// workload is the Engram workload over the rig's data.
func (r *trRig) workload() *load.Engram {
	return &load.Engram{Base: r.base, Data: r.data, Dim: r.data.Dim(), NumNodes: uint64(r.nodes)}
}

// engine returns an engine sending wl, observing with observe.
func (r *trRig) engine(wl load.Workload, observe func(load.Sample)) *load.Engine {
	return &load.Engine{Client: r.client, Workload: wl, MaxInFlight: r.maxIn, Observe: observe, Limits: r.limits}
}

// mix returns the scenario's operation mix.
func (r *trRig) mix(seed uint64) *load.Mix {
	m, _ := load.NewMix(load.Weights(r.sc.Weights()), seed) // Parse refuses all-zero weights
	if m == nil {
		m, _ = load.NewMix(load.Weights(scenario.Operations{Store: 1}), seed)
	}
	return m
}

// warm sends a short constant load, not recorded, so that connections and
// caches are warm before a measurement.
func (r *trRig) warm(ctx context.Context, rate float64, d time.Duration, seq uint64) (uint64, error) {
	if d <= 0 || rate <= 0 {
		return seq, nil
	}
	res, err := r.engine(r.workload(), nil).Run(ctx, load.Phase{Name: "warm-up", Pacer: arrival.Regular{Shape: arrival.Flat(rate)},
		Mix: r.mix(r.env.Seed ^ 0xa5a5), Duration: d, FirstSeq: seq})
	if err != nil {
		return seq, err
	}
	if res.Interrupted {
		return res.NextSeq, fmt.Errorf("%w during the warm-up", load.ErrInterrupted)
	}
	return res.NextSeq, nil
}

func (r *trRig) progressf(format string, args ...any) {
	if r.env.Progress != nil {
		fmt.Fprintf(r.env.Progress, format, args...)
	}
}

// trPhase is one measured phase of a task, for the result document:
// what the engine recorded (or, when the task re-labels operations, its
// own recorder) and how the generator kept its schedule.
type trPhase struct {
	rec *load.Recorder
	res *load.PhaseResult
}

// trDocument builds the result document of a task's measured phases, one
// repetition each, the Engram report fields over all of them.
func (r *trRig) document(ref string, cfg result.RunConfig, start time.Time, phases []trPhase) (*result.Document, error) {
	w := r.sc.Weights()
	cfg.NumNodes = r.nodes
	cfg.EmbeddingDim = r.data.Dim()
	cfg.MemorySpaces = max(r.sc.Data.MemorySpaces, 1)
	cfg.MaxInFlight = r.maxIn
	cfg.TimeoutSeconds = trRequestTimeout.Seconds()
	cfg.Budget = string(r.env.Budget)
	cfg.Weights = map[string]float64{result.OpStore: w.Store, result.OpRecall: w.Recall, result.OpSearch: w.Search, result.OpPatternCompletion: w.PatternCompletion}
	doc := &result.Document{
		Schema: result.SchemaVersion,
		Run: result.Run{
			Scenario: ref, ScenarioTitle: r.sc.Name, ScenarioSHA256: r.sc.SHA256, Seed: r.env.Seed,
			RunID: trRunID(), Start: start.UTC(), End: time.Now().UTC(), ToolVersion: version.String(),
			Labels: r.env.Labels, Endpoint: r.endpoint, Target: r.kind, Config: cfg, Hardware: r.env.Hardware,
		},
		Preload: r.preload,
		Tasks:   map[string]any{},
	}
	total := load.NewRecorder()
	var elapsed time.Duration
	for i, p := range phases {
		rec := p.rec
		if rec == nil {
			rec = p.res.Recorder
		}
		ops, all, err := rec.Stats(p.res.Elapsed())
		if err != nil {
			return nil, err
		}
		doc.Repetitions = append(doc.Repetitions, result.Repetition{
			Index: i + 1, Start: p.res.Start.UTC(), End: p.res.End.UTC(), DurationSeconds: p.res.Elapsed().Seconds(),
			Operations: ops, Overall: all, Generator: p.res.Generator,
		})
		total.Merge(rec)
		elapsed += p.res.Elapsed()
	}
	doc.ConfigName = r.sc.Name
	if elapsed <= 0 {
		return doc, nil
	}
	ops, all, err := total.Stats(elapsed)
	if err != nil {
		return nil, err
	}
	doc.ElapsedSeconds = elapsed.Seconds()
	doc.TotalOperations, doc.TotalErrors = all.Count, all.Errors
	doc.OverallThroughput, doc.OverallErrorRate = all.Throughput, all.ErrorRate
	doc.P50LatencyMs, doc.P95LatencyMs, doc.P99LatencyMs = all.Latency.P50, all.Latency.P95, all.Latency.P99
	doc.PerOperationStats = map[string]result.EngramOpStats{}
	for name, s := range ops {
		doc.PerOperationStats[name] = result.EngramOpStats{
			Count: s.Count, SuccessCount: s.Success, ErrorCount: s.Errors,
			P50LatencyUs: 1000 * s.Latency.P50, P95LatencyUs: 1000 * s.Latency.P95, P99LatencyUs: 1000 * s.Latency.P99,
			P999LatencyUs: 1000 * s.Latency.P999, MeanLatencyUs: 1000 * s.Latency.Mean, MaxLatencyUs: 1000 * s.Latency.Max,
		}
	}
	return doc, nil
}

func trRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// trCheck is a criterion as a result.Check with its message.
func trCheck(name string, measured float64, rel string, expected float64, unit string) result.Check {
	var ok bool
	switch rel {
	case "≤":
		ok = measured <= expected
	case "<":
		ok = measured < expected
	case "≥":
		ok = measured >= expected
	case ">":
		ok = measured > expected
	}
	verdict := "ok"
	if !ok {
		verdict = "FAILED"
	}
	return result.Check{Name: name, Expected: expected, Measured: measured, Passed: ok,
		Message: fmt.Sprintf("%s %s: measured %.4g%s, expected %s %.4g%s", name, verdict, measured, unit, rel, expected, unit)}
}

// trScenario loads a built-in task scenario.
func trScenario(name string) (*scenario.Scenario, error) {
	sc, err := scenario.Load(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", load.ErrConfig, err)
	}
	return sc, nil
}

// trDir is where a task writes its side files.
func trDir(env Env) (string, error) {
	d := env.Dir
	if d == "" {
		d = "."
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	return d, nil
}

// trFile names a side file of a task.
func trFile(env Env, name string) (string, error) {
	d, err := trDir(env)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, name), nil
}

// limitsOr returns l, or load.DefaultLimits when l is zero.
func limitsOr(l load.Limits) load.Limits {
	if l == (load.Limits{}) {
		return load.DefaultLimits
	}
	return l
}

// trBottleneck wraps the first generator slip of the phases, if any.
func trBottleneck(phases []*load.PhaseResult, l load.Limits) error {
	var errs []error
	for _, p := range phases {
		if err := p.Check(limitsOr(l)); err != nil {
			errs = append(errs, fmt.Errorf("phase %s: %w", p.Start.Format("15:04:05"), err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}
