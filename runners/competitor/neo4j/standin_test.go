package neo4j

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// standIn is a Neo4j stand-in built from the examples of Neo4j's HTTP API
// documentation: the discovery document at GET /, and POST
// /db/{db}/tx/commit with a statements array, answered with results
// (columns, data rows) and an errors array; a failed statement is a 200
// whose errors array holds a Neo.ClientError code, as the documentation
// shows. It cannot parse Cypher: it knows the adapter's statements by
// their text and carries them out on an in-memory graph, and answers any
// other statement with a syntax error. Basic authentication is required
// when user is set (401 otherwise, as Neo4j answers).
type standIn struct {
	user, password string
	// reject is a statement answered with a syntax error, as a server
	// too old for it would.
	reject string

	mu          sync.Mutex
	vectorIndex bool
	nodes       map[uint64][]float32
	links       map[uint64][]uint64
	statements  map[string]int
}

func newStandIn(t *testing.T, user, password string) (*standIn, string) {
	n := &standIn{user: user, password: password, statements: map[string]int{}}
	srv := httptest.NewServer(n)
	t.Cleanup(srv.Close)
	return n, srv.URL
}

type row struct {
	Row  []any `json:"row"`
	Meta []any `json:"meta"`
}

type res struct {
	Columns []string `json:"columns"`
	Data    []row    `json:"data"`
}

type neoErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (n *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != n.user || p != n.password {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"errors": []neoErr{{"Neo.ClientError.Security.Unauthorized", "No authentication header supplied."}}})
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodGet && r.URL.Path == "/" {
		json.NewEncoder(w).Encode(map[string]string{
			"bolt_routing": "neo4j://localhost:7687", "transaction": "http://localhost:7474/db/{databaseName}/tx",
			"bolt_direct": "bolt://localhost:7687", "neo4j_version": "5.26.0", "neo4j_edition": "community"})
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/db/neo4j/tx/commit" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	var body struct {
		Statements []struct {
			Statement  string                     `json:"statement"`
			Parameters map[string]json.RawMessage `json:"parameters"`
		} `json:"statements"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		json.NewEncoder(w).Encode(map[string]any{"results": []res{}, "errors": []neoErr{{"Neo.ClientError.Request.InvalidFormat", err.Error()}}})
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]any{"results": []res{}, "errors": []neoErr{}}
	var results []res
	for _, st := range body.Statements {
		n.statements[st.Statement]++
		rs, err := n.exec(st.Statement, st.Parameters)
		if err != nil {
			out["errors"] = []neoErr{*err}
			break // the transaction is rolled back: later statements are not run
		}
		results = append(results, rs)
	}
	if results != nil {
		out["results"] = results
	}
	json.NewEncoder(w).Encode(out)
}

func (n *standIn) exec(stmt string, p map[string]json.RawMessage) (res, *neoErr) {
	get := func(k string, v any) *neoErr {
		if err := json.Unmarshal(p[k], v); err != nil {
			return &neoErr{"Neo.ClientError.Statement.ParameterMissing", "Expected parameter(s): " + k}
		}
		return nil
	}
	if stmt == n.reject {
		return res{}, &neoErr{"Neo.ClientError.Statement.SyntaxError", "There is no procedure with the name `db.index.vector.queryNodes` registered for this database instance."}
	}
	if strings.HasPrefix(stmt, "CREATE VECTOR INDEX") {
		if stmt != vecIndex(768) {
			return res{}, &neoErr{"Neo.ClientError.Statement.SyntaxError", "stand-in: unexpected vector index statement"}
		}
		n.vectorIndex = true
		return res{Columns: []string{}, Data: []row{}}, nil
	}
	switch stmt {
	case stmtAwait:
		return res{Columns: []string{}, Data: []row{}}, nil
	case stmtClear, stmtDropIndex, stmtIDIndex:
		if stmt == stmtClear {
			n.nodes, n.links = map[uint64][]float32{}, map[uint64][]uint64{}
		}
		if stmt == stmtDropIndex {
			n.vectorIndex = false
		}
		return res{Columns: []string{}, Data: []row{}}, nil
	case stmtLoadNodes:
		var rows []struct {
			ID        uint64    `json:"id"`
			Space     string    `json:"space"`
			Content   string    `json:"content"`
			Embedding []float32 `json:"embedding"`
		}
		if e := get("rows", &rows); e != nil {
			return res{}, e
		}
		for _, r := range rows {
			n.nodes[r.ID] = r.Embedding
		}
		return res{Columns: []string{}, Data: []row{}}, nil
	case stmtLoadEdges:
		var edges [][2]uint64
		if e := get("edges", &edges); e != nil {
			return res{}, e
		}
		for _, e := range edges {
			n.links[e[0]] = append(n.links[e[0]], e[1])
		}
		return res{Columns: []string{}, Data: []row{}}, nil
	case stmtStore:
		var id uint64
		var emb []float32
		var links []uint64
		var space, content string
		for k, v := range map[string]any{"id": &id, "embedding": &emb, "links": &links, "space": &space, "content": &content} {
			if e := get(k, v); e != nil {
				return res{}, e
			}
		}
		n.nodes[id] = emb
		for _, l := range links {
			if _, ok := n.nodes[l]; ok {
				n.links[id] = append(n.links[id], l)
			}
		}
		return res{Columns: []string{}, Data: []row{}}, nil
	case stmtRecall, stmtSearch:
		if !n.vectorIndex {
			return res{}, &neoErr{"Neo.ClientError.Procedure.ProcedureCallFailed", "There is no such vector schema index: m18_embedding"}
		}
		var k int
		var emb []float32
		if e := get("k", &k); e != nil {
			return res{}, e
		}
		if e := get("embedding", &emb); e != nil {
			return res{}, e
		}
		minScore := math.Inf(-1)
		if stmt == stmtRecall {
			if e := get("min", &minScore); e != nil {
				return res{}, e
			}
		}
		type hit struct {
			id    uint64
			score float64
		}
		var hits []hit
		for id, v := range n.nodes {
			hits = append(hits, hit{id, (1 + cosine(emb, v)) / 2})
		}
		slices.SortFunc(hits, func(a, b hit) int {
			if a.score > b.score {
				return -1
			}
			if a.score < b.score {
				return 1
			}
			return int(a.id) - int(b.id)
		})
		out := res{Columns: []string{"node.id", "score"}, Data: []row{}}
		if stmt == stmtRecall {
			out.Columns = append(out.Columns, "collect(m.id)")
		}
		for _, h := range hits[:min(k, len(hits))] {
			if h.score < minScore {
				continue
			}
			r := row{Row: []any{h.id, h.score}, Meta: []any{nil, nil}}
			if stmt == stmtRecall {
				r.Row = append(r.Row, n.links[h.id])
				r.Meta = append(r.Meta, nil)
			}
			out.Data = append(out.Data, r)
		}
		return out, nil
	case stmtTraverse:
		var id uint64
		if e := get("id", &id); e != nil {
			return res{}, e
		}
		seen := map[uint64]bool{}
		frontier := []uint64{id}
		out := res{Columns: []string{"m.id"}, Data: []row{}}
		for depth := 0; depth < 2; depth++ {
			var next []uint64
			for _, f := range frontier {
				for _, m := range n.links[f] {
					if !seen[m] && len(out.Data) < 50 {
						seen[m] = true
						out.Data = append(out.Data, row{Row: []any{m}, Meta: []any{nil}})
						next = append(next, m)
					}
				}
			}
			frontier = next
		}
		return out, nil
	}
	return res{}, &neoErr{"Neo.ClientError.Statement.SyntaxError", "stand-in: unknown statement"}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
