package load

import (
	"fmt"
	"math/rand/v2"

	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/scenario"
)

// Op is one kind of operation (see client.Op).
type Op = client.Op

// The operations, in result.Operations order.
const (
	Store             = client.Store
	Recall            = client.Recall
	Search            = client.Search
	PatternCompletion = client.PatternCompletion
	numOps            = client.NumOps
)

// Mix picks operations by relative weight from a seeded source. It is used
// by the scheduler alone, so the sequence of operations is a function of the
// seed.
type Mix struct {
	cum [numOps]float64
	rng *rand.Rand
}

// NewMix returns a Mix over the weights (in Op order, relative, ≥ 0, not all
// zero) seeded by seed.
func NewMix(weights [numOps]float64, seed uint64) (*Mix, error) {
	m := &Mix{rng: rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d))}
	var sum float64
	for i, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("operation weight of %s must be ≥ 0 (got %g)", Op(i), w)
		}
		sum += w
		m.cum[i] = sum
	}
	if sum <= 0 {
		return nil, fmt.Errorf("[operations] weights are all zero: give at least one of store_weight, recall_weight, embedding_search_weight, pattern_completion_weight a positive value")
	}
	for i := range m.cum {
		m.cum[i] /= sum
	}
	return m, nil
}

// Weights returns the scenario's operation weights in Op order.
func Weights(o scenario.Operations) [numOps]float64 {
	return [numOps]float64{o.Store, o.Recall, o.Search, o.PatternCompletion}
}

// Pick returns the next operation.
func (m *Mix) Pick() Op {
	u := m.rng.Float64()
	for i, c := range m.cum {
		if u < c {
			return Op(i)
		}
	}
	// u ≥ the last positive cumulative weight only through rounding.
	for i := numOps - 1; i > 0; i-- {
		if m.cum[i] > m.cum[i-1] {
			return Op(i)
		}
	}
	return 0
}
