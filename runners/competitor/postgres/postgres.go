// Package postgres is the PostgreSQL competitor adapter (load.Adapter):
// nodes in a table, their embeddings as float4[] (or pgvector's vector
// when CREATE EXTENSION vector works), edges in a second table, queried
// through pgx's connection pool.
//
// Without pgvector every search is exact and in plain SQL (the dot
// product of normalised embeddings by unnest, ordered, limited); traversal
// is a recursive CTE over the edge table in both cases. The document's
// competitor.method says which ("plain SQL, exact" or "pgvector, exact").
package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/engram/m18-gate/runners/competitor"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/result"
)

// Name is the adapter's name, as --competitor takes it.
const Name = "postgres"

// Methods recorded in the document.
const (
	MethodPlain    = "plain SQL, exact: dot product by unnest over float4[]; traversal by recursive CTE"
	MethodPGVector = "pgvector, exact (no index): <#> over vector; traversal by recursive CTE"
)

// Adapter runs scenarios against PostgreSQL (load.Adapter).
type Adapter struct {
	// URL is a PostgreSQL connection string
	// (postgres://user@127.0.0.1:5432/db).
	URL string
	// Table prefixes the adapter's tables (default "m18").
	Table string
	// NoPGVector keeps plain SQL even where the vector extension exists.
	NoPGVector bool
	// PoolSize caps the connections (default min(max in flight, 32)).
	PoolSize int

	pool     *pgxpool.Pool
	pgvector bool
}

func (a *Adapter) table() string { return cmp.Or(a.Table, "m18") }

// Expresses returns what the adapter runs for each operation, in plain
// SQL (with pgvector the searches use <#> instead).
func Expresses() competitor.Mapping { return (&Adapter{}).mapping() }

// mapping is what each operation runs.
func (a *Adapter) mapping() competitor.Mapping {
	search := "exact top-k by dot product in plain SQL (unnest over float4[])"
	if a.pgvector {
		search = "exact top-k by pgvector's <#> (no index)"
	}
	return competitor.Mapping{
		client.Store:             "INSERT of the node and its edges (one statement)",
		client.Recall:            search + fmt.Sprintf(", similarity ≥ %g, limit %d", competitor.RecallThreshold, competitor.RecallLimit),
		client.Search:            search + fmt.Sprintf(", limit %d", competitor.SearchLimit),
		client.PatternCompletion: fmt.Sprintf("recursive CTE: nodes within %d hops of the touched node, limit %d", competitor.TraversalDepth, competitor.TraversalLimit),
	}
}

func (a *Adapter) connect(ctx context.Context, s load.AdapterSetup) error {
	if a.pool != nil {
		return nil
	}
	cfg, err := pgxpool.ParseConfig(a.URL)
	if err != nil {
		return fmt.Errorf("postgres: --competitor-url %q: %v (example: postgres://postgres@127.0.0.1:5432/postgres)", a.URL, err)
	}
	size := a.PoolSize
	if size <= 0 {
		size = min(max(s.MaxInFlight, 1), 32)
	}
	cfg.MaxConns = int32(size)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(cctx); err != nil {
		pool.Close()
		return fmt.Errorf("postgres at %s did not answer: %v", redact(a.URL), err)
	}
	a.pool = pool
	return nil
}

// Describe implements load.Adapter: it connects, tries CREATE EXTENSION
// vector (unless NoPGVector), and checks the scenario's operations.
func (a *Adapter) Describe(ctx context.Context, s load.AdapterSetup) (*result.Competitor, error) {
	if err := a.connect(ctx, s); err != nil {
		return nil, err
	}
	var version string
	if err := a.pool.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return nil, fmt.Errorf("postgres: SHOW server_version: %v", err)
	}
	a.pgvector = false
	if !a.NoPGVector {
		_, err := a.pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector")
		a.pgvector = err == nil
	}
	method := MethodPlain
	if a.pgvector {
		method = MethodPGVector
	}
	return a.mapping().Describe(Name, version, method, s.Ops)
}

// Prepare implements load.Adapter: (re)creates the tables and copies the
// preload's nodes and edges in with COPY.
func (a *Adapter) Prepare(ctx context.Context, s load.AdapterSetup) (*result.Preload, error) {
	if err := a.connect(ctx, s); err != nil {
		return nil, err
	}
	t := a.table()
	col := "float4[]"
	if a.pgvector {
		col = fmt.Sprintf("vector(%d)", s.Dim)
	}
	ddl := []string{
		fmt.Sprintf("DROP TABLE IF EXISTS %s_edges, %s_nodes", t, t),
		fmt.Sprintf("CREATE TABLE %s_nodes (id bigint PRIMARY KEY, space text NOT NULL, content text NOT NULL, embedding %s NOT NULL)", t, col),
		fmt.Sprintf("CREATE TABLE %s_edges (src bigint NOT NULL, dst bigint NOT NULL)", t),
	}
	for _, q := range ddl {
		if _, err := a.pool.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("postgres: %s: %v", q, err)
		}
	}
	start := time.Now()
	nodes, err := a.loadNodes(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("postgres: loading %s_nodes: %v", t, err)
	}
	var edges [][]any
	var nb []uint64
	for i := uint64(0); i < s.Nodes; i++ {
		nb = competitor.Neighbors(nb[:0], i, s.Nodes)
		for _, d := range nb {
			edges = append(edges, []any{int64(i), int64(d)})
		}
	}
	if _, err := a.pool.CopyFrom(ctx, pgx.Identifier{t + "_edges"}, []string{"src", "dst"}, pgx.CopyFromRows(edges)); err != nil {
		return nil, fmt.Errorf("postgres: COPY %s_edges: %v", t, err)
	}
	for _, q := range []string{fmt.Sprintf("CREATE INDEX ON %s_edges (src)", t), fmt.Sprintf("ANALYZE %s_nodes", t), fmt.Sprintf("ANALYZE %s_edges", t)} {
		if _, err := a.pool.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("postgres: %s: %v", q, err)
		}
	}
	el := time.Since(start)
	pl := &result.Preload{Nodes: int(nodes), DurationSeconds: el.Seconds()}
	if el > 0 {
		pl.RatePerSecond = float64(nodes) / el.Seconds()
	}
	if s.Progress != nil {
		s.Progress("preload: %d nodes and %d edges copied into PostgreSQL in %.1fs\n", nodes, len(edges), el.Seconds())
	}
	return pl, nil
}

// loadNodes stores the preload's nodes: by COPY for float4[] embeddings;
// with pgvector by INSERT of text arrays cast to vector (COPY's binary
// format has no encoding for a type the driver does not know).
func (a *Adapter) loadNodes(ctx context.Context, s load.AdapterSetup) (int64, error) {
	t := a.table()
	vec := make([]float32, s.Dim)
	if !a.pgvector {
		var i uint64
		return a.pool.CopyFrom(ctx, pgx.Identifier{t + "_nodes"}, []string{"id", "space", "content", "embedding"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i >= s.Nodes {
					return nil, nil
				}
				id := i
				i++
				s.Data.Embedding(id, vec)
				return []any{int64(id), s.Data.Space(id), s.Data.Content(id), vec}, nil
			}))
	}
	q := fmt.Sprintf("INSERT INTO %s_nodes (id, space, content, embedding) SELECT unnest($1::bigint[]), unnest($2::text[]), unnest($3::text[]), unnest($4::text[])::vector", t)
	var n int64
	for lo := uint64(0); lo < s.Nodes; lo += 500 {
		hi := min(lo+500, s.Nodes)
		var ids []int64
		var spaces, contents, embs []string
		for i := lo; i < hi; i++ {
			s.Data.Embedding(i, vec)
			ids = append(ids, int64(i))
			spaces = append(spaces, s.Data.Space(i))
			contents = append(contents, s.Data.Content(i))
			embs = append(embs, string(competitor.AppendVector(nil, vec)))
		}
		tag, err := a.pool.Exec(ctx, q, ids, spaces, contents, embs)
		if err != nil {
			return n, err
		}
		n += tag.RowsAffected()
	}
	return n, nil
}

// Client implements load.Adapter.
func (a *Adapter) Client(s load.AdapterSetup) (client.Client, error) {
	if a.pool == nil {
		return nil, errors.New("postgres: Client before Describe")
	}
	t := a.table()
	score := fmt.Sprintf("(SELECT sum(a*b) FROM unnest(n.embedding, $1::float4[]) AS v(a, b))")
	if a.pgvector {
		score = "(-(n.embedding <#> $1::vector))"
	}
	q := queries{
		store: fmt.Sprintf(`WITH n AS (INSERT INTO %[1]s_nodes (id, space, content, embedding) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING)
INSERT INTO %[1]s_edges (src, dst) SELECT $1, unnest($5::bigint[])`, t),
		recall: fmt.Sprintf(`SELECT id, score FROM (SELECT n.id, %s AS score FROM %s_nodes n) s WHERE score >= $2 ORDER BY score DESC LIMIT $3`, score, t),
		search: fmt.Sprintf(`SELECT n.id, %s AS score FROM %s_nodes n ORDER BY score DESC LIMIT $2`, score, t),
		traverse: fmt.Sprintf(`WITH RECURSIVE walk(id, depth) AS (
  SELECT $1::bigint, 0
  UNION
  SELECT e.dst, w.depth + 1 FROM walk w JOIN %s_edges e ON e.src = w.id WHERE w.depth < $2
) SELECT DISTINCT id FROM walk LIMIT $3`, t),
	}
	if a.pgvector {
		q.store = strings.Replace(q.store, "$4)", "$4::vector)", 1)
	}
	return &pgClient{a: a, s: s, q: q, timeout: s.Timeout}, nil
}

// Close implements load.Adapter.
func (a *Adapter) Close() {
	if a.pool != nil {
		a.pool.Close()
		a.pool = nil
	}
}

type queries struct{ store, recall, search, traverse string }

type pgClient struct {
	a       *Adapter
	s       load.AdapterSetup
	q       queries
	timeout time.Duration
}

func (c *pgClient) NewConn() client.Conn {
	return &pgConn{c: c, vec: make([]float32, c.s.Dim)}
}

type pgConn struct {
	c   *pgClient
	vec []float32
	txt []byte
	nb  []uint64
	ids []int64
}

func (k *pgConn) Close() {}

// Do implements client.Conn: one query, every row read.
func (k *pgConn) Do(ctx context.Context, op client.Op, seq uint64) (time.Time, client.Outcome) {
	c := k.c
	d := c.s.Data
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var sql string
	var args []any
	switch op {
	case client.Store:
		i := competitor.StoreID(c.s.Nodes, seq)
		d.Embedding(i, k.vec)
		k.nb = competitor.Neighbors(k.nb[:0], i, c.s.Nodes)
		k.ids = k.ids[:0]
		for _, n := range k.nb {
			k.ids = append(k.ids, int64(n))
		}
		sql, args = c.q.store, []any{int64(i), d.Space(i), d.Content(i), k.embedding(), k.ids}
	case client.Recall:
		d.QueryEmbedding(seq, k.vec)
		sql, args = c.q.recall, []any{k.embedding(), competitor.RecallThreshold, competitor.RecallLimit}
	case client.Search:
		d.QueryEmbedding(seq, k.vec)
		sql, args = c.q.search, []any{k.embedding(), competitor.SearchLimit}
	case client.PatternCompletion:
		sql, args = c.q.traverse, []any{int64(d.Node(seq)), competitor.TraversalDepth, competitor.TraversalLimit}
	default:
		return time.Now(), 400
	}
	conn, err := c.a.pool.Acquire(ctx)
	if err != nil {
		return time.Now(), outcome(err)
	}
	defer conn.Release()
	sent := time.Now()
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return sent, outcome(err)
	}
	for rows.Next() {
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return sent, outcome(err)
	}
	return sent, client.OK
}

// embedding returns the query argument of k.vec: float4[] or pgvector's
// text form.
func (k *pgConn) embedding() any {
	if k.c.a.pgvector {
		k.txt = competitor.AppendVector(k.txt[:0], k.vec)
		return string(k.txt)
	}
	return k.vec
}

// outcome classifies a failed query: a timeout or a lost connection as the
// engine's, a rejected query as 400, lack of resources as 503, anything
// else the server said as 500.
func outcome(err error) client.Outcome {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "57014": // query_canceled (statement timeout)
			return client.OutcomeTimeout
		case strings.HasPrefix(pe.Code, "42"), strings.HasPrefix(pe.Code, "22"):
			return 400
		case strings.HasPrefix(pe.Code, "53"):
			return 503
		}
		return 500
	}
	return client.OutcomeOf(err)
}

// redact drops a password from a connection string for messages.
func redact(u string) string {
	cfg, err := pgconn.ParseConfig(u)
	if err != nil {
		return "the given URL"
	}
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

var _ load.Adapter = (*Adapter)(nil)
