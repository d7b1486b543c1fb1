package tasks

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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

// requestTimeout is the timeout of one request a rig sends.
const requestTimeout = 10 * time.Second

// rig is what every task measures with: the target (started here or
// given), one HTTP client for all of the task's runs (so the connections a
// warm-up opens are the ones the measurement uses), the scenario's data,
// the preloaded store, the output directory and progress.
type rig struct {
	env Env
	sc  *scenario.Scenario
	srv *Server
	// srvURL and srvKind are the target's, kept after Close.
	srvURL, srvKind string
	base            *url.URL
	client          *http.Client
	data            *dataset.Generator
	nodes           int
	pid             int // process whose resources are sampled; 0 = none
	// preload is the preload's figures (nil when none was made).
	preload *result.Preload
	maxIn   int
	// limits on the generator's schedule slip (zero = load.DefaultLimits).
	limits load.Limits
}

// builtinOptions returns the built-in target's options for a task whose
// requests take work by default: env's, with Work set to work where env
// leaves it zero; nil when the target is not the built-in one.
func builtinOptions(env Env, work time.Duration) *target.Options {
	if env.TargetCommand != "" || env.Endpoint != "" {
		return nil
	}
	o := env.TargetOptions
	o.Work = cmp.Or(o.Work, work)
	return &o
}

// startWarmRig starts a rig on the built-in options of env for open-loop
// runs up to peak ops/s with the generator's limits, and warms the target
// at rate for warm. It returns the next sequence number.
func startWarmRig(ctx context.Context, env Env, sc *scenario.Scenario, nodes int, peak float64, limits load.Limits, rate float64, warm time.Duration) (*rig, uint64, error) {
	r, err := startRig(ctx, env, ServerParams{}, sc, nodes, inFlightFor(peak, requestTimeout))
	if err != nil {
		return nil, 0, err
	}
	r.limits = limits
	seq, err := r.warm(ctx, rate, warm, 0)
	if err != nil {
		r.Close()
		return nil, 0, err
	}
	return r, seq, nil
}

// startRig starts (or reaches) the target of env with p, and preloads nodes
// memories of sc's data (none when nodes is 0). maxInFlight caps the
// requests in flight, and so the connections.
func startRig(ctx context.Context, env Env, p ServerParams, sc *scenario.Scenario, nodes, maxInFlight int) (*rig, error) {
	srv, err := StartServer(ctx, env, p)
	if err != nil {
		return nil, err
	}
	r, err := newRig(ctx, env, srv, sc, nodes, maxInFlight)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return r, nil
}

// newRig makes a rig on a running target, and preloads nodes memories.
// Closing the rig does not close srv.
func newRig(ctx context.Context, env Env, srv *Server, sc *scenario.Scenario, nodes, maxInFlight int) (*rig, error) {
	r := &rig{env: env, sc: sc, srv: srv, srvURL: srv.URL, srvKind: srv.Kind, nodes: nodes, pid: srv.PID, maxIn: maxInFlight}
	u, err := url.Parse(srv.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: endpoint %q is not an http:// URL (example: http://127.0.0.1:7432)", load.ErrConfig, srv.URL)
	}
	r.base = u
	r.client = load.NewClient(maxInFlight, requestTimeout)
	d := sc.Data
	if d.EmbeddingDim <= 0 {
		d.EmbeddingDim = 768
	}
	d.NumNodes = max(nodes, 1)
	r.data = dataset.New(d, env.Seed)
	if err := r.reachable(ctx); err != nil {
		r.client.CloseIdleConnections()
		return nil, err
	}
	if nodes > 0 {
		if err := r.load(ctx); err != nil {
			r.client.CloseIdleConnections()
			return nil, err
		}
	}
	return r, nil
}

// Close stops a target started by startRig.
func (r *rig) Close() {
	if r.client != nil {
		r.client.CloseIdleConnections()
	}
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

// endpoint is the target's base URL; kind what it is (result.Run.Target).
func (r *rig) endpoint() string { return r.srvURL }

func (r *rig) kind() string { return r.srvKind }

func (r *rig) url(route string) string {
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

func (r *rig) reachable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url("/health/alive"), nil)
	if err != nil {
		return fmt.Errorf("%w: %v", load.ErrConfig, err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s did not answer (%v): start the target, fix --endpoint, or leave --endpoint out to use the built-in reference target", load.ErrUnreachable, r.endpoint(), err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// load stores nodes 0…nodes-1 closed-loop, 16 at a time, under
// load.PreloadID ids (so a second preload replaces them).
func (r *rig) load(ctx context.Context) error {
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
func (r *rig) workload() *load.Engram {
	return &load.Engram{Base: r.base, Data: r.data, Dim: r.data.Dim(), NumNodes: uint64(r.nodes)}
}

// engine returns an engine sending wl, observing with observe.
func (r *rig) engine(wl load.Workload, observe func(load.Sample)) *load.Engine {
	return &load.Engine{Client: r.client, Workload: wl, MaxInFlight: r.maxIn, Observe: observe, Limits: r.limits}
}

// mix returns the scenario's operation mix.
func (r *rig) mix(seed uint64) *load.Mix {
	m, _ := load.NewMix(load.Weights(r.sc.Weights()), seed) // Parse refuses all-zero weights
	if m == nil {
		m, _ = load.NewMix(load.Weights(scenario.Operations{Store: 1}), seed)
	}
	return m
}

// warm sends a short constant load, not recorded, so that connections and
// caches are warm before a measurement.
func (r *rig) warm(ctx context.Context, rate float64, d time.Duration, seq uint64) (uint64, error) {
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

func (r *rig) progressf(format string, args ...any) {
	progressf(r.env, format, args...)
}

// measuredPhase is one measured phase of a task, for the result document:
// what the engine recorded (or, when the task re-labels operations, its
// own recorder) and how the generator kept its schedule.
type measuredPhase struct {
	rec *load.Recorder
	res *load.PhaseResult
}

// document builds the result document of a task's measured phases, one
// repetition each, the Engram report fields over all of them.
func (r *rig) document(ref string, cfg result.RunConfig, start time.Time, phases []measuredPhase) (*result.Document, error) {
	w := r.sc.Weights()
	cfg.NumNodes = r.nodes
	cfg.EmbeddingDim = r.data.Dim()
	cfg.MemorySpaces = max(r.sc.Data.MemorySpaces, 1)
	cfg.MaxInFlight = r.maxIn
	cfg.TimeoutSeconds = requestTimeout.Seconds()
	cfg.Budget = string(r.env.Budget)
	cfg.Weights = map[string]float64{result.OpStore: w.Store, result.OpRecall: w.Recall, result.OpSearch: w.Search, result.OpPatternCompletion: w.PatternCompletion}
	doc := &result.Document{
		Schema: result.SchemaVersion,
		Run: result.Run{
			Scenario: ref, ScenarioTitle: r.sc.Name, ScenarioSHA256: r.sc.SHA256, Seed: r.env.Seed,
			RunID: runID(), Start: start.UTC(), End: time.Now().UTC(), ToolVersion: version.String(),
			Labels: r.env.Labels, Endpoint: r.endpoint(), Target: r.kind(), Config: cfg, Hardware: r.env.Hardware,
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

func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// check is a criterion as a result.Check: measured against expected by
// rel (≤ < ≥ > =), with a message saying what was measured against what.
func check(name string, measured float64, rel string, expected float64, unit string) result.Check {
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
	case "=":
		ok = measured == expected
	}
	return checkAs(name, measured, rel, expected, unit, ok)
}

// checkAs is check with the verdict decided by the caller (a criterion
// that is more than one comparison, such as a slope with its R²).
func checkAs(name string, measured float64, rel string, expected float64, unit string, passed bool) result.Check {
	verdict := "ok"
	if !passed {
		verdict = "FAILED"
	}
	return result.Check{Name: name, Expected: expected, Measured: measured, Passed: passed,
		Message: fmt.Sprintf("%s %s: measured %.4g%s, expected %s %.4g%s", name, verdict, measured, unit, rel, expected, unit)}
}

// taskScenario loads a built-in task scenario: "tasks/005_breaking_point"
// or, under tasks/, "002_soak_pr".
func taskScenario(name string) (*scenario.Scenario, error) {
	ref := name
	if !strings.HasPrefix(ref, "tasks/") && !strings.ContainsAny(ref, `/\.`) {
		ref = "tasks/" + ref
	}
	sc, err := scenario.Load(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: task scenario %s: %v", load.ErrConfig, ref, err)
	}
	return sc, nil
}

// outputDir is where a task writes its side files (created if missing).
func outputDir(env Env) (string, error) {
	d := env.Dir
	if d == "" {
		d = "."
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	return d, nil
}

// sideFile names a side file of a task in its output directory.
func sideFile(env Env, name string) (string, error) {
	d, err := outputDir(env)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, name), nil
}

// progressf writes a progress line when env asks for progress.
func progressf(env Env, format string, args ...any) {
	if env.Progress != nil {
		fmt.Fprintf(env.Progress, format, args...)
	}
}

// limitsOr returns l, or load.DefaultLimits when l is zero.
func limitsOr(l load.Limits) load.Limits {
	if l == (load.Limits{}) {
		return load.DefaultLimits
	}
	return l
}

// runsRef names the document of a task that ran n scenarios, the first
// named first: that scenario when it ran one, else "tasks/ID".
func runsRef(id, first string, n int) string {
	if n > 1 {
		return "tasks/" + id
	}
	return first
}

// outcome ends a task that ran phases: doc carries the task's section
// under id and its checks as the validation, and the error says that a
// phase was interrupted, else that the generator slipped in one.
func outcome(id string, doc *result.Document, section any, checks []result.Check, skipped []string, phases []*load.PhaseResult, l load.Limits) (*Outcome, error) {
	doc.Tasks[id] = section
	out := &Outcome{Document: doc, Checks: checks, Skipped: skipped}
	doc.Validation = &result.Validation{Passed: out.Passed(), Checks: checks}
	for _, p := range phases {
		if p.Interrupted {
			return out, fmt.Errorf("%w: task %s", load.ErrInterrupted, id)
		}
	}
	return out, bottleneck(phases, l)
}

// bottleneck wraps the first generator slip of the phases, if any.
func bottleneck(phases []*load.PhaseResult, l load.Limits) error {
	for _, p := range phases {
		if err := p.Check(limitsOr(l)); err != nil {
			return fmt.Errorf("phase %s: %w", p.Start.Format("15:04:05"), err)
		}
	}
	return nil
}

// runConfig is the load.Config a task that runs whole scenarios
// (load.Run: preload, warm-up, measured run, result document) starts from.
// It carries one HTTP client for all of the task's runs, so the
// connections a warm-up opens are the ones the measurement uses (a new
// client per run would open new connections mid-measurement, and their
// buffers would show as memory growth of an in-process target).
// maxInFlight caps the requests in flight, and so the connections; 0 =
// inFlightFor the scenario's peak rate (or env.Rate).
func runConfig(env Env, sc *scenario.Scenario, srv *Server, maxInFlight int) load.Config {
	if maxInFlight <= 0 {
		maxInFlight = inFlightFor(max(sc.Arrival.PeakRate(), env.Rate), load.DefaultTimeout)
	}
	return load.Config{
		Client:      load.NewClient(maxInFlight, load.DefaultTimeout),
		MaxInFlight: maxInFlight,
		Scenario:    sc,
		Endpoint:    srv.URL,
		Target:      srv.Kind,
		Seed:        env.Seed,
		Hardware:    env.Hardware,
		Labels:      env.Labels,
	}
}

// inFlightFor is the in-flight cap for a peak rate: the requests a
// timeout's worth of it holds, within [1000, 10000].
func inFlightFor(peak float64, timeout time.Duration) int {
	return int(min(max(peak*timeout.Seconds(), 1000), 10000))
}

// runLoad is how a task that runs whole scenarios loads its target: the
// measured run's rate (0 = the scenario's) and in-flight cap (0 =
// inFlightFor the peak rate), and the unrecorded warm-up before it.
type runLoad struct {
	Rate        float64
	MaxInFlight int
	Warmup      time.Duration
}

// prepareRun makes a scenario-running task ready to measure: it starts the
// target (unless env names one), builds the load configuration l asks for
// and runs the unrecorded warm-up at its rate. The warm-up preloads the
// scenario's nodes, so the returned configuration says they are there
// (load.Config.PreloadedNodes): the measured run sends the same reads and
// stores without preloading again, and leaves no preload garbage in the
// target's memory. The caller closes the target.
//
// With the built-in target this process is the target: memory freed by
// earlier work (and by the warm-up) is returned to the OS first, or the
// background scavenger returns it during the measurement and RSS falls for
// reasons that are not the target's.
func prepareRun(ctx context.Context, env Env, sc *scenario.Scenario, id, label string, l runLoad) (*Server, load.Config, error) {
	builtin := env.Endpoint == "" && env.TargetCommand == ""
	if builtin {
		releaseMemory()
	}
	srv, err := StartServer(ctx, env, ServerParams{})
	if err != nil {
		return nil, load.Config{}, fmt.Errorf("task %s: %w", id, err)
	}
	base := runConfig(env, sc, srv, l.MaxInFlight)
	base.Rate = l.Rate
	noWarmup := time.Duration(0)
	base.Warmup = &noWarmup
	if l.Warmup <= 0 {
		return srv, base, nil
	}
	progressf(env, "%s %s: warm-up %v (not recorded)\n", id, label, l.Warmup)
	wc := base
	wc.Duration = l.Warmup
	wdoc, err := load.Run(ctx, wc)
	if _, fatal := sortRunErr(wdoc, err); fatal != nil {
		srv.Close()
		return nil, load.Config{}, fmt.Errorf("task %s warm-up: %w", id, fatal)
	}
	if builtin {
		releaseMemory()
	}
	base.PreloadedNodes = max(sc.Data.NumNodes, 0)
	return srv, base, nil
}

// sortRunErr sorts load.Run's error: a document with a failed [validation] or
// a generator bottleneck is still a measurement (the task's checks say
// so); anything else is returned.
func sortRunErr(doc *result.Document, err error) (generatorOK bool, fatal error) {
	switch {
	case err == nil:
		return true, nil
	case doc != nil && errors.Is(err, load.ErrValidation):
		return true, nil
	case doc != nil && errors.Is(err, load.ErrGeneratorBottleneck):
		return false, nil
	}
	return true, err
}

// ensureTasks makes doc.Tasks usable.
func ensureTasks(doc *result.Document) {
	if doc.Tasks == nil {
		doc.Tasks = map[string]any{}
	}
}
