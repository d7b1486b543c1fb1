package neo4j

import (
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/runners/competitor"
	"github.com/engram/m18-gate/runners/result"
)

// TestCompetitiveNeo4jStandIn runs every operation against the stand-in
// and checks the document, the graph it holds and the statements sent.
func TestCompetitiveNeo4jStandIn(t *testing.T) {
	n, u := newStandIn(t, "neo4j", "secret")
	const nodes = 300
	sc := competitortest.Scenario(t, competitortest.Weights{Store: 0.1, Recall: 0.4, Search: 0.2, Completion: 0.3}, nodes, 100)
	doc, err := competitortest.Run(t, &Adapter{URL: u, User: "neo4j", Password: "secret"}, u, sc)
	if err != nil {
		t.Fatal(err)
	}
	c := doc.Run.Competitor
	if c == nil || c.Name != Name || c.Version != "5.26.0 community" || len(c.Operations) != 4 {
		t.Fatalf("competitor %+v", c)
	}
	for _, op := range []string{result.OpStore, result.OpRecall, result.OpSearch, result.OpPatternCompletion} {
		if st := doc.PerOperationStats[op]; st.Count == 0 || st.ErrorCount != 0 {
			t.Errorf("%s: %+v", op, st)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	edges := 0
	for _, l := range n.links {
		edges += len(l)
	}
	if len(n.nodes) < nodes || edges != (len(n.nodes)-1)*competitor.Degree {
		t.Fatalf("%d nodes, %d edges", len(n.nodes), edges)
	}
	if n.statements[stmtTraverse] < int(doc.PerOperationStats[result.OpPatternCompletion].Count) {
		t.Fatalf("traversals sent: %d", n.statements[stmtTraverse])
	}
}

// TestCompetitiveNeo4jCypherErrorRefused: a statement the server rejects
// inside a 200 answer (a Neo4j without vector indexes) stops the run
// before the load, naming the error.
func TestCompetitiveNeo4jCypherErrorRefused(t *testing.T) {
	n, u := newStandIn(t, "", "")
	n.reject = stmtSearch
	sc := competitortest.Scenario(t, competitortest.Weights{Search: 1}, 20, 10)
	_, err := competitortest.Run(t, &Adapter{URL: u}, u, sc)
	if err == nil || !strings.Contains(err.Error(), "probe of Search") || !strings.Contains(err.Error(), "Neo.ClientError.Statement.SyntaxError") {
		t.Fatalf("err = %v", err)
	}
}

// TestCompetitiveNeo4jUnauthorized: a wrong password is a clear error.
func TestCompetitiveNeo4jUnauthorized(t *testing.T) {
	_, u := newStandIn(t, "neo4j", "secret")
	sc := competitortest.Scenario(t, competitortest.Weights{Search: 1}, 20, 10)
	_, err := competitortest.Run(t, &Adapter{URL: u, User: "neo4j", Password: "wrong"}, u, sc)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v", err)
	}
}
