package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/result"
)

// Workload turns scheduled sends into HTTP requests.
type Workload interface {
	// NewSender returns the request builder of one connection (one sender
	// goroutine, or one of the event loop's connections); it may keep
	// buffers from one request to the next.
	NewSender() Sender
}

// Sender builds the requests of one connection, one at a time.
type Sender interface {
	// Request returns the request for send number seq, an op operation. It
	// may reuse memory of the previous request of the same Sender: the
	// engine calls it again only after that one's response was read. ctx
	// is the request's context.
	Request(ctx context.Context, op Op, seq uint64) (*http.Request, error)
}

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
	// Client sends the requests; NewClient makes a suitable one.
	Client *http.Client
	// Workload builds the requests.
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

	// Senders makes sender goroutines send even where the event loop
	// could (Linux, NewClient's Transport). The loop is cheaper per
	// request but runs on one core, building every request too; sender
	// goroutines spread over every core, for rates beyond what one core
	// sends on a large machine.
	Senders bool
}

// NewClient returns an HTTP client tuned for an open-loop load: keep-alive
// HTTP/1.1 connections, one kept idle per possible in-flight request, each
// request sent and read by its sender goroutine without hand-offs (see
// Transport), no proxy, no compression, and a whole-request timeout.
func NewClient(maxInFlight int, timeout time.Duration) *http.Client {
	return &http.Client{Transport: NewTransport(maxInFlight, timeout)}
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

type item struct {
	op       Op
	seq      uint64
	intended time.Duration
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
	if e.Client == nil || e.Workload == nil || ph.Pacer == nil || ph.Mix == nil {
		return nil, errors.New("load: Engine needs a Client and a Workload, and the Phase a Pacer and a Mix")
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

	var loop *eventLoop
	if !e.Senders {
		var err error
		if loop, err = e.newLoop(p); err != nil {
			loop = nil // no event loop here: sender goroutines do the same job
		}
	}
	p.start = time.Now()

	// Progress ticker.
	progDone := make(chan struct{})
	if ph.Progress != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-progDone:
					return
				case <-t.C:
					ph.Progress(Progress{Phase: ph.Name, Elapsed: time.Since(p.start), Duration: ph.Duration,
						Completed: p.completed.Load(), Errors: p.failed.Load(), InFlight: p.busy.Load()})
				}
			}
		}()
	}

	if loop != nil {
		loop.run()
	} else {
		p.runSenders()
	}
	end := time.Now()
	close(progDone)

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
	if p.interrupted {
		// Sends abandoned by the interruption are neither sent nor dropped.
		g.Scheduled = all.Count() + p.dropped
		g.Sent = all.Count()
	}
	return &PhaseResult{Start: p.start, End: end, Recorder: all, Generator: g, Interrupted: p.interrupted, NextSeq: p.seq}, nil
}

// phase is the state of one Engine.Run, shared by whichever sends its
// requests: the event loop or the sender goroutines.
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
}

// next paces the next send. ok is false when the phase has no more sends
// (its duration or request count reached, or the pacer stopped).
func (p *phase) next() (it item, ok bool) {
	if p.k >= p.maxReq {
		return item{}, false
	}
	wait, stop := p.ph.Pacer.Pace(p.intended, p.k)
	if stop {
		return item{}, false
	}
	p.k++
	p.intended += wait
	if p.intended >= p.ph.Duration {
		return item{}, false
	}
	return item{intended: p.intended}, true
}

// take numbers a send that is due, picking its operation.
func (p *phase) take(it *item) {
	it.op = p.ph.Mix.Pick()
	it.seq = p.seq
	p.seq++
	p.scheduled++
}

// taken counts one more request in flight and returns how many are.
func (p *phase) taken() int64 {
	cur := p.busy.Add(1)
	for {
		m := p.maxSeen.Load()
		if cur <= m || p.maxSeen.CompareAndSwap(m, cur) {
			return cur
		}
	}
}

// done accounts for a finished request: shard w records it. An
// interrupted phase's requests are not measurements and are dropped.
func (p *phase) done(w int, s Sample) {
	p.busy.Add(-1)
	if p.ctx.Err() != nil {
		return
	}
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
// request at a time each, fed by this goroutine as the scheduler.
func (p *phase) runSenders() {
	e, lim, n := p.e, p.lim, p.n
	ctx := p.ctx
	reqCtx, cancelReqs := context.WithCancel(context.Background())
	defer cancelReqs()
	stopReqs := context.AfterFunc(ctx, cancelReqs)
	defer stopReqs()
	conns := newConnSet(e.Client)
	stopConns := context.AfterFunc(ctx, conns.abort)
	defer stopConns()

	work := make(chan item)
	var wg sync.WaitGroup
	worker := func(w int) {
		defer wg.Done()
		ws := &senderState{sender: e.Workload.NewSender(), conns: conns}
		defer ws.close()
		for it := range work {
			cur := p.taken()
			s := e.send(reqCtx, ws, it, p.start)
			s.InFlight = int(cur)
			p.done(w, s)
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
		it, ok := p.next()
		if !ok {
			break
		}
		if ctx.Err() != nil {
			p.interrupted = true
			break
		}
		if !waitUntil(ctx, start.Add(it.intended-p.early), timer) {
			p.interrupted = true
			break
		}
		p.take(&it)
		select {
		case work <- it:
			continue
		default:
		}
		// No sender is idle. Wait for one to free up until the drop
		// deadline. When every sender is taken, start one more, but only
		// after a grace: until spawnLag after this send's time and at
		// least spawnLag/4 (one usually frees up in microseconds), then
		// every spawnLag/4. So a backlog left by a pause of the generator
		// itself (a GC, the OS running something else) drains through the
		// senders there are instead of opening a connection per late send,
		// while a stalled target still gets a sender per send within a
		// quarter of a millisecond (or the few a timer wake-up costs
		// behind a long run queue). A new goroutine runs next on this P
		// and takes the send.
		deadline := start.Add(it.intended + lim.DropAfter)
		grace := max(time.Until(start.Add(it.intended+spawnLag)), spawnLag/4)
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
			grace = spawnLag / 4
		}
	}
	close(work)
	wg.Wait()
}

// minSleep is the shortest wait worth a system-call sleep, which wakes
// about 50 µs late anyway.
const minSleep = 50 * time.Microsecond

// spawnLag is how late a send may get waiting for a busy sender to free
// up before the scheduler starts another one.
const spawnLag = time.Millisecond

// waitUntil returns at about t, never more than minSleep before: with the runtime timer while
// far from t (it wakes up to a millisecond late when the process is idle),
// then with one short system-call sleep, which wakes within tens of
// microseconds. It does not spin. It returns false when ctx ends first.
func waitUntil(ctx context.Context, t time.Time, timer *time.Timer) bool {
	for {
		d := time.Until(t)
		switch {
		case d <= minSleep:
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
			sleepShort(d)
		}
	}
}

// send performs one request and classifies it.
func (e *Engine) send(ctx context.Context, ws *senderState, it item, start time.Time) Sample {
	req, err := ws.sender.Request(ctx, it.op, it.seq)
	sentAt := time.Now()
	o := OutcomeConnection
	if err == nil {
		if c := ws.conn(req); c != nil {
			status, err := c.do(req)
			if o = Outcome(status); err != nil {
				o = classify(err)
			}
		} else {
			o = e.do(req)
		}
	}
	return measured(it, start, sentAt, o)
}

// do sends req through e.Client and reads its response to the end.
func (e *Engine) do(req *http.Request) Outcome {
	resp, err := e.Client.Do(req)
	if err != nil {
		return classify(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return classify(err)
	}
	return Outcome(resp.StatusCode)
}

// measured is the sample of send it of a phase that started at start, sent
// at sentAt and ending now with outcome o. Latency runs from the intended
// time, or from sentAt for a send that left early (see Engine.Early), so
// that it never reads below the service time.
func measured(it item, start, sentAt time.Time, o Outcome) Sample {
	end := time.Now()
	from := start.Add(it.intended)
	lag := sentAt.Sub(from)
	if lag < 0 {
		from, lag = sentAt, 0
	}
	return Sample{Op: it.op, Intended: it.intended, Lag: lag, Service: end.Sub(sentAt), Latency: end.Sub(from), Outcome: o}
}

// connSet is the senders' own connections of one phase, so that an
// interruption can abort them all.
type connSet struct {
	transport *Transport // nil: the senders use Engine.Client
	pool      *connPool
	mu        sync.Mutex
	list      []*senderConn
	aborted   bool
}

// newConnSet returns the connection set of a phase whose requests go
// through c: the senders' own connections when c's transport is a
// Transport, else none (every request through c).
func newConnSet(c *http.Client) *connSet {
	s := &connSet{}
	if t, ok := c.Transport.(*Transport); ok {
		s.transport, s.pool = t, &t.senders
	}
	return s
}

func (s *connSet) abort() {
	s.mu.Lock()
	s.aborted = true
	list := s.list
	s.mu.Unlock()
	for _, c := range list {
		c.abort()
	}
}

func (s *connSet) open(u *url.URL) *senderConn {
	t := s.transport
	c := s.pool.get(u.Host)
	if c == nil {
		c = &senderConn{addr: hostPort(u), host: u.Host, dialer: &t.dialer, timeout: t.Timeout}
	}
	s.mu.Lock()
	s.list = append(s.list, c)
	aborted := s.aborted
	s.mu.Unlock()
	if aborted {
		c.abort()
	}
	return c
}

// connPool keeps the open connections of senders that ended, for the
// senders of the next phase.
type connPool struct {
	mu   sync.Mutex
	idle []*senderConn
}

func (p *connPool) get(host string) *senderConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.idle) - 1; i >= 0; i-- {
		if c := p.idle[i]; c.host == host {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return c
		}
	}
	return nil
}

// put keeps c when it is open and was not aborted, up to max connections.
func (p *connPool) put(c *senderConn, max int) {
	c.mu.Lock()
	ok := c.nc != nil && !c.aborted
	c.mu.Unlock()
	if ok {
		p.mu.Lock()
		if len(p.idle) < max {
			p.idle = append(p.idle, c)
			c = nil
		}
		p.mu.Unlock()
	}
	if c != nil {
		c.close()
	}
}

// closeAll closes the idle connections.
func (p *connPool) closeAll() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// senderState is what one sender goroutine keeps: its request builder and,
// when the Engine's client is NewClient's, its own connection.
type senderState struct {
	sender Sender
	conns  *connSet
	c      *senderConn
}

// conn returns the sender's connection for req, or nil when req goes
// through Engine.Client (another client, or not plain http://).
func (ws *senderState) conn(req *http.Request) *senderConn {
	if ws.conns.transport == nil || req.URL == nil || req.URL.Scheme != "http" {
		return nil
	}
	if ws.c == nil || ws.c.host != req.URL.Host {
		ws.close()
		ws.c = ws.conns.open(req.URL)
	}
	return ws.c
}

// close hands the sender's connection to the pool for the next phase.
func (ws *senderState) close() {
	if ws.c != nil {
		ws.conns.pool.put(ws.c, max(ws.conns.transport.MaxIdle, 1))
		ws.c = nil
	}
}

func classify(err error) Outcome {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return OutcomeTimeout
	}
	return OutcomeConnection
}
