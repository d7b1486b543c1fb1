package load

import (
	"context"
	"errors"
	"time"

	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/result"
)

// Adapter runs a scenario against a system other than Engram (a
// competitor): Run then prepares the system and sends through the
// adapter's client instead of Engram's HTTP API, with the same dataset,
// seeds, arrival schedule, engine and result document. Packages under
// runners/competitor implement it.
type Adapter interface {
	// Describe connects, asks the system its version and returns what
	// the document records (name, version, method, operation mapping for
	// the operations with a positive weight). It fails with a clear
	// error when an operation the scenario sends cannot be expressed:
	// a scenario is refused, never silently reweighted.
	Describe(ctx context.Context, s AdapterSetup) (*result.Competitor, error)
	// Prepare creates the system's schema (a table, a collection, an
	// index) afresh and stores nodes 0…s.Nodes-1 of the dataset, as the
	// preload does for Engram.
	Prepare(ctx context.Context, s AdapterSetup) (*result.Preload, error)
	// Client returns the client the engine sends the phases through.
	Client(s AdapterSetup) (client.Client, error)
	// Close releases the adapter's connections.
	Close()
}

// ErrUnsupported is wrapped by an Adapter's error for a scenario with an
// operation the competitor cannot express; Run wraps it in ErrConfig.
var ErrUnsupported = errors.New("operation not expressible")

// AdapterSetup is what an Adapter needs to know of the run.
type AdapterSetup struct {
	Data Data
	// Dim is the embedding dimension, Nodes the preloaded nodes.
	Dim   int
	Nodes uint64
	// Ops are the scenario's operations with a positive weight.
	Ops []Op
	// MaxInFlight and Timeout as the run's.
	MaxInFlight int
	Timeout     time.Duration
	// Progress receives progress lines; nil = none.
	Progress func(format string, args ...any)
}

// ops returns the operations with a positive weight.
func (p *plan) ops() []Op {
	var out []Op
	for i, w := range p.weights {
		if w > 0 {
			out = append(out, Op(i))
		}
	}
	return out
}
