package qdrant

import (
	"errors"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/runners/competitor"
	"github.com/engram/m18-gate/runners/result"
)

// TestCompetitiveQdrantStandIn runs stores and searches against the
// stand-in and checks the document and what the stand-in holds.
func TestCompetitiveQdrantStandIn(t *testing.T) {
	q, u := newStandIn(t)
	const nodes = 300
	sc := competitortest.Scenario(t, competitortest.Weights{Store: 0.2, Recall: 0.4, Search: 0.4}, nodes, 100)
	doc, err := competitortest.Run(t, &Adapter{URL: u}, u, sc)
	if err != nil {
		t.Fatal(err)
	}
	c := doc.Run.Competitor
	if c == nil || c.Name != Name || c.Version != "1.12.4" || doc.Run.Target != Name || len(c.Operations) != 3 {
		t.Fatalf("competitor %+v", c)
	}
	for _, op := range []string{result.OpStore, result.OpRecall, result.OpSearch} {
		if st := doc.PerOperationStats[op]; st.Count == 0 || st.ErrorCount != 0 {
			t.Errorf("%s: %+v", op, st)
		}
	}
	stores := int(doc.PerOperationStats[result.OpStore].Count)
	q.mu.Lock()
	defer q.mu.Unlock()
	// The preload, the probe's store and most of the run's stores (the
	// warm-up stores too): at least the preload and the measured stores.
	if len(q.points) < nodes+stores {
		t.Fatalf("stand-in holds %d points after %d preloaded and %d stores", len(q.points), nodes, stores)
	}
	if q.requests["POST /collections/m18/points/search"] < int(doc.PerOperationStats[result.OpSearch].Count) {
		t.Fatalf("requests %v", q.requests)
	}
}

// TestCompetitiveQdrantRefusesCompletion: Qdrant has no graph, so a
// scenario with pattern completion is refused before anything is sent.
func TestCompetitiveQdrantRefusesCompletion(t *testing.T) {
	q, u := newStandIn(t)
	sc := competitortest.Scenario(t, competitortest.Weights{Recall: 0.5, Completion: 0.5}, 10, 10)
	_, err := competitortest.Run(t, &Adapter{URL: u}, u, sc)
	if !errors.Is(err, competitor.ErrUnsupported) || !strings.Contains(err.Error(), "qdrant cannot express PatternCompletion, which the scenario sends") || !strings.Contains(err.Error(), "pattern_completion_weight = 0") {
		t.Fatalf("err = %v", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.requests) != 0 {
		t.Fatalf("requests sent before the refusal: %v", q.requests)
	}
}

// TestAdapterHeader: the API key goes with every request, as qdrant takes it.
func TestAdapterHeader(t *testing.T) {
	if h := (&Adapter{}).header(); len(h) != 0 {
		t.Errorf("no key: header %v", h)
	}
	if got := (&Adapter{APIKey: "k"}).header(); got.Get("api-key") != "k" {
		t.Errorf("key k: header %v", got)
	}
}
