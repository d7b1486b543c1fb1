package competitortest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
)

// Weights are a scenario's operation weights.
type Weights struct{ Store, Recall, Search, Completion float64 }

// Scenario returns a small scenario of the given weights: rate operations
// a second, constant, over nodes preloaded 768-d clustered nodes.
func Scenario(t testing.TB, w Weights, nodes int, rate float64) *scenario.Scenario {
	t.Helper()
	src := fmt.Sprintf(`name = "competitive test"
[duration]
total_seconds = 2
warmup_seconds = 0.5
[arrival]
pattern = "constant"
rate = %g
[operations]
store_weight = %g
recall_weight = %g
embedding_search_weight = %g
pattern_completion_weight = %g
[data]
num_nodes = %d
embedding_dim = 768
memory_spaces = 1
embedding_distribution = { type = "clustered", num_clusters = 10, std_dev = 0.15 }
`, rate, w.Store, w.Recall, w.Search, w.Completion, nodes)
	sc, err := scenario.Parse("competitive-test.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// Run runs sc against the adapter through load.Run (one repetition) and
// returns the document; the adapter is closed when the test ends. The
// generator's schedule limits are loose: these tests check what is sent
// and recorded on a shared machine, not the generator.
func Run(t testing.TB, a load.Adapter, endpoint string, sc *scenario.Scenario) (*result.Document, error) {
	t.Helper()
	t.Cleanup(a.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return load.Run(ctx, load.Config{Scenario: sc, Endpoint: endpoint, Adapter: a, Seed: 7, Timeout: 5 * time.Second, Limits: looseLimits})
}

var looseLimits = load.Limits{LateAfter: 100 * time.Millisecond, DropAfter: 2 * time.Second, MaxLateFraction: 0.25, MaxDroppedFraction: 0.05}
