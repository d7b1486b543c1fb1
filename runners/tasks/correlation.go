package tasks

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/engram/m18-gate/runners/arrival"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
)

// Transition is one given row entry of a transition matrix: after an
// operation From, the next is To with probability P (when the chain
// follows the matrix).
type Transition struct {
	From string  `json:"from"`
	To   string  `json:"to"`
	P    float64 `json:"p"`
}

// Correlation makes consecutive operations depend on each other: the next
// operation follows the transition matrix with probability Strength, and
// is drawn from the scenario's operation weights otherwise. A row of the
// matrix is the Transitions given for its operation; the rest of the row's
// probability is spread over the other operations by their weights.
type Correlation struct {
	Strength    float64      `json:"strength"`
	Transitions []Transition `json:"transitions"`
}

// DefaultCorrelation is the milestone's: store→recall 0.6, recall→search
// 0.4, search→recall 0.5, strength 0.3.
var DefaultCorrelation = Correlation{Strength: 0.3, Transitions: []Transition{
	{From: result.OpStore, To: result.OpRecall, P: 0.6},
	{From: result.OpRecall, To: result.OpSearch, P: 0.4},
	{From: result.OpSearch, To: result.OpRecall, P: 0.5},
}}

const nOps = 4

func opIndex(name string) (int, bool) {
	for i, n := range result.Operations {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// Matrix returns the full transition matrix over the base weights (which
// need not be normalised).
func (c Correlation) Matrix(weights [nOps]float64) ([nOps][nOps]float64, error) {
	var m [nOps][nOps]float64
	var given [nOps][nOps]bool
	for _, t := range c.Transitions {
		a, okA := opIndex(t.From)
		b, okB := opIndex(t.To)
		if !okA || !okB {
			return m, fmt.Errorf("transition %s→%s: operations are %v", t.From, t.To, result.Operations)
		}
		if t.P < 0 || t.P > 1 {
			return m, fmt.Errorf("transition %s→%s: probability must be in [0, 1] (got %g)", t.From, t.To, t.P)
		}
		m[a][b], given[a][b] = t.P, true
	}
	for a := range m {
		var used, rest float64
		for b := range m[a] {
			if given[a][b] {
				used += m[a][b]
			} else {
				rest += weights[b]
			}
		}
		if used > 1+1e-9 {
			return m, fmt.Errorf("transitions from %s sum to %g > 1", result.Operations[a], used)
		}
		free := 0
		for b := range m[a] {
			if !given[a][b] {
				free++
			}
		}
		for b := range m[a] {
			if given[a][b] {
				continue
			}
			if rest > 0 {
				m[a][b] = (1 - used) * weights[b] / rest
			} else if free > 0 {
				m[a][b] = (1 - used) / float64(free)
			}
		}
	}
	return m, nil
}

// opChain draws the correlated sequence of operations from a seed.
type opChain struct {
	strength float64
	rows     [nOps][nOps]float64 // cumulative
	base     [nOps]float64       // cumulative
	rng      *rand.Rand
	prev     int
	started  bool
}

func newOpChain(c Correlation, weights [nOps]float64, seed uint64) (*opChain, error) {
	m, err := c.Matrix(weights)
	if err != nil {
		return nil, err
	}
	ch := &opChain{strength: c.Strength, rng: rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d))}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 {
		return nil, fmt.Errorf("operation weights are all zero")
	}
	var acc float64
	for b, w := range weights {
		acc += w / sum
		ch.base[b] = acc
	}
	for a := range m {
		acc = 0
		for b := range m[a] {
			acc += m[a][b]
			ch.rows[a][b] = acc
		}
	}
	return ch, nil
}

func pickCum(cum [nOps]float64, u float64) int {
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	for i := nOps - 1; i > 0; i-- { // rounding: the last op with weight
		if cum[i] > cum[i-1] {
			return i
		}
	}
	return 0
}

func (c *opChain) next() load.Op {
	var op int
	if c.started && c.rng.Float64() < c.strength {
		op = pickCum(c.rows[c.prev], c.rng.Float64())
	} else {
		op = pickCum(c.base, c.rng.Float64())
	}
	c.prev, c.started = op, true
	return load.Op(op)
}

// CorrelationResult is the correlation realised by a sequence of sent
// operations, against the target.
type CorrelationResult struct {
	// Target is the configured strength; Realised the strength estimated
	// from the sequence (weighted least squares of the observed transition
	// frequencies on the model s·matrix + (1−s)·weights); Ratio is
	// Realised / Target.
	Target   float64 `json:"target_strength"`
	Realised float64 `json:"realised_strength"`
	Ratio    float64 `json:"ratio"`
	// Pairs is the number of consecutive pairs of sent operations.
	Pairs uint64 `json:"pairs"`
	// Transitions compares each given transition: Expected is the chain's
	// P(To | From), s·p + (1−s)·weight(To); Realised its frequency.
	Transitions []TransitionResult `json:"transitions"`
}

// TransitionResult is one transition's expected and realised probability.
type TransitionResult struct {
	From     string  `json:"from"`
	To       string  `json:"to"`
	Expected float64 `json:"expected"`
	Realised float64 `json:"realised"`
	Count    uint64  `json:"count"`
}

// MeasureCorrelation estimates the correlation realised by ops (the
// operations in the order they were sent).
func MeasureCorrelation(c Correlation, weights [nOps]float64, ops []load.Op) (CorrelationResult, error) {
	m, err := c.Matrix(weights)
	if err != nil {
		return CorrelationResult{}, err
	}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	var w [nOps]float64
	for i := range weights {
		w[i] = weights[i] / sum
	}
	var n [nOps][nOps]float64
	var rowN [nOps]float64
	for i := 1; i < len(ops); i++ {
		n[ops[i-1]][ops[i]]++
		rowN[ops[i-1]]++
	}
	out := CorrelationResult{Target: c.Strength}
	if len(ops) > 1 {
		out.Pairs = uint64(len(ops) - 1)
	}
	var num, den float64
	for a := 0; a < nOps; a++ {
		if rowN[a] == 0 {
			continue
		}
		for b := 0; b < nOps; b++ {
			p := n[a][b] / rowN[a]
			d := m[a][b] - w[b]
			num += rowN[a] * (p - w[b]) * d
			den += rowN[a] * d * d
		}
	}
	if den > 0 {
		out.Realised = num / den
	}
	if c.Strength > 0 {
		out.Ratio = out.Realised / c.Strength
	}
	for _, t := range c.Transitions {
		a, _ := opIndex(t.From)
		b, _ := opIndex(t.To)
		tr := TransitionResult{From: t.From, To: t.To, Expected: c.Strength*m[a][b] + (1-c.Strength)*w[b], Count: uint64(n[a][b])}
		if rowN[a] > 0 {
			tr.Realised = n[a][b] / rowN[a]
		}
		out.Transitions = append(out.Transitions, tr)
	}
	if math.IsNaN(out.Realised) {
		out.Realised = 0
	}
	return out, nil
}

// correlated is one measured phase with correlated operations. The engine
// picks an operation per send from its Mix, which knows nothing of the
// previous one; correlated replaces it: as the phase's Pacer it draws the
// next operation of the chain with each send (the pacer is called once per
// send, in order), and as the Workload it sends that operation instead of
// the Mix's. Samples reach Observe with the Mix's operation, so observe
// finds the real one by the send's intended time (kept strictly
// increasing) and re-labels the sample.
type correlated struct {
	pacer arrival.Pacer
	inner load.Workload
	chain *opChain
	first uint64

	mu       sync.RWMutex
	intended []time.Duration
	ops      []load.Op
	done     []bool
}

// Pace implements arrival.Pacer.
func (c *correlated) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	wait, stop := c.pacer.Pace(elapsed, hits)
	if stop {
		return wait, stop
	}
	if hits > 0 && wait <= 0 {
		wait = 1 // intended times strictly increase, so they identify a send
	}
	op := c.chain.next()
	c.mu.Lock()
	c.intended = append(c.intended, elapsed+wait)
	c.ops = append(c.ops, op)
	c.done = append(c.done, false)
	c.mu.Unlock()
	return wait, false
}

// Rate implements arrival.Pacer.
func (c *correlated) Rate(t time.Duration) float64 { return c.pacer.Rate(t) }

// NewSender implements load.Workload.
func (c *correlated) NewSender() load.Sender {
	return &correlatedSender{c: c, inner: c.inner.NewSender()}
}

type correlatedSender struct {
	c     *correlated
	inner load.Sender
}

// Request implements load.Sender: the chain's operation, not the Mix's.
func (s *correlatedSender) Request(ctx context.Context, op load.Op, seq uint64) (*http.Request, error) {
	k := seq - s.c.first
	s.c.mu.RLock()
	if k < uint64(len(s.c.ops)) {
		op = s.c.ops[k]
	}
	s.c.mu.RUnlock()
	return s.inner.Request(ctx, op, seq)
}

// relabel returns the sample with its real operation, and marks it sent.
func (c *correlated) relabel(s load.Sample) load.Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := sort.Search(len(c.intended), func(i int) bool { return c.intended[i] >= s.Intended })
	if k < len(c.intended) && c.intended[k] == s.Intended {
		s.Op = c.ops[k]
		c.done[k] = true
	}
	return s
}

// sent returns the operations that completed, in send order.
func (c *correlated) sent() []load.Op {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]load.Op, 0, len(c.ops))
	for i, op := range c.ops {
		if c.done[i] {
			out = append(out, op)
		}
	}
	return out
}
