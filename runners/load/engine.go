package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/result"
)

// Limits say how much schedule slip the generator may have before a run is
// declared invalid because the generator, not the target, was the
// bottleneck. DefaultLimits holds the defaults.
type Limits struct {
	// LateAfter: a send more than this after its intended time is late.
	LateAfter time.Duration
	// DropAfter: a send that could not start (every sender busy, that is
	// the in-flight cap reached) within this of its intended time is dropped.
	DropAfter time.Duration
	// MaxLateFraction and MaxDroppedFraction of the scheduled sends fail the
	// run. A late fraction above 1 % is the same as a p99 schedule lag above
	// LateAfter.
	MaxLateFraction    float64
	MaxDroppedFraction float64
}

// DefaultLimits: late beyond 10 ms, dropped when not started within 1 s;
// the run fails when more than 1 % of the sends are late (p99 lag > 10 ms)
// or more than 1 % are dropped.
var DefaultLimits = Limits{
	LateAfter:          10 * time.Millisecond,
	DropAfter:          time.Second,
	MaxLateFraction:    0.01,
	MaxDroppedFraction: 0.01,
}

// ErrGeneratorBottleneck is wrapped by the error of a phase whose generator
// could not keep its schedule.
var ErrGeneratorBottleneck = errors.New("the load generator, not the target, was the bottleneck")

// Engine sends the requests of phases open-loop. Its fields are its
// configuration; set them before the first Run and leave them alone after.
type Engine struct {
	// Transport does the operations: any client.Client, on its fast path
	// when it is also a client.Driver (see package client). When nil, the
	// engine sends HTTP through http1.New(Client, Workload).
	Transport client.Client
	// Client and Workload are the HTTP shorthand for Transport: the client
	// that sends (NewClient makes a suitable one) and what it sends.
	Client   *http.Client
	Workload Workload
	// MaxInFlight caps the requests in flight at once (the number of sender
	// goroutines). Default 1000.
	MaxInFlight int
	// Limits on schedule slip; the zero value means DefaultLimits.
	Limits Limits
	// Observe, when set, is called with every sample of every phase, from
	// the goroutines that send: the event loop, or sender goroutines
	// concurrently (a windowed recorder for soak and burst analysis hooks
	// in here). It must be fast, since the event loop sends nothing while
	// it runs, and safe for concurrent use.
	Observe func(Sample)
	// Early is how far ahead of its intended time a send may be handed to
	// a sender: the scheduler sleeps between sends only when the next one is
	// further away than this (plus the 50 µs a system-call sleep cannot
	// resolve), and otherwise dispatches at once, so that it never spins
	// and at high rates wakes once per batch of sends. A send that leaves
	// early has its latency measured from the actual send (it never reads
	// lower than the service time). Default 100 µs.
	Early time.Duration

	// Senders makes sender goroutines send even where the Transport's
	// event loop could (a client.Driver: http1's on Linux). The loop is
	// cheaper per request but runs on one core, building every request
	// too; sender goroutines spread over every core, for rates beyond what
	// one core sends on a large machine.
	Senders bool
}

// Phase is one stretch of load: the arrival process followed from its start
// for Duration or MaxRequests sends, whichever comes first.
type Phase struct {
	// Name is shown in progress ("warm-up", "measure 2/3").
	Name        string
	Pacer       arrival.Pacer
	Mix         *Mix
	Duration    time.Duration
	MaxRequests uint64
	// FirstSeq numbers the phase's sends from FirstSeq, so that phases of one
	// run never send the same item twice.
	FirstSeq uint64
	// Progress, when set, is called about once a second while the phase runs.
	Progress func(Progress)
	// Shard, when it is a part (Count > 1), sends only this generator's
	// slice of the phase's schedule (see Shard); MaxRequests and Duration
	// bound the whole schedule.
	Shard Shard
	// StartAt, when set, is the phase's start: the engine waits for it, and
	// intended times count from it, so that generators on several machines
	// follow one timeline. A phase that begins a little late sends its
	// first sends late (schedule lag, as any slip); one that begins more
	// than Limits.DropAfter after StartAt skips the sends already due
	// (PhaseResult.Missed) instead of sending them in a burst.
	StartAt time.Time
}

// Progress is a snapshot of a running phase.
type Progress struct {
	Phase     string
	Elapsed   time.Duration
	Duration  time.Duration
	Completed uint64
	Errors    uint64
	InFlight  int64
}

// PhaseResult is what one phase measured.
type PhaseResult struct {
	Start, End time.Time
	// Recorder holds every sample of the phase.
	Recorder *Recorder
	// Generator says how well the schedule was kept.
	Generator result.Generator
	// Interrupted is true when the context ended the phase early.
	Interrupted bool
	// NextSeq is the first sequence number the phase did not use.
	NextSeq uint64
	// StartLag is how long after Phase.StartAt the phase began (0 without
	// one); Missed counts this shard's sends skipped because they were
	// due before that (also in Generator).
	StartLag time.Duration
	Missed   uint64
}

// Elapsed is the phase's length: from its start to the last response.
func (p *PhaseResult) Elapsed() time.Duration { return p.End.Sub(p.Start) }

// Check returns an error wrapping ErrGeneratorBottleneck when the generator
// slipped beyond the limits, saying by how much and what to do.
func (p *PhaseResult) Check(l Limits) error {
	g := p.Generator
	if g.Scheduled == 0 {
		return nil
	}
	late := float64(g.Late) / float64(g.Scheduled)
	dropped := float64(g.Dropped) / float64(g.Scheduled)
	switch {
	case dropped > l.MaxDroppedFraction:
		return fmt.Errorf("%w: %d of %d sends (%.1f%%, limit %.1f%%) were dropped because all %d in-flight slots were busy; raise --max-in-flight, lower --rate, or give the generator more CPU (if the target itself is that slow, its latency figures are still real, but the load it got was not the scenario's)",
			ErrGeneratorBottleneck, g.Dropped, g.Scheduled, 100*dropped, 100*l.MaxDroppedFraction, g.MaxInFlightSeen)
	case late > l.MaxLateFraction:
		return fmt.Errorf("%w: %d of %d sends (%.1f%%, limit %.1f%%) left more than %v after their intended time (p99 schedule lag %.1f ms, max %.1f ms); the generator's CPU or in-flight cap could not keep up: lower --rate, raise --max-in-flight, run the generator on a less loaded machine, or on a many-core one spread it over the cores with --senders",
			ErrGeneratorBottleneck, g.Late, g.Scheduled, 100*late, 100*l.MaxLateFraction, l.LateAfter, g.P99LagMs, g.MaxLagMs)
	}
	return nil
}

func (e *Engine) limits() Limits {
	if e.Limits == (Limits{}) {
		return DefaultLimits
	}
	return e.Limits
}

func (e *Engine) maxInFlight() int {
	if e.MaxInFlight <= 0 {
		return 1000
	}
	return e.MaxInFlight
}

// Run runs one phase and returns what it measured. It stops by itself after
// the phase's duration or request count, and early (with Interrupted set)
// when ctx ends; in-flight requests are then abandoned and not recorded.
// The error is non-nil only when the phase could not run at all; schedule
// slip is reported by PhaseResult.Check.
func (e *Engine) Run(ctx context.Context, ph Phase) (*PhaseResult, error) {
	cl, err := e.transport()
	if err != nil {
		return nil, err
	}
	if ph.Pacer == nil || ph.Mix == nil {
		return nil, errors.New("load: the Phase needs a Pacer and a Mix")
	}
	if ph.Duration <= 0 {
		return nil, fmt.Errorf("load: phase %q duration must be > 0 (got %v)", ph.Name, ph.Duration)
	}
	p := &phase{e: e, ph: ph, ctx: ctx, lim: e.limits(), early: e.Early, n: e.maxInFlight(), maxReq: ph.MaxRequests, seq: ph.FirstSeq}
	if p.maxReq == 0 {
		p.maxReq = ^uint64(0)
	}
	if p.early <= 0 {
		p.early = 100 * time.Microsecond
	}
	nShards := 4 * runtime.GOMAXPROCS(0)
	if nShards > p.n {
		nShards = p.n
	}
	p.rec = newShards(nShards)
	p.start = time.Now()
	if !ph.StartAt.IsZero() {
		timer := time.NewTimer(time.Hour)
		if !waitUntil(ctx, ph.StartAt, timer) {
			return &PhaseResult{Start: ph.StartAt, End: time.Now(), Recorder: NewRecorder(), Interrupted: true, NextSeq: ph.FirstSeq}, nil
		}
		timer.Stop()
		// A send left within MinSleep of its time: wait it out so that
		// the first send is not early.
		if d := time.Until(ph.StartAt); d > 0 {
			client.SleepShort(d)
		}
		p.start = ph.StartAt
		if lag := time.Since(ph.StartAt); lag > 0 {
			p.startLag = lag
			if lag > p.lim.DropAfter {
				p.skipUntil = lag
			}
		}
	}

	stopProgress := func() {}
	if ph.Progress != nil {
		stopProgress = everySecond(func() {
			ph.Progress(Progress{Phase: ph.Name, Elapsed: time.Since(p.start), Duration: ph.Duration,
				Completed: p.completed.Load(), Errors: p.failed.Load(), InFlight: p.busy.Load()})
		})
	}

	driven := false
	if d, ok := cl.(client.Driver); ok && !e.Senders {
		// A Driver that cannot run here has sent nothing: the sender
		// goroutines do the same job.
		driven = d.Drive(p) == nil
	}
	if !driven {
		p.runSenders(cl)
	}
	end := time.Now()
	stopProgress()

	all := p.rec.merged()
	lag := all.Lag()
	g := result.Generator{
		Scheduled:       p.scheduled,
		Sent:            p.scheduled - p.dropped,
		Late:            p.late.Load(),
		Dropped:         p.dropped,
		MeanLagMs:       lag.Mean() / 1000,
		P99LagMs:        float64(lag.ValueAtQuantile(99)) / 1000,
		MaxLagMs:        float64(lag.Max()) / 1000,
		MaxInFlightSeen: int(p.maxSeen.Load()),
	}
	if lag.TotalCount() == 0 {
		g.MeanLagMs, g.P99LagMs, g.MaxLagMs = 0, 0, 0
	}
	g.StartLagMs = float64(p.startLag) / float64(time.Millisecond)
	g.Missed = p.missed
	if p.interrupted {
		// Sends abandoned by the interruption are neither sent nor dropped.
		g.Scheduled = all.Count() + p.dropped
		g.Sent = all.Count()
	}
	return &PhaseResult{Start: p.start, End: end, Recorder: all, Generator: g, Interrupted: p.interrupted, NextSeq: p.seq,
		StartLag: p.startLag, Missed: p.missed}, nil
}

// phase is the state of one Engine.Run, shared by whichever sends its
// requests: the Transport's event loop (it is the client.Schedule the
// loop follows) or the engine's sender goroutines.
type phase struct {
	e      *Engine
	ph     Phase
	ctx    context.Context
	lim    Limits
	early  time.Duration
	n      int // the in-flight cap
	maxReq uint64
	rec    *shards
	start  time.Time

	// busy counts the requests in flight; maxSeen is its maximum.
	busy, maxSeen     atomic.Int64
	completed, failed atomic.Uint64
	late              atomic.Uint64

	// Owned by the scheduler.
	k           uint64        // sends paced so far
	intended    time.Duration // the last paced send's intended time
	seq         uint64
	scheduled   uint64
	dropped     uint64
	interrupted bool
	// startLag is how late the phase began; sends due before skipUntil
	// are skipped (missed) rather than sent late.
	startLag, skipUntil time.Duration
	missed              uint64
}

// Context implements client.Schedule.
func (p *phase) Context() context.Context { return p.ctx }

// Start implements client.Schedule.
func (p *phase) Start() time.Time { return p.start }

// Early implements client.Schedule.
func (p *phase) Early() time.Duration { return p.early }

// MaxInFlight implements client.Schedule.
func (p *phase) MaxInFlight() int { return p.n }

// DropAfter implements client.Schedule.
func (p *phase) DropAfter() time.Duration { return p.lim.DropAfter }

// Next implements client.Schedule: it paces the next send of this
// shard. ok is false when the phase has no more sends (its duration or
// request count reached, or the pacer stopped). The sends of other shards,
// and this shard's sends missed by a late start, are paced and numbered
// as they would be if sent, so that every shard follows one global
// sequence.
func (p *phase) Next() (it client.Send, ok bool) {
	for {
		if p.k >= p.maxReq {
			return client.Send{}, false
		}
		wait, stop := p.ph.Pacer.Pace(p.intended, p.k)
		if stop {
			return client.Send{}, false
		}
		k := p.k
		p.k++
		p.intended += wait
		if p.intended >= p.ph.Duration {
			return client.Send{}, false
		}
		own := p.ph.Shard.owns(k)
		if own && p.intended >= p.skipUntil {
			return client.Send{Intended: p.intended}, true
		}
		p.ph.Mix.Pick()
		p.seq++
		if own {
			p.missed++
		}
	}
}

// Due implements client.Schedule: it numbers a send that is due, picking
// its operation.
func (p *phase) Due(it *client.Send) {
	it.Op = p.ph.Mix.Pick()
	it.Seq = p.seq
	p.seq++
	p.scheduled++
}

// Drop implements client.Schedule.
func (p *phase) Drop() { p.dropped++ }

// Interrupt implements client.Schedule.
func (p *phase) Interrupt() { p.interrupted = true }

// Begin implements client.Schedule: it counts one more request in flight
// and returns how many are.
func (p *phase) Begin() int {
	cur := p.busy.Add(1)
	for {
		m := p.maxSeen.Load()
		if cur <= m || p.maxSeen.CompareAndSwap(m, cur) {
			return int(cur)
		}
	}
}

// Done implements client.Schedule: sender w's request finished; shard w
// records it. An interrupted phase's requests are not measurements and are
// dropped.
func (p *phase) Done(w int, it client.Send, sentAt time.Time, inFlight int, o Outcome) {
	p.busy.Add(-1)
	if p.ctx.Err() != nil {
		return
	}
	s := measured(it, p.start, sentAt, o)
	s.InFlight = inFlight
	if s.Lag > p.lim.LateAfter {
		p.late.Add(1)
	}
	if !s.Outcome.OK() {
		p.failed.Add(1)
	}
	p.completed.Add(1)
	p.rec.record(w, s)
	if p.e.Observe != nil {
		p.e.Observe(s)
	}
}

// runSenders sends the phase's requests from sender goroutines, one
// request at a time each, each through a client.Conn of its own, fed by
// this goroutine as the scheduler.
func (p *phase) runSenders(cl client.Client) {
	lim, n := p.lim, p.n
	ctx := p.ctx
	reqCtx, cancelReqs := context.WithCancel(context.Background())
	defer cancelReqs()
	stopReqs := context.AfterFunc(ctx, cancelReqs)
	defer stopReqs()

	work := make(chan client.Send)
	var wg sync.WaitGroup
	worker := func(w int) {
		defer wg.Done()
		c := cl.NewConn()
		defer c.Close()
		for it := range work {
			cur := p.Begin()
			sentAt, o := c.Do(reqCtx, it.Op, it.Seq)
			p.Done(w, it, sentAt, cur, o)
		}
	}
	// Senders start on demand, up to the in-flight cap: a pool that grows
	// only when every sender is taken, never because a sender that is free
	// has not been scheduled yet (that would only add goroutines and
	// connections to a generator short of CPU).
	spawned := 0
	spawn := func() {
		wg.Add(1)
		go worker(spawned)
		spawned++
	}
	for spawned < min(n, 2*runtime.GOMAXPROCS(0)) {
		spawn()
	}

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	start := p.start
schedule:
	for {
		it, ok := p.Next()
		if !ok {
			break
		}
		if ctx.Err() != nil {
			p.interrupted = true
			break
		}
		if !waitUntil(ctx, start.Add(it.Intended-p.early), timer) {
			p.interrupted = true
			break
		}
		p.Due(&it)
		select {
		case work <- it:
			continue
		default:
		}
		// No sender is idle. Wait for one to free up until the drop
		// deadline. When every sender is taken, start one more, but only
		// after a grace: until SpawnLag after this send's time and at
		// least SpawnLag/4 (one usually frees up in microseconds), then
		// every SpawnLag/4. So a backlog left by a pause of the generator
		// itself (a GC, the OS running something else) drains through the
		// senders there are instead of opening a connection per late send,
		// while a stalled target still gets a sender per send within a
		// quarter of a millisecond (or the few a timer wake-up costs
		// behind a long run queue). A new goroutine runs next on this P
		// and takes the send.
		deadline := start.Add(it.Intended + lim.DropAfter)
		grace := max(time.Until(start.Add(it.Intended+client.SpawnLag)), client.SpawnLag/4)
		for {
			wait := time.Until(deadline)
			if wait <= 0 {
				p.dropped++
				continue schedule
			}
			if spawned < n {
				wait = min(wait, grace)
			}
			timer.Reset(wait)
			select {
			case work <- it:
				timer.Stop()
				continue schedule
			case <-timer.C:
			case <-ctx.Done():
				p.interrupted = true
				break schedule
			}
			if spawned < n && p.busy.Load() >= int64(spawned) {
				spawn()
			}
			grace = client.SpawnLag / 4
		}
	}
	close(work)
	wg.Wait()
}

// waitUntil returns at about t, never more than client.MinSleep before:
// with the runtime timer while far from t (it wakes up to a millisecond
// late when the process is idle), then with one short system-call sleep,
// which wakes within tens of microseconds. It does not spin. It returns
// false when ctx ends first.
func waitUntil(ctx context.Context, t time.Time, timer *time.Timer) bool {
	for {
		d := time.Until(t)
		switch {
		case d <= client.MinSleep:
			// Closer than a system-call sleep can resolve: go now. At high
			// rates this is what batches the sends between sleeps.
			return true
		case d > 3*time.Millisecond:
			timer.Reset(d - 2*time.Millisecond)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return false
			}
		default:
			client.SleepShort(d)
		}
	}
}

// measured is the sample of send it of a phase that started at start, sent
// at sentAt and ending now with outcome o. Latency runs from the intended
// time, or from sentAt for a send that left early (see Engine.Early), so
// that it never reads below the service time.
func measured(it client.Send, start, sentAt time.Time, o Outcome) Sample {
	end := time.Now()
	from := start.Add(it.Intended)
	lag := sentAt.Sub(from)
	if lag < 0 {
		from, lag = sentAt, 0
	}
	return Sample{Op: it.Op, Intended: it.Intended, Lag: lag, Service: end.Sub(sentAt), Latency: end.Sub(from), Outcome: o}
}

// everySecond calls f once a second in a goroutine of its own until the
// returned stop is called; stop returns once f's last call has ended.
func everySecond(f func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
