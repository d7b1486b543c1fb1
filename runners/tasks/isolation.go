package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/engram/m18-gate/gate/stats"
	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/engram"
	"github.com/engram/m18-gate/runners/result"
)

// IsolationConfig is task 009: a victim tenant at a steady rate while an
// aggressor tenant in another memory space switches heavy load on and off.
type IsolationConfig struct {
	// Scenario holds the victim's rate, the mix of both tenants and the
	// victim's preloaded data.
	Scenario string
	// Phases alternate aggressor off and on, starting off; each is Settle
	// (the victim's requests not recorded, while queues fill or drain)
	// then Phase measured.
	Phases        int
	Phase, Settle time.Duration
	// AggressorFactor is the aggressor's rate over the victim's.
	AggressorFactor float64
	// Margin is the equivalence margin on the relative change of the
	// victim's p50 and p99 (0.01: "no interference beyond ±1 %");
	// Confidence that of the interval (0.95).
	Margin, Confidence float64
	// Work is the reference target's simulated waiting per request when
	// Env.TargetOptions.Work is 0.
	Work  time.Duration
	Nodes int
	// Probes is how many recalls and searches check data isolation.
	Probes int
	Limits load.Limits
}

// IsolationBudget returns task 009's configuration: pr 12 phases of
// 0.5 + 2 s (about 40 s); nightly 30 phases of 2 + 20 s; full 60 phases of
// 5 + 60 s.
func IsolationBudget(b Budget) IsolationConfig {
	c := IsolationConfig{Scenario: "tasks/009_isolation", AggressorFactor: 10, Margin: 0.01, Confidence: 0.95,
		Work: 50 * time.Millisecond, Nodes: 200, Probes: 20}
	switch b {
	case BudgetNightly:
		c.Phases, c.Phase, c.Settle, c.Nodes = 30, 20*time.Second, 2*time.Second, 10_000
	case BudgetFull:
		c.Phases, c.Phase, c.Settle, c.Nodes = 60, time.Minute, 5*time.Second, 100_000
	default:
		c.Phases, c.Phase, c.Settle = 12, 2*time.Second, 500*time.Millisecond
		c.Limits = sharedMachineLimits
	}
	return c
}

// IsolationReport is task 009's section (Document.Tasks["009"]).
type IsolationReport struct {
	Budget         string  `json:"budget"`
	VictimSpace    string  `json:"victim_space"`
	AggressorSpace string  `json:"aggressor_space"`
	VictimRate     float64 `json:"victim_rate_ops_sec"`
	AggressorRate  float64 `json:"aggressor_rate_ops_sec"`
	PhaseSeconds   float64 `json:"phase_seconds"`
	SettleSeconds  float64 `json:"settle_seconds"`
	Margin         float64 `json:"margin"`
	Confidence     float64 `json:"confidence"`
	// Phases are in the order run; P50 and P99 compare the victim's
	// per-phase figures with the aggressor on against off.
	Phases []IsolationPhase `json:"phases"`
	P50    Interference     `json:"p50"`
	P99    Interference     `json:"p99"`
	Data   DataIsolation    `json:"data_isolation"`
	// Knobs are the reference target's, when it was the target.
	Knobs *IsolationTargetK `json:"reference_target,omitempty"`
	Notes []string          `json:"notes,omitempty"`
}

// IsolationTargetK records the reference target's knobs.
type IsolationTargetK struct {
	WorkMs        float64 `json:"work_ms"`
	Workers       int     `json:"workers"`
	SharedWorkers bool    `json:"shared_workers"`
}

// IsolationPhase is one phase.
type IsolationPhase struct {
	Aggressor    bool    `json:"aggressor_on"`
	VictimCount  uint64  `json:"victim_count"`
	VictimErrors uint64  `json:"victim_errors"`
	VictimP50Ms  float64 `json:"victim_p50_ms"`
	VictimP99Ms  float64 `json:"victim_p99_ms"`
	// AggressorAchieved is the aggressor's throughput over the phase (0
	// when off).
	AggressorAchieved float64 `json:"aggressor_achieved_ops_sec"`
}

// Interference is the victim's change between aggressor-on and -off
// phases, decided as an equivalence statement.
type Interference struct {
	// Change is median(on)/median(off) − 1 of the per-phase figure; Lo and
	// Hi its percentile-bootstrap interval (gate/stats.MedianBootstrap);
	// P the two-sided Mann–Whitney p-value of on against off.
	Change float64 `json:"change"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	P      float64 `json:"p"`
	// Verdict is "equivalent" (the whole interval within ±Margin),
	// "interference" (the interval excludes 0 and reaches beyond the
	// margin) or "inconclusive".
	Verdict   string `json:"verdict"`
	Statement string `json:"statement"`
	// PhasesNeeded estimates the phases per side that would settle an
	// inconclusive verdict (the interval shrinking as 1/√n); 0 otherwise.
	PhasesNeeded int `json:"phases_needed,omitempty"`
}

// DataIsolation is the check that the victim never sees the aggressor's
// memories: Probes recalls (by the embeddings the aggressor stored) and
// searches (by a word only the aggressor's memories hold) in the victim's
// space; Leaked counts results that were the aggressor's. Control is the
// same search in the aggressor's space, which must find them (else the
// probes could not have seen a leak).
type DataIsolation struct {
	Probes  int    `json:"probes"`
	Leaked  int    `json:"leaked"`
	Control int    `json:"control_hits"`
	Checked bool   `json:"checked"`
	Note    string `json:"note,omitempty"`
}

// aggressorMarker is a word only the aggressor's memories hold.
const aggressorMarker = "aggressortenant"

// tenant is the data of one tenant: the scenario's, in its own space,
// its content marked when it is the aggressor.
type tenant struct {
	load.Data
	space  string
	marker string
}

func (t tenant) Space(uint64) string { return t.space }

func (t tenant) Content(i uint64) string {
	if t.marker == "" {
		return t.Data.Content(i)
	}
	return t.Data.Content(i) + " " + t.marker
}

// Isolation runs task 009.
func Isolation(ctx context.Context, env Env, cfg IsolationConfig) (*Outcome, error) {
	sc, err := taskScenario(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	if sc.Data.MemorySpaces > 1 {
		return nil, fmt.Errorf("%w: task 009's scenario %s must have memory_spaces = 1 (the victim's space)", load.ErrConfig, cfg.Scenario)
	}
	rate := sc.Arrival.Rate
	if env.Rate > 0 {
		rate = env.Rate
	}
	if env.Duration > 0 {
		cfg.Phase = env.Duration
	}
	if rate <= 0 || cfg.Phases < 4 || cfg.Phase <= 0 || cfg.AggressorFactor <= 0 {
		return nil, fmt.Errorf("%w: task 009 needs a victim rate > 0 (the scenario's [arrival] rate or --rate), at least 4 phases, a phase length and an aggressor factor > 0", load.ErrConfig)
	}
	rep := &IsolationReport{Budget: string(env.Budget), VictimRate: rate, AggressorRate: rate * cfg.AggressorFactor,
		PhaseSeconds: cfg.Phase.Seconds(), SettleSeconds: cfg.Settle.Seconds(), Margin: cfg.Margin, Confidence: cfg.Confidence,
		AggressorSpace: "tenant-aggressor"}
	p := ServerParams{Options: builtinOptions(env, cfg.Work)}
	if o := p.Options; o != nil {
		rep.Knobs = &IsolationTargetK{WorkMs: float64(o.Work) / 1e6, Workers: o.Workers, SharedWorkers: o.SharedWorkers}
	}
	start := time.Now()
	maxIn := inFlightFor(rep.AggressorRate, requestTimeout)
	rig, err := startRig(ctx, env, p, sc, cfg.Nodes, maxIn)
	if err != nil {
		return nil, fmt.Errorf("task 009: %w", err)
	}
	defer rig.Close()
	rig.limits = cfg.Limits
	rep.VictimSpace = rig.data.Space(0)
	victim := rig.workload()
	agg := &load.Engram{Base: rig.base, Data: tenant{Data: rig.data, space: rep.AggressorSpace, marker: aggressorMarker},
		Dim: rig.data.Dim(), NumNodes: uint64(rig.nodes)}
	aggEngine := &load.Engine{Client: load.NewClient(maxIn, requestTimeout), Workload: agg, MaxInFlight: maxIn, Limits: rig.limits}
	defer aggEngine.Client.CloseIdleConnections()

	var phases []measuredPhase
	var vseq, aseq uint64
	// The victim's schedule is judged over all its phases together: a
	// phase of a few dozen sends is decided by one or two late ones.
	var gen result.Generator
	for i := range cfg.Phases {
		if ctx.Err() != nil {
			break
		}
		on := i%2 == 1
		var wg sync.WaitGroup
		var ares *load.PhaseResult
		var aerr error
		if on {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ares, aerr = aggEngine.Run(ctx, load.Phase{Name: fmt.Sprintf("009 aggressor %d", i+1),
					Pacer: arrival.NewPoisson(arrival.Flat(rep.AggressorRate), env.Seed^uint64(i)*0x9e37), Mix: rig.mix(env.Seed ^ 0xa66 ^ uint64(i)),
					Duration: cfg.Settle + cfg.Phase, FirstSeq: aseq})
			}()
		}
		vseq, err = rig.warm(ctx, rate, cfg.Settle, vseq)
		if err != nil {
			wg.Wait()
			return nil, err
		}
		res, err := rig.engine(victim, nil).Run(ctx, load.Phase{Name: fmt.Sprintf("009 victim %d", i+1),
			Pacer: arrival.Regular{Shape: arrival.Flat(rate)}, Mix: rig.mix(env.Seed + uint64(i)), Duration: cfg.Phase, FirstSeq: vseq})
		wg.Wait()
		if err != nil {
			return nil, err
		}
		if aerr != nil {
			return nil, aerr
		}
		vseq = res.NextSeq
		if res.Interrupted {
			break
		}
		g := res.Generator
		gen.Scheduled, gen.Sent, gen.Late, gen.Dropped = gen.Scheduled+g.Scheduled, gen.Sent+g.Sent, gen.Late+g.Late, gen.Dropped+g.Dropped
		gen.P99LagMs, gen.MaxLagMs, gen.MaxInFlightSeen = max(gen.P99LagMs, g.P99LagMs), max(gen.MaxLagMs, g.MaxLagMs), max(gen.MaxInFlightSeen, g.MaxInFlightSeen)
		_, all, err := res.Recorder.Stats(res.Elapsed())
		if err != nil {
			return nil, err
		}
		ph := IsolationPhase{Aggressor: on, VictimCount: all.Count, VictimErrors: all.Errors, VictimP50Ms: all.Latency.P50, VictimP99Ms: all.Latency.P99}
		if ares != nil {
			aseq = ares.NextSeq
			ph.AggressorAchieved = float64(ares.Recorder.Count()-ares.Recorder.Errors()) / ares.Elapsed().Seconds()
		}
		rep.Phases = append(rep.Phases, ph)
		phases = append(phases, measuredPhase{res: res})
		state := "off"
		if on {
			state = fmt.Sprintf("on (%.0f ops/s)", ph.AggressorAchieved)
		}
		rig.progressf("009 phase %2d, aggressor %-16s victim p50 %7.2f ms, p99 %7.2f ms, %d requests, %d errors\n",
			i+1, state, ph.VictimP50Ms, ph.VictimP99Ms, ph.VictimCount, ph.VictimErrors)
	}
	if len(phases) == 0 {
		return nil, fmt.Errorf("%w: task 009 measured nothing", load.ErrInterrupted)
	}
	var slip error
	if err := (&load.PhaseResult{Generator: gen}).Check(limitsOr(cfg.Limits)); err != nil {
		slip = fmt.Errorf("009 victim over %d phases (lag figures: the worst phase): %w", len(phases), err)
	}
	var off50, on50, off99, on99 []float64
	for _, ph := range rep.Phases {
		if ph.Aggressor {
			on50, on99 = append(on50, ph.VictimP50Ms), append(on99, ph.VictimP99Ms)
		} else {
			off50, off99 = append(off50, ph.VictimP50Ms), append(off99, ph.VictimP99Ms)
		}
	}
	rep.P50 = interference(off50, on50, cfg.Margin, cfg.Confidence, env.Seed)
	rep.P99 = interference(off99, on99, cfg.Margin, cfg.Confidence, env.Seed+1)
	rep.P99 = tailGuard(rep.P99, rep.Phases, 0.99)
	if ctx.Err() == nil {
		rep.Data = rig.dataIsolation(ctx, agg, rep.AggressorSpace, cfg.Probes, aseq)
	}

	rig.progressf("009 victim p50: %s\n009 victim p99: %s\n009 data isolation: %d leaked in %d recalls and %d searches (control: %d)\n",
		rep.P50.Statement, rep.P99.Statement, rep.Data.Leaked, rep.Data.Probes, rep.Data.Probes, rep.Data.Control)
	doc, err := rig.document(cfg.Scenario, result.RunConfig{Rate: rate, Arrival: "constant", DurationSeconds: cfg.Phase.Seconds(),
		WarmupSeconds: cfg.Settle.Seconds(), Repetitions: len(phases)}, start, phases)
	if err != nil {
		return nil, err
	}
	doc.Tasks["009"] = rep
	var checks []result.Check
	var skipped []string
	for _, q := range []struct {
		name string
		in   Interference
	}{{"p50", rep.P50}, {"p99", rep.P99}} {
		name := "009/interference_" + q.name
		if q.in.Verdict == "inconclusive" {
			skipped = append(skipped, name+": "+q.in.Statement)
			continue
		}
		c := checkAs(name, q.in.Change, "within ±", cfg.Margin, "", q.in.Verdict == "equivalent")
		c.Message = fmt.Sprintf("%s %s: %s", name, map[bool]string{true: "ok", false: "FAILED"}[c.Passed], q.in.Statement)
		checks = append(checks, c)
	}
	if rep.Data.Checked {
		c := check("009/data_isolation_leaks", float64(rep.Data.Leaked), "=", 0, "")
		c.Message += fmt.Sprintf(" (%d recalls and %d searches in the victim's space; the control search in the aggressor's space found %d of its memories)", rep.Data.Probes, rep.Data.Probes, rep.Data.Control)
		checks = append(checks, c)
	} else {
		skipped = append(skipped, "009/data_isolation_leaks: "+rep.Data.Note)
	}
	out := &Outcome{Document: doc, Checks: checks, Skipped: skipped}
	doc.Validation = &result.Validation{Passed: out.Passed(), Checks: checks}
	if ctx.Err() != nil {
		return out, fmt.Errorf("%w: task 009", load.ErrInterrupted)
	}
	return out, slip
}

// tailGuard makes a per-phase tail comparison inconclusive when a phase
// holds fewer victim requests than the quantile needs (MinSamplesFor, task
// 006's rule: about ten beyond it): below that each phase's p99 is its
// slowest few requests, and noise alone could call interference.
func tailGuard(in Interference, phases []IsolationPhase, q float64) Interference {
	need := MinSamplesFor(q)
	fewest := uint64(math.MaxUint64)
	for _, ph := range phases {
		fewest = min(fewest, ph.VictimCount)
	}
	if len(phases) == 0 || fewest >= need {
		return in
	}
	in.Verdict, in.PhasesNeeded = "inconclusive", 0
	in.Statement = fmt.Sprintf("not judged: the fewest victim requests in a phase were %d, p%g needs %d (measured %+.1f%% [%+.1f%%, %+.1f%%]; longer phases or a higher victim rate would judge it)",
		fewest, q*100, need, 100*in.Change, 100*in.Lo, 100*in.Hi)
	return in
}

// interference compares per-phase figures with the aggressor on against
// off with the gate's statistics: the bootstrap interval of the ratio of
// medians and the Mann–Whitney test, stated against ±margin.
func interference(off, on []float64, margin, confidence float64, seed uint64) Interference {
	var in Interference
	if len(off) == 0 || len(on) == 0 {
		in.Verdict, in.Statement = "inconclusive", "no phases on both sides"
		return in
	}
	var bs stats.MedianBootstrap
	in.Change = stats.Median(on)/stats.Median(off) - 1
	in.Lo, in.Hi = bs.RatioCI(off, on, confidence, 0, seed)
	in.P = 1
	if mw, err := stats.MannWhitney(off, on); err == nil {
		in.P = mw.P
	}
	ci := fmt.Sprintf("%+.2f%% (%.0f%% interval %+.2f%% … %+.2f%%, Mann–Whitney p = %.2g, %d phases on, %d off)",
		100*in.Change, 100*confidence, 100*in.Lo, 100*in.Hi, in.P, len(on), len(off))
	half := (in.Hi - in.Lo) / 2
	n := min(len(on), len(off))
	switch {
	case in.Lo >= -margin && in.Hi <= margin:
		in.Verdict = "equivalent"
		in.Statement = fmt.Sprintf("no interference beyond ±%.0f%%: %s", 100*margin, ci)
	case in.Lo > 0 || in.Hi < 0:
		in.Verdict = "interference"
		in.Statement = "interference " + ci
	default:
		in.Verdict = "inconclusive"
		// The interval must shrink to fit inside ±margin around the
		// change (equivalence), or to exclude 0 (interference), whichever
		// is nearer.
		room := margin - math.Abs(in.Change)
		if math.Abs(in.Change) > room {
			room = math.Abs(in.Change)
		}
		if room > 0 && half > 0 {
			in.PhasesNeeded = int(math.Ceil(float64(n) * (half / room) * (half / room)))
		}
		in.Statement = fmt.Sprintf("inconclusive: %s spans 0 and reaches beyond ±%.0f%%", ci, 100*margin)
		switch {
		case in.PhasesNeeded > 100*n:
			in.Statement += fmt.Sprintf("; the phases vary far more than ±%.0f%% (about %d per side would be needed, now %d): a quieter, dedicated runner would settle it, not more phases here", 100*margin, in.PhasesNeeded, n)
		case in.PhasesNeeded > 0:
			in.Statement += fmt.Sprintf("; about %d phases per side (now %d) would narrow it enough to decide, or a quieter runner", in.PhasesNeeded, n)
		}
	}
	return in
}

// dataIsolation probes the victim's space for the aggressor's memories:
// recalls by the embeddings the aggressor stored (its sends 0…sent-1) and
// searches for its marker word, then the same search in the aggressor's
// space as the control.
func (r *rig) dataIsolation(ctx context.Context, agg *load.Engram, aggSpace string, probes int, sent uint64) DataIsolation {
	d := DataIsolation{Probes: probes}
	if sent == 0 || probes <= 0 {
		d.Note = "the aggressor sent nothing"
		return d
	}
	vec := make([]float32, r.data.Dim())
	var buf []byte
	victim := r.data.Space(0)
	for i := range probes {
		// A store of send seq wrote node NumNodes+seq; which sends were
		// stores is the mix's, so probe spread over them (a recall by a
		// non-stored embedding is as good a probe for leaks).
		seq := uint64(i) * max(sent/uint64(probes), 1)
		agg.Data.Embedding(agg.NumNodes+seq, vec)
		buf = engram.AppendRecallQuery(buf[:0], vec, 0.0, 50)
		n, err := r.probe(ctx, load.RouteRecall, string(buf), victim)
		if err != nil {
			d.Note = err.Error()
			return d
		}
		d.Leaked += n
		n, err = r.probe(ctx, load.RouteSearch, "query="+aggressorMarker+"&limit=50", victim)
		if err != nil {
			d.Note = err.Error()
			return d
		}
		d.Leaked += n
	}
	n, err := r.probe(ctx, load.RouteSearch, "query="+aggressorMarker+"&limit=50", aggSpace)
	if err != nil {
		d.Note = err.Error()
		return d
	}
	d.Control = n
	if n == 0 {
		d.Note = fmt.Sprintf("the control search in the aggressor's space %q found none of its memories: the probes could not see a leak (does the server search content by word?)", aggSpace)
		return d
	}
	d.Checked = true
	return d
}

// probe sends one read to space and counts the memories in its answer
// that hold the aggressor's marker (recall: memories.vivid, associated,
// reconstructed; search: memories).
func (r *rig) probe(ctx context.Context, route, query, space string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url(route)+"?"+query, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Memory-Space", space)
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("data isolation probe %s: %w", route, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, fmt.Errorf("data isolation probe %s: %w", route, err)
	}
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("data isolation probe %s in space %q: HTTP %d", route, space, resp.StatusCode)
	}
	type mem struct {
		ID      string `json:"id"`
		Content string `json:"content"`
	}
	var out struct {
		Memories json.RawMessage `json:"memories"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return 0, fmt.Errorf("data isolation probe %s: the answer is not JSON with memories: %v", route, err)
	}
	var list []mem
	if err := json.Unmarshal(out.Memories, &list); err != nil {
		var groups map[string][]mem
		if err := json.Unmarshal(out.Memories, &groups); err != nil {
			return 0, fmt.Errorf("data isolation probe %s: memories is neither a list nor groups of lists", route)
		}
		for _, g := range groups {
			list = append(list, g...)
		}
	}
	n := 0
	for _, m := range list {
		if strings.Contains(m.Content, aggressorMarker) {
			n++
		}
	}
	return n, nil
}
