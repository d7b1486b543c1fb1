// Package neo4j is the Neo4j competitor adapter (load.Adapter), over
// Neo4j's HTTP transactional Cypher endpoint (POST /db/{db}/tx/commit):
// nodes labelled M18Node with a vector index on their embedding, LINK
// relationships between them, and traversal queries shaped like the
// competitive/neo4j_traversal_100k scenario's (spreading activation from
// the nearest nodes, and paths of up to two hops).
//
// The endpoint answers 200 also when a statement failed (the answer's
// errors array says so); the run counts HTTP statuses, so Prepare probes
// every statement once and refuses to run when any reports an error.
// The vector index needs Neo4j 5.11 or later.
package neo4j

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/engram/m18-gate/runners/competitor"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/result"
)

// Name is the adapter's name, as --competitor takes it.
const Name = "neo4j"

// Method recorded in the document.
const Method = "HTTP transactional Cypher; vector index (HNSW, approximate, cosine); traversal by variable-length MATCH"

// Index is the vector index's name.
const Index = "m18_embedding"

// minScore is the recall threshold on Neo4j's cosine score, which is
// (1 + cosine) / 2.
const minScore = (1 + competitor.RecallThreshold) / 2

// vecIndex is the statement that creates the vector index of dimension
// dim (written into the statement: index options take literals).
func vecIndex(dim int) string {
	return fmt.Sprintf("CREATE VECTOR INDEX %s IF NOT EXISTS FOR (n:M18Node) ON (n.embedding) "+
		"OPTIONS {indexConfig: {`vector.dimensions`: %d, `vector.similarity_function`: 'cosine'}}", Index, dim)
}

// The statements, by operation.
var (
	stmtStore = "CREATE (n:M18Node {id: $id, space: $space, content: $content, embedding: $embedding}) " +
		"WITH n UNWIND $links AS l MATCH (m:M18Node {id: l}) CREATE (n)-[:LINK]->(m)"
	stmtRecall = "CALL db.index.vector.queryNodes('" + Index + "', $k, $embedding) YIELD node, score WHERE score >= $min " +
		"OPTIONAL MATCH (node)-[:LINK]->(m) RETURN node.id, score, collect(m.id)"
	stmtSearch   = "CALL db.index.vector.queryNodes('" + Index + "', $k, $embedding) YIELD node, score RETURN node.id, score"
	stmtTraverse = fmt.Sprintf("MATCH (s:M18Node {id: $id})-[:LINK*1..%d]->(m) RETURN DISTINCT m.id LIMIT %d", competitor.TraversalDepth, competitor.TraversalLimit)
	// Setup.
	stmtClear     = "MATCH (n:M18Node) DETACH DELETE n"
	stmtDropIndex = "DROP INDEX " + Index + " IF EXISTS"
	stmtIDIndex   = "CREATE INDEX m18_id IF NOT EXISTS FOR (n:M18Node) ON (n.id)"
	stmtAwait     = "CALL db.awaitIndexes(600)"
	stmtLoadNodes = "UNWIND $rows AS r CREATE (:M18Node {id: r.id, space: r.space, content: r.content, embedding: r.embedding})"
	stmtLoadEdges = "UNWIND $edges AS e MATCH (a:M18Node {id: e[0]}), (b:M18Node {id: e[1]}) CREATE (a)-[:LINK]->(b)"
)

// Expresses returns what the adapter runs for each operation it can
// express.
func Expresses() competitor.Mapping { return mapping }

var mapping = competitor.Mapping{
	client.Store:             "CREATE of the node and its LINK relationships (one statement)",
	client.Recall:            fmt.Sprintf("spreading activation: db.index.vector.queryNodes top %d, score ≥ %g, and their LINK neighbours", competitor.RecallLimit, minScore),
	client.Search:            fmt.Sprintf("db.index.vector.queryNodes top %d", competitor.SearchLimit),
	client.PatternCompletion: fmt.Sprintf("MATCH (s {id})-[:LINK*1..%d]->(m) RETURN DISTINCT m.id LIMIT %d", competitor.TraversalDepth, competitor.TraversalLimit),
}

// Adapter runs scenarios against Neo4j (load.Adapter).
type Adapter struct {
	// URL is Neo4j's HTTP base URL (http://127.0.0.1:7474).
	URL string
	// Database is the database (default "neo4j").
	Database string
	// User and Password for basic authentication; none when User is "".
	User, Password string

	base *url.URL
}

func (a *Adapter) header() http.Header {
	h := http.Header{}
	if a.User != "" {
		r := &http.Request{Header: h}
		r.SetBasicAuth(a.User, a.Password)
	}
	return h
}

func (a *Adapter) txPath() string {
	return "/db/" + url.PathEscape(cmp.Or(a.Database, "neo4j")) + "/tx/commit"
}

func (a *Adapter) url(path string) string { return competitor.JoinURL(a.base, path) }

// Describe implements load.Adapter: GET / (the discovery document) gives
// the version.
func (a *Adapter) Describe(ctx context.Context, s load.AdapterSetup) (*result.Competitor, error) {
	var disc struct {
		Version string `json:"neo4j_version"`
		Edition string `json:"neo4j_edition"`
	}
	u, err := competitor.Discover(ctx, Name, mapping, s.Ops, a.URL, "http://127.0.0.1:7474", "/", a.header(), &disc)
	if err != nil {
		return nil, err
	}
	a.base = u
	if disc.Version == "" {
		return nil, fmt.Errorf("neo4j at %s: GET / has no neo4j_version (is it Neo4j's HTTP port, 7474?)", a.URL)
	}
	v := disc.Version
	if disc.Edition != "" {
		v += " " + disc.Edition
	}
	return mapping.Describe(Name, v, Method, s.Ops)
}

// statement is one entry of the endpoint's statements array.
type statement struct {
	Statement  string         `json:"statement"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// txAnswer is the endpoint's answer.
type txAnswer struct {
	Results []struct {
		Columns []string `json:"columns"`
		Data    []struct {
			Row []json.RawMessage `json:"row"`
		} `json:"data"`
	} `json:"results"`
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// run commits statements in one transaction and fails on any Cypher error.
func (a *Adapter) run(ctx context.Context, hc *http.Client, stmts ...statement) (*txAnswer, error) {
	body, err := json.Marshal(map[string]any{"statements": stmts})
	if err != nil {
		return nil, err
	}
	var ans txAnswer
	if err := competitor.Call(ctx, hc, http.MethodPost, a.url(a.txPath()), a.header(), body, &ans); err != nil {
		return nil, err
	}
	if len(ans.Errors) > 0 {
		return nil, fmt.Errorf("%s: %s", ans.Errors[0].Code, ans.Errors[0].Message)
	}
	return &ans, nil
}

// Prepare implements load.Adapter: clears the adapter's nodes, creates
// the indexes, loads nodes (500 a transaction) and edges, and probes
// every operation's statement once the indexes are online.
func (a *Adapter) Prepare(ctx context.Context, s load.AdapterSetup) (*result.Preload, error) {
	hc := &http.Client{Timeout: 10 * time.Minute}
	for _, st := range []statement{{Statement: stmtClear}, {Statement: stmtDropIndex}, {Statement: stmtIDIndex},
		{Statement: vecIndex(s.Dim)}} {
		if _, err := a.run(ctx, hc, st); err != nil {
			return nil, fmt.Errorf("neo4j: %s: %v", st.Statement, err)
		}
	}
	start := time.Now()
	err := competitor.Batches(ctx, s, "neo4j", s.Nodes, 500, func(lo, hi uint64) error {
		rows := make([]map[string]any, 0, hi-lo)
		var edges [][2]uint64
		var nb []uint64
		for i := lo; i < hi; i++ {
			vec := make([]float32, s.Dim)
			s.Data.Embedding(i, vec)
			rows = append(rows, map[string]any{"id": i, "space": s.Data.Space(i), "content": s.Data.Content(i), "embedding": vec})
			nb = competitor.Neighbors(nb[:0], i, s.Nodes)
			for _, d := range nb {
				edges = append(edges, [2]uint64{i, d})
			}
		}
		_, err := a.run(ctx, hc, statement{Statement: stmtLoadNodes, Parameters: map[string]any{"rows": rows}},
			statement{Statement: stmtLoadEdges, Parameters: map[string]any{"edges": edges}})
		return err
	})
	if err != nil {
		return nil, err
	}
	// The indexes fill in the background: wait until they are online, or
	// the first searches would fail or scan.
	if _, err := a.run(ctx, hc, statement{Statement: stmtAwait}); err != nil {
		return nil, fmt.Errorf("neo4j: %s: %v", stmtAwait, err)
	}
	el := time.Since(start)
	check := func(op client.Op, answer []byte) error {
		var ans txAnswer
		if err := json.Unmarshal(answer, &ans); err != nil {
			return err
		}
		if len(ans.Errors) > 0 {
			return fmt.Errorf("%s: %s", ans.Errors[0].Code, ans.Errors[0].Message)
		}
		return nil
	}
	if err := competitor.Probe(ctx, a.base, s, a.build(s), a.header(), check); err != nil {
		return nil, fmt.Errorf("neo4j: %v", err)
	}
	return competitor.Preloaded(s.Nodes, el), nil
}

func (a *Adapter) build(s load.AdapterSetup) competitor.Build {
	path := a.txPath()
	return func(op client.Op, seq uint64, vec []float32, b []byte) (string, string, []byte) {
		b = append(b, `{"statements":[{"statement":`...)
		switch op {
		case client.Store:
			i := competitor.StoreID(s.Nodes, seq)
			s.Data.Embedding(i, vec)
			var links [competitor.Degree]uint64
			b = strconv.AppendQuote(b, stmtStore)
			b = append(b, `,"parameters":{"id":`...)
			b = strconv.AppendUint(b, i, 10)
			b = append(b, `,"space":`...)
			b = strconv.AppendQuote(b, s.Data.Space(i))
			b = append(b, `,"content":`...)
			b = strconv.AppendQuote(b, s.Data.Content(i))
			b = append(b, `,"embedding":`...)
			b = competitor.AppendVector(b, vec)
			b = append(b, `,"links":`...)
			b = competitor.AppendIDs(b, competitor.Neighbors(links[:0], i, s.Nodes))
		case client.Recall, client.Search:
			s.Data.QueryEmbedding(seq, vec)
			if op == client.Recall {
				b = strconv.AppendQuote(b, stmtRecall)
				b = fmt.Appendf(b, `,"parameters":{"k":%d,"min":%g`, competitor.RecallLimit, minScore)
			} else {
				b = strconv.AppendQuote(b, stmtSearch)
				b = fmt.Appendf(b, `,"parameters":{"k":%d`, competitor.SearchLimit)
			}
			b = append(b, `,"embedding":`...)
			b = competitor.AppendVector(b, vec)
		case client.PatternCompletion:
			b = strconv.AppendQuote(b, stmtTraverse)
			b = append(b, `,"parameters":{"id":`...)
			b = strconv.AppendUint(b, s.Data.Node(seq), 10)
		}
		return http.MethodPost, path, append(b, `}}]}`...)
	}
}

// Client implements load.Adapter.
func (a *Adapter) Client(s load.AdapterSetup) (client.Client, error) {
	return competitor.HTTPClient(a.base, s, a.build(s), a.header()), nil
}

// Close implements load.Adapter.
func (a *Adapter) Close() {}

var _ load.Adapter = (*Adapter)(nil)
