package tasks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/runners/dataset"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/load/engram"
	"github.com/engram/m18-gate/runners/result"
)

// HotspotsConfig is task 008: closed-loop writers over the memory spaces,
// by Zipf popularity against uniformly, at each writer count.
type HotspotsConfig struct {
	// Scenario holds the mix (store and recall weights), the data and the
	// number of memory spaces (the keys whose popularity is skewed).
	Scenario string
	// Writers are the concurrent writer counts, ascending.
	Writers []int
	// Exponent is the Zipf exponent s (1 = the classic law: the top space
	// gets 1/H(n) of all requests).
	Exponent float64
	// HotKeys is how many of the most popular spaces count as hot in the
	// latency split (1 = the celebrity alone).
	HotKeys int
	// Repeats is how many times each (writers, popularity) pair is
	// measured, alternating uniform and Zipf, for the loss's interval.
	Repeats int
	// Measure is the length of one measurement; Warmup is sent before the
	// first, unrecorded.
	Measure, Warmup time.Duration
	// Work is the reference target's simulated waiting per request when
	// Env.TargetOptions.Work is 0.
	Work  time.Duration
	Nodes int
	// Confidence of the loss's interval (0.95).
	Confidence float64
	// MaxLoss is the criterion at the largest writer count (0.10).
	MaxLoss float64
}

// HotspotsBudget returns task 008's configuration: pr 1, 4 and 16
// writers, four 2 s measurements per pair (about 55 s; a measurement must
// be long against the 100 ms a request of the reference target waits, or
// the queue on a hot space is still building); nightly 1 → 128 writers,
// five 10 s measurements; full 1 → 128, ten 30 s measurements.
func HotspotsBudget(b Budget) HotspotsConfig {
	c := HotspotsConfig{Scenario: "tasks/008_hotspots", Exponent: 1, HotKeys: 1, Work: 100 * time.Millisecond,
		Nodes: 256, Confidence: 0.95, MaxLoss: 0.10, Warmup: time.Second}
	pow2 := []int{1, 2, 4, 8, 16, 32, 64, 128}
	switch b {
	case BudgetNightly:
		c.Writers, c.Repeats, c.Measure, c.Nodes, c.Warmup = pow2, 5, 10*time.Second, 10_000, 5*time.Second
	case BudgetFull:
		c.Writers, c.Repeats, c.Measure, c.Nodes, c.Warmup = pow2, 10, 30*time.Second, 100_000, 10*time.Second
	default:
		c.Writers, c.Repeats, c.Measure = []int{1, 4, 16}, 4, 2*time.Second
	}
	return c
}

// HotspotsReport is task 008's section (Document.Tasks["008"]).
type HotspotsReport struct {
	Budget   string  `json:"budget"`
	Spaces   int     `json:"spaces"`
	Exponent float64 `json:"zipf_exponent"`
	HotKeys  int     `json:"hot_keys"`
	// HotShare is the share of requests the hot spaces get under Zipf.
	HotShare   float64          `json:"hot_share"`
	Repeats    int              `json:"repeats"`
	Seconds    float64          `json:"measure_seconds"`
	Confidence float64          `json:"confidence"`
	MaxLoss    float64          `json:"max_loss"`
	Points     []HotspotPoint   `json:"points"`
	Notes      []string         `json:"notes,omitempty"`
	Knobs      *HotspotsTargetK `json:"reference_target,omitempty"`
}

// HotspotsTargetK records the reference target's knobs when it was the
// target.
type HotspotsTargetK struct {
	WorkMs  float64 `json:"work_ms"`
	KeyLock bool    `json:"key_lock"`
}

// HotspotPoint is one writer count.
type HotspotPoint struct {
	Writers int `json:"writers"`
	// Uniform and Zipf are the throughputs (successful ops/s) of the
	// repeats, in the order run.
	Uniform []float64 `json:"uniform_ops_sec"`
	Zipf    []float64 `json:"zipf_ops_sec"`
	// Loss is 1 − median(Zipf)/median(Uniform); LossLo and LossHi its
	// percentile-bootstrap interval (gate/stats.MedianBootstrap.RatioCI).
	Loss   float64 `json:"loss"`
	LossLo float64 `json:"loss_lo"`
	LossHi float64 `json:"loss_hi"`
	// Latency of the hot and the cold spaces under Zipf, and of all
	// spaces under uniform popularity, over all repeats.
	Hot       Latency `json:"hot"`
	Cold      Latency `json:"cold"`
	UniformLa Latency `json:"uniform"`
	ErrorRate float64 `json:"error_rate"`
}

// Latency is a latency distribution's summary.
type Latency struct {
	Count uint64  `json:"count"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
}

// Hotspots runs task 008.
func Hotspots(ctx context.Context, env Env, cfg HotspotsConfig) (*Outcome, error) {
	sc, err := taskScenario(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	spaces := max(sc.Data.MemorySpaces, 1)
	if env.Duration > 0 {
		cfg.Measure = env.Duration
	}
	if len(cfg.Writers) == 0 || cfg.Repeats < 1 || cfg.Measure <= 0 {
		return nil, fmt.Errorf("%w: task 008 needs writer counts, repeats ≥ 1 and a measurement length > 0", load.ErrConfig)
	}
	zipf, err := dataset.NewZipf(spaces, cfg.Exponent)
	if err != nil {
		return nil, fmt.Errorf("%w: task 008: %v", load.ErrConfig, err)
	}
	hotKeys := min(max(cfg.HotKeys, 1), spaces)
	rep := &HotspotsReport{Budget: string(env.Budget), Spaces: spaces, Exponent: cfg.Exponent, HotKeys: hotKeys,
		Repeats: cfg.Repeats, Seconds: cfg.Measure.Seconds(), Confidence: cfg.Confidence, MaxLoss: cfg.MaxLoss}
	for k := range hotKeys {
		rep.HotShare += zipf.P(k)
	}
	p := ServerParams{Options: builtinOptions(env, cfg.Work)}
	if o := p.Options; o != nil {
		rep.Knobs = &HotspotsTargetK{WorkMs: float64(o.Work) / 1e6, KeyLock: o.KeyLock}
	}
	maxW := 0
	for _, w := range cfg.Writers {
		maxW = max(maxW, w)
	}
	start := time.Now()
	rig, err := startRig(ctx, env, p, sc, cfg.Nodes, max(maxW, 16))
	if err != nil {
		return nil, fmt.Errorf("task 008: %w", err)
	}
	defer rig.Close()
	if rig.nodes < spaces {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d preloaded nodes for %d spaces: reads of a space without memories find none", rig.nodes, spaces))
	}
	w := rig.sc.Weights()
	storeShare := 1.0
	if t := w.Store + w.Recall; t > 0 {
		storeShare = w.Store / t
	}
	if w.Search > 0 || w.PatternCompletion > 0 {
		rep.Notes = append(rep.Notes, "task 008 sends stores and recalls only; the scenario's search and completion weights are ignored")
	}
	cl := &contention{r: rig, spaces: spaces, zipf: zipf, hot: hotKeys, storeShare: storeShare}
	if cfg.Warmup > 0 {
		rig.progressf("008 warm-up %v (not recorded)\n", cfg.Warmup)
		if _, err := cl.run(ctx, maxW, cfg.Warmup, false, env.Seed^0x3a3a, 1<<40); err != nil {
			return nil, err
		}
	}
	var phases []measuredPhase
	var bs stats.MedianBootstrap
	seq := uint64(0)
	for _, writers := range cfg.Writers {
		pt := HotspotPoint{Writers: writers}
		hotAll, coldAll, uniAll := load.NewRecorder(), load.NewRecorder(), load.NewRecorder()
		var count, errs uint64
		for r := range cfg.Repeats {
			for _, skewed := range []bool{false, true} {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("%w: task 008", load.ErrInterrupted)
				}
				m, err := cl.run(ctx, writers, cfg.Measure, skewed, env.Seed+uint64(writers*1000+r*2)+b2u(skewed), seq)
				if err != nil {
					return nil, err
				}
				seq += m.sent
				x := float64(m.ok) / m.elapsed.Seconds()
				count += m.ok + m.failed
				errs += m.failed
				all := load.NewRecorder()
				all.Merge(m.hot)
				all.Merge(m.cold)
				if skewed {
					pt.Zipf = append(pt.Zipf, x)
					hotAll.Merge(m.hot)
					coldAll.Merge(m.cold)
				} else {
					pt.Uniform = append(pt.Uniform, x)
					uniAll.Merge(all)
				}
				phases = append(phases, measuredPhase{res: &load.PhaseResult{Start: m.start, End: m.start.Add(m.elapsed), Recorder: all}})
				rig.progressf("008 %3d writers, %-7s repeat %d: %7.0f ops/s\n", writers, map[bool]string{false: "uniform", true: "zipf"}[skewed], r+1, x)
			}
		}
		pt.Loss = 1 - stats.Median(pt.Zipf)/stats.Median(pt.Uniform)
		lo, hi := bs.RatioCI(pt.Uniform, pt.Zipf, cfg.Confidence, 0, env.Seed)
		pt.LossLo, pt.LossHi = -hi, -lo
		pt.Hot, pt.Cold, pt.UniformLa = latencyOf(hotAll), latencyOf(coldAll), latencyOf(uniAll)
		if count > 0 {
			pt.ErrorRate = float64(errs) / float64(count)
		}
		rig.progressf("008 %3d writers: loss %+.1f%% [%+.1f%%, %+.1f%%]; zipf hot p50 %.2f p99 %.2f ms, cold p50 %.2f p99 %.2f ms; uniform p50 %.2f p99 %.2f ms\n",
			writers, 100*pt.Loss, 100*pt.LossLo, 100*pt.LossHi, pt.Hot.P50Ms, pt.Hot.P99Ms, pt.Cold.P50Ms, pt.Cold.P99Ms, pt.UniformLa.P50Ms, pt.UniformLa.P99Ms)
		rep.Points = append(rep.Points, pt)
	}
	doc, err := rig.document(cfg.Scenario, result.RunConfig{Arrival: "closed-loop", DurationSeconds: cfg.Measure.Seconds(),
		WarmupSeconds: cfg.Warmup.Seconds(), Repetitions: len(phases)}, start, phases)
	if err != nil {
		return nil, err
	}
	doc.Tasks["008"] = rep
	last := rep.Points[len(rep.Points)-1]
	c := check(fmt.Sprintf("008/loss_at_%d_writers", last.Writers), last.Loss, "<", cfg.MaxLoss, "")
	c.Message += fmt.Sprintf(" (%.0f%% interval %+.1f%% … %+.1f%% from %d repeats; Zipf s = %g over %d spaces, the hot %d get %.0f%% of requests)",
		100*cfg.Confidence, 100*last.LossLo, 100*last.LossHi, cfg.Repeats, cfg.Exponent, spaces, hotKeys, 100*rep.HotShare)
	checks := []result.Check{c}
	if v := sc.Validation.MaxErrorRate; v != nil {
		worst := 0.0
		for _, p := range rep.Points {
			worst = max(worst, p.ErrorRate)
		}
		checks = append(checks, check("008/error_rate", worst, "≤", *v, ""))
	}
	var skipped []string
	if last.Writers < 128 {
		skipped = append(skipped, fmt.Sprintf("008: the criterion is at 128 writers; this budget goes to %d", last.Writers))
	}
	out := &Outcome{Document: doc, Checks: checks, Skipped: skipped}
	doc.Validation = &result.Validation{Passed: out.Passed(), Checks: checks}
	return out, nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func latencyOf(r *load.Recorder) Latency {
	h := r.Overall()
	return Latency{Count: uint64(h.TotalCount()), P50Ms: float64(h.ValueAtQuantile(50)) / 1000, P99Ms: float64(h.ValueAtQuantile(99)) / 1000}
}

// contention sends task 008's closed-loop load: each writer stores to, or
// recalls a preloaded memory of, a space drawn by Zipf popularity or
// uniformly, and sends the next request when the last one is answered.
type contention struct {
	r          *rig
	spaces     int
	zipf       *dataset.Zipf
	hot        int
	storeShare float64
}

// measurement is one closed-loop run: hot and cold spaces' samples, the
// successes and failures, the requests sent.
type measurement struct {
	hot, cold  *load.Recorder
	ok, failed uint64
	sent       uint64
	start      time.Time
	elapsed    time.Duration
}

// run sends with writers for d. Stores write new nodes numbered from
// first + NumNodes (one block of 2^32 per writer, never a preloaded one).
func (c *contention) run(ctx context.Context, writers int, d time.Duration, skewed bool, seed, first uint64) (measurement, error) {
	r := c.r
	// The context ends a little after the deadline, so that a request the
	// deadline cuts off is never mistaken for a failure of the target.
	ctx, cancel := context.WithTimeout(ctx, d+time.Second)
	defer cancel()
	type part struct {
		hot, cold  *load.Recorder
		ok, failed uint64
		sent       uint64
	}
	parts := make([]part, writers)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &parts[w]
			p.hot, p.cold = load.NewRecorder(), load.NewRecorder()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			vec := make([]float32, r.data.Dim())
			var buf []byte
			for i := uint64(0); ctx.Err() == nil && time.Now().Before(deadline); i++ {
				var rank int
				if skewed {
					rank = c.zipf.Rank(rng.Float64())
				} else {
					rank = rng.IntN(c.spaces)
				}
				space := r.data.Space(uint64(rank))
				op := load.Recall
				if rng.Float64() < c.storeShare {
					op = load.Store
				}
				req, err := c.request(ctx, op, rank, space, rng, first+uint64(w)<<32+i, vec, &buf)
				if err != nil {
					return
				}
				t0 := time.Now()
				resp, err := r.client.Do(req)
				out := client.OK
				if err != nil {
					if ctx.Err() != nil || !time.Now().Before(deadline) {
						return // the measurement ended mid-request: not a sample
					}
					out = client.OutcomeOf(err)
				} else {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					out = client.Outcome(resp.StatusCode)
					if !out.OK() {
						fmt.Println("DEBUG status", resp.StatusCode)
					}
				}
				done := time.Now()
				if done.After(deadline) {
					return // answered after the end: not counted in d
				}
				lat := done.Sub(t0)
				rec := p.cold
				if skewed && rank < c.hot {
					rec = p.hot
				}
				rec.Record(load.Sample{Op: op, Latency: lat, Service: lat, Outcome: out})
				p.sent++
				if out.OK() {
					p.ok++
				} else {
					p.failed++
				}
			}
		}()
	}
	wg.Wait()
	m := measurement{hot: load.NewRecorder(), cold: load.NewRecorder(), start: start, elapsed: d}
	for _, p := range parts {
		m.hot.Merge(p.hot)
		m.cold.Merge(p.cold)
		m.ok, m.failed, m.sent = m.ok+p.ok, m.failed+p.failed, m.sent+p.sent
	}
	return m, nil
}

// request builds one request of space rank: a store of node n, or a recall
// by the embedding of a preloaded node of that space (a hot memory when
// the space is hot).
func (c *contention) request(ctx context.Context, op load.Op, rank int, space string, rng *rand.Rand, n uint64, vec []float32, buf *[]byte) (*http.Request, error) {
	r := c.r
	if op == load.Store {
		i := uint64(r.nodes) + n
		r.data.Embedding(i, vec)
		*buf = load.AppendRemember((*buf)[:0], r.data, i, "", space, vec)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url(load.RouteRemember), bytes.NewReader(*buf))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Memory-Space", space)
		return req, nil
	}
	// Preloaded node j is in space j mod spaces.
	per := max(uint64(r.nodes)/uint64(c.spaces), 1)
	j := uint64(rank) + uint64(c.spaces)*rng.Uint64N(per)
	r.data.Embedding(j, vec)
	*buf = engram.AppendRecallQuery((*buf)[:0], vec, 0.5, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url(load.RouteRecall)+"?"+string(*buf), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Memory-Space", space)
	return req, nil
}
