// Package competitor holds what every competitor adapter shares: the
// capability check (which scenario operations an adapter can express, and
// the refusal of a scenario sending any other), the graph every adapter
// stores beside the vectors, and the query parameters they all use, so
// that Engram and each competitor answer the same questions.
//
// The adapters live in the packages below it (postgres, weaviate, qdrant,
// neo4j); each implements load.Adapter. See runners/README.md for what
// each maps and the limits of each mapping.
package competitor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/result"
)

// The parameters of the reads, the same as Engram's loadtest uses.
const (
	// RecallThreshold is the least cosine similarity a recall returns
	// (Engram's recall threshold default, 0.5).
	RecallThreshold = 0.5
	// RecallLimit is how many nodes a recall returns at most.
	RecallLimit = 10
	// SearchLimit is how many nodes an embedding search returns.
	SearchLimit = 10
	// Degree is how many edges each node has to earlier-stored nodes.
	Degree = 4
	// TraversalDepth and TraversalLimit bound a traversal: every node
	// within TraversalDepth hops of the start, at most TraversalLimit.
	TraversalDepth = 2
	TraversalLimit = 50
)

// Mapping is what an adapter runs for each operation it can express; an
// operation missing from it cannot be expressed.
type Mapping map[client.Op]string

// ErrUnsupported is wrapped by the error of a scenario an adapter cannot
// run (load.ErrUnsupported).
var ErrUnsupported = load.ErrUnsupported

// weightKeys are the scenario keys of the operations' weights.
var weightKeys = [client.NumOps]string{"store_weight", "recall_weight", "embedding_search_weight", "pattern_completion_weight"}

// Describe returns the document's record of a run of ops against the
// named competitor, or an error naming every operation of ops the mapping
// lacks: a scenario is refused, never reweighted.
func (m Mapping) Describe(name, version, method string, ops []client.Op) (*result.Competitor, error) {
	if err := m.Check(name, ops); err != nil {
		return nil, err
	}
	c := &result.Competitor{Name: name, Version: version, Method: method, Operations: map[string]string{}}
	for _, op := range ops {
		c.Operations[op.String()] = m[op]
	}
	return c, nil
}

// Check returns an error naming every operation of ops the mapping lacks;
// adapters call it before they connect, so that a scenario is refused
// without a server.
func (m Mapping) Check(name string, ops []client.Op) error {
	var missing, keys []string
	for _, op := range ops {
		if _, ok := m[op]; !ok {
			missing = append(missing, op.String())
			keys = append(keys, weightKeys[op]+" = 0")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s cannot express %s, which the scenario sends (it expresses %s); run a scenario with %s against %s",
			ErrUnsupported, name, strings.Join(missing, ", "), m.names(), strings.Join(keys, " and "), name)
	}
	return nil
}

func (m Mapping) names() string {
	var ops []client.Op
	for op := range m {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	var out []string
	for _, op := range ops {
		out = append(out, op.String())
	}
	return strings.Join(out, ", ")
}

// Neighbors appends to dst the nodes node i links to: Degree nodes among
// 0…min(i, nodes)-1 (the nodes stored before it, of the preload), chosen
// by a hash of i, so that every adapter stores the same graph. Node 0 has
// none.
func Neighbors(dst []uint64, i, nodes uint64) []uint64 {
	n := min(i, nodes)
	if n == 0 {
		return dst
	}
	for k := uint64(0); k < Degree; k++ {
		dst = append(dst, mix(i*Degree+k)%n)
	}
	return dst
}

// mix is SplitMix64's finaliser: a fixed, well-spread hash (maphash is
// seeded per process and would give every run another graph).
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// StoreID is the node a Store of sequence number seq writes: after the
// preloaded nodes, never one of them (as Engram's workload).
func StoreID(nodes, seq uint64) uint64 { return nodes + seq }
