package scenario

import (
	"path/filepath"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
)

// TestEngramScenarios loads Engram's own files and checks that every value
// comes out as Engram's loadtest reads it.
func TestEngramScenarios(t *testing.T) {
	dir := testenv.EngramScenarios(t)
	type want struct {
		name              string
		rate              float64
		ops               Operations // before normalisation: Engram's values sum to 1
		nodes             int
		clusters          int
		stdDev            float64
		p99, thr, errRate float64
	}
	for file, w := range map[string]want{
		"hybrid_production_100k.toml": {"Hybrid Production 100K Benchmark", 1000, Operations{Store: 0.33, Recall: 0.33, Search: 0.34}, 100_000, 50, 0.15, 10, 900, 0.01},
		"m17_baseline.toml":           {"M17 Baseline", 1000, Operations{Store: 0.5, Recall: 0.425, Search: 0.075}, 1000, 10, 0.1, 50, 800, 0.01},
		"milvus_ann_10m_768d.toml":    {"Milvus ANN 10M Benchmark (Stretch Goal)", 500, Operations{Search: 1}, 10_000_000, 1000, 0.15, 100, 400, 0},
		"neo4j_traversal_100k.toml":   {"Neo4j Traversal 100K Benchmark", 500, Operations{Recall: 0.8, Search: 0.2}, 100_000, 1000, 0.1, 15, 400, 0.01},
		"qdrant_ann_1m_768d.toml":     {"Qdrant ANN 1M Benchmark", 1000, Operations{Search: 1}, 1_000_000, 100, 0.15, 20, 800, 0.005},
	} {
		t.Run(file, func(t *testing.T) {
			sc, err := Load(filepath.Join(dir, file))
			if err != nil {
				t.Fatalf("Engram's file does not load:\n%v", err)
			}
			if sc.Name != w.name || sc.Description == "" {
				t.Errorf("name %q description %q", sc.Name, sc.Description)
			}
			if sc.Duration.TotalSeconds != 60 || sc.Arrival.Pattern != "constant" || sc.Arrival.Rate != w.rate {
				t.Errorf("duration %+v arrival %+v", sc.Duration, sc.Arrival)
			}
			if !closeOps(sc.Operations, w.ops) {
				t.Errorf("operations %+v, want %+v", sc.Operations, w.ops)
			}
			d := sc.Data
			if d.NumNodes != w.nodes || d.EmbeddingDim != 768 || d.MemorySpaces != 1 {
				t.Errorf("data %+v", d)
			}
			if d.Distribution.Type != "clustered" || d.Distribution.NumClusters != w.clusters || d.Distribution.StdDev != w.stdDev {
				t.Errorf("distribution %+v, want clustered %d × %v", d.Distribution, w.clusters, w.stdDev)
			}
			v := sc.Validation
			if v.ExpectedP99LatencyMs == nil || *v.ExpectedP99LatencyMs != w.p99 ||
				v.ExpectedThroughputOpsSec == nil || *v.ExpectedThroughputOpsSec != w.thr ||
				v.MaxErrorRate == nil || *v.MaxErrorRate != w.errRate {
				t.Errorf("validation p99 %v thr %v err %v", v.ExpectedP99LatencyMs, v.ExpectedThroughputOpsSec, v.MaxErrorRate)
			}
			if sc.Chaos.Enabled {
				t.Error("chaos enabled")
			}
		})
	}
}
