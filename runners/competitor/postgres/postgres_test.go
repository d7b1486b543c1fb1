package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/runners/competitor"
	"github.com/engram/m18-gate/runners/result"
)

// TestCompetitivePostgres runs every operation against a real PostgreSQL
// cluster in plain SQL and checks what the document records and what the
// database holds afterwards.
func TestCompetitivePostgres(t *testing.T) {
	url := competitortest.Postgres(t)
	const nodes = 200
	sc := competitortest.Scenario(t, competitortest.Weights{Store: 0.25, Recall: 0.25, Search: 0.25, Completion: 0.25}, nodes, 40)
	a := &Adapter{URL: url, NoPGVector: true}
	doc, err := competitortest.Run(t, a, url, sc)
	if err != nil {
		t.Fatal(err)
	}
	c := doc.Run.Competitor
	if c == nil || c.Name != Name || doc.Run.Target != Name || !strings.HasPrefix(c.Version, "1") || c.Method != MethodPlain {
		t.Fatalf("competitor recorded as %+v, target %q", c, doc.Run.Target)
	}
	if len(c.Operations) != 4 || !strings.Contains(c.Operations[result.OpPatternCompletion], "recursive CTE") {
		t.Fatalf("operations mapping %v", c.Operations)
	}
	if doc.Run.SeriesName() != sc.Ref+"@postgres" {
		t.Fatalf("series name %q", doc.Run.SeriesName())
	}
	for _, op := range []string{result.OpStore, result.OpRecall, result.OpSearch, result.OpPatternCompletion} {
		st, ok := doc.PerOperationStats[op]
		if !ok || st.Count == 0 || st.ErrorCount != 0 {
			t.Errorf("%s: %+v", op, st)
		}
	}
	if doc.Preload == nil || doc.Preload.Nodes != nodes {
		t.Fatalf("preload %+v", doc.Preload)
	}

	// The stores landed, with their edges; the graph is the shared one.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n, e int
	if err := conn.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM m18_nodes), (SELECT count(*) FROM m18_edges)").Scan(&n, &e); err != nil {
		t.Fatal(err)
	}
	stores := int(doc.PerOperationStats[result.OpStore].Count)
	if n < nodes+stores-stores/10 || e != (n-1)*competitor.Degree {
		t.Fatalf("%d nodes, %d edges after %d preloaded and about %d stores", n, e, nodes, stores)
	}
	// The exact search finds a stored node's own embedding first.
	var best int64
	if err := conn.QueryRow(context.Background(),
		"SELECT n.id FROM m18_nodes n ORDER BY (SELECT sum(a*b) FROM unnest(n.embedding, (SELECT embedding FROM m18_nodes WHERE id = 17)) AS v(a, b)) DESC LIMIT 1").Scan(&best); err != nil {
		t.Fatal(err)
	}
	if best != 17 {
		t.Fatalf("nearest to node 17's own embedding is %d", best)
	}
}

// TestCompetitivePostgresRefusesUnreachable: a wrong port is an error that
// names where it looked.
func TestCompetitivePostgresRefusesUnreachable(t *testing.T) {
	port := competitortest.FreePort(t)
	a := &Adapter{URL: "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?connect_timeout=2"}
	sc := competitortest.Scenario(t, competitortest.Weights{Recall: 1}, 10, 10)
	_, err := competitortest.Run(t, a, "", sc)
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("err = %v", err)
	}
	if errors.Is(err, competitor.ErrUnsupported) {
		t.Fatal("unreachable reported as unsupported")
	}
}
