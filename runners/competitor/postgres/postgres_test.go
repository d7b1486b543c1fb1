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

// TestCompetitivePostgresPGVector runs every operation against a real
// PostgreSQL cluster with pgvector: the embeddings are stored as vector,
// the searches use <#>, and the document says so. It skips where CREATE
// EXTENSION vector fails (Debian 12 does not package pgvector for
// PostgreSQL 15; it builds from source against postgresql-server-dev-15).
func TestCompetitivePostgresPGVector(t *testing.T) {
	url := competitortest.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version string
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector"); err != nil {
		t.Skipf("pgvector is not installed in this PostgreSQL (CREATE EXTENSION vector: %v): the plain-SQL path is tested alone", err)
	}
	if err := conn.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'vector'").Scan(&version); err != nil {
		t.Fatal(err)
	}
	const nodes = 200
	sc := competitortest.Scenario(t, competitortest.Weights{Store: 0.25, Recall: 0.25, Search: 0.25, Completion: 0.25}, nodes, 40)
	a := &Adapter{URL: url}
	doc, err := competitortest.Run(t, a, url, sc)
	if err != nil {
		t.Fatal(err)
	}
	c := doc.Run.Competitor
	if c == nil || c.Name != Name || c.Method != MethodPGVector {
		t.Fatalf("competitor recorded as %+v, want method %q", c, MethodPGVector)
	}
	for _, op := range []string{result.OpRecall, result.OpSearch} {
		if !strings.Contains(c.Operations[op], "pgvector's <#>") {
			t.Errorf("%s mapped as %q, want pgvector's <#>", op, c.Operations[op])
		}
	}
	for _, op := range []string{result.OpStore, result.OpRecall, result.OpSearch, result.OpPatternCompletion} {
		st, ok := doc.PerOperationStats[op]
		if !ok || st.Count == 0 || st.ErrorCount != 0 {
			t.Errorf("%s: %+v", op, st)
		}
	}
	// The embeddings are pgvector's vectors, preloaded and stored alike,
	// and <#> finds a node's own embedding first.
	var typ string
	var n, best int64
	if err := conn.QueryRow(ctx, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'm18_nodes'::regclass AND attname = 'embedding'").Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM m18_nodes WHERE vector_dims(embedding) = $1", sc.Data.EmbeddingDim).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT id FROM m18_nodes ORDER BY embedding <#> (SELECT embedding FROM m18_nodes WHERE id = 17) LIMIT 1").Scan(&best); err != nil {
		t.Fatal(err)
	}
	t.Logf("pgvector %s: embedding column %s, %d nodes of %d dimensions", version, typ, n, sc.Data.EmbeddingDim)
	if !strings.HasPrefix(typ, "vector") || n < nodes || best != 17 {
		t.Fatalf("embedding column %s, %d nodes of %d dimensions, nearest to node 17 is %d", typ, n, sc.Data.EmbeddingDim, best)
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
