package weaviate

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/runners/competitor"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/result"
)

// TestCompetitiveWeaviate runs stores and nearVector searches against a
// real weaviate-server and checks the document and what the server holds.
func TestCompetitiveWeaviate(t *testing.T) {
	u := competitortest.Weaviate(t)
	const nodes = 300
	sc := competitortest.Scenario(t, competitortest.Weights{Store: 0.2, Recall: 0.4, Search: 0.4}, nodes, 50)
	doc, err := competitortest.Run(t, &Adapter{URL: u}, u, sc)
	if err != nil {
		t.Fatal(err)
	}
	c := doc.Run.Competitor
	if c == nil || c.Name != Name || !strings.HasPrefix(c.Version, "1.") || doc.Run.Target != Name || len(c.Operations) != 3 {
		t.Fatalf("competitor %+v", c)
	}
	for _, op := range []string{result.OpStore, result.OpRecall, result.OpSearch} {
		if st := doc.PerOperationStats[op]; st.Count == 0 || st.ErrorCount != 0 {
			t.Errorf("%s: %+v", op, st)
		}
	}
	// Every measured store is an object now; nearVector with node 5's own
	// vector finds node 5 first.
	var agg struct {
		Data struct {
			Aggregate map[string][]struct {
				Meta struct {
					Count int `json:"count"`
				} `json:"meta"`
			} `json:"Aggregate"`
		} `json:"data"`
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	ctx := context.Background()
	if err := competitor.Call(ctx, hc, http.MethodPost, u+"/v1/graphql", nil, []byte(`{"query":"{ Aggregate { M18Node { meta { count } } } }"}`), &agg); err != nil {
		t.Fatal(err)
	}
	stores := int(doc.PerOperationStats[result.OpStore].Count)
	if got := agg.Data.Aggregate["M18Node"]; len(got) != 1 || got[0].Meta.Count < nodes+stores {
		t.Fatalf("count %+v after %d preloaded and %d stores", got, nodes, stores)
	}

	// A second run with the preload skipped stores the same nodes again:
	// replaced, not refused.
	ctx2, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	doc, err = load.Run(ctx2, load.Config{Scenario: sc, Endpoint: u, Adapter: &Adapter{URL: u}, Seed: 7, Timeout: 5 * time.Second,
		PreloadedNodes: nodes, Limits: load.Limits{LateAfter: 100 * time.Millisecond, DropAfter: 2 * time.Second, MaxLateFraction: 0.25, MaxDroppedFraction: 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	if st := doc.PerOperationStats[result.OpStore]; st.Count == 0 || st.ErrorCount != 0 {
		t.Fatalf("stores of a second run: %+v", st)
	}
}

// TestCompetitiveWeaviateRefusesCompletion needs no server: the mapping
// has no traversal.
func TestCompetitiveWeaviateRefusesCompletion(t *testing.T) {
	_, err := mapping.Describe(Name, "1.35.2", Method, []client.Op{client.Search, client.PatternCompletion})
	if !errors.Is(err, competitor.ErrUnsupported) || !strings.Contains(err.Error(), "weaviate cannot express PatternCompletion") {
		t.Fatalf("err = %v", err)
	}
}

// TestAdapterHeader: the API key goes with every request, as weaviate takes it.
func TestAdapterHeader(t *testing.T) {
	if h := (&Adapter{}).header(); len(h) != 0 {
		t.Errorf("no key: header %v", h)
	}
	if got := (&Adapter{APIKey: "k"}).header(); got.Get("Authorization") != "Bearer k" {
		t.Errorf("key k: header %v", got)
	}
}
