// Package engram is the load client of Engram's HTTP API: it encodes each
// scenario operation as the request Engram's routes take (an
// http1.Workload), and the bodies the preload stores. It sends nothing
// itself; package http1 does, driven by the engine in package load.
package engram

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"

	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/load/http1"
)

// Data is the generated data the Engram workload sends; a
// dataset.Generator is one. Item indexes are uint64; the same index always
// gives the same values.
type Data interface {
	// Embedding writes the embedding of node i into dst (len = dimension).
	Embedding(i uint64, dst []float32)
	// Content is node i's memory text.
	Content(i uint64) string
	// Space is the memory space of node i.
	Space(i uint64) string
	// QueryEmbedding writes the embedding of query i into dst.
	QueryEmbedding(i uint64, dst []float32)
	// QueryText is the text of query i.
	QueryText(i uint64) string
	// Node is the node that access i touches (hot-spot aware).
	Node(i uint64) uint64
}

// Engram routes, as Engram's HTTP API names them.
const (
	RouteRemember = "/api/v1/memories/remember"
	RouteRecall   = "/api/v1/memories/recall"
	RouteSearch   = "/api/v1/memories/search"
	RouteComplete = "/api/v1/complete"
)

// Engram is the http1.Workload of Engram's API:
//
//   - Store: POST /api/v1/memories/remember with the content and the
//     embedding of a new node (index NumNodes+seq: never a preloaded one),
//     and its space in X-Memory-Space and memory_space_id.
//   - Recall: GET /api/v1/memories/recall?embedding=[…]&threshold=…&max_results=…
//   - Search: GET /api/v1/memories/search?query=…&limit=10
//   - PatternCompletion: POST /api/v1/complete with the first half of a query
//     embedding known (the rest null) and the query text as a known field.
//
// Reads go to the space of the node their access touches (Data.Node).
type Engram struct {
	// Base is the target's base URL ("http://127.0.0.1:7432").
	Base *url.URL
	Data Data
	// Dim is the embedding dimension (Engram accepts 768).
	Dim int
	// NumNodes is how many nodes were preloaded (indexes 0…NumNodes-1).
	NumNodes uint64
	// Threshold and MaxResults parametrise recall (defaults 0.5 and 10).
	Threshold  float64
	MaxResults int
	// CA1Threshold parametrises completion (default 0.3: Engram's loadtest
	// value for a store without learned patterns).
	CA1Threshold float64
}

// NewSender implements http1.Workload.
func (e *Engram) NewSender() http1.Sender {
	return &engramSender{e: e, vec: make([]float32, e.Dim), hdr: http.Header{}}
}

type engramSender struct {
	e    *Engram
	vec  []float32
	buf  []byte
	body *reqBody
	hdr  http.Header

	// One request, bound once to the context of the phase, reset for each
	// send (the engine reads a response to its end before asking again).
	req   *http.Request
	ctx   context.Context
	url   url.URL
	paths map[string]string // route → base path + route
}

// reqBody is a reusable request body. The transport closes a body when it
// has finished writing it (possibly after the response arrived); the buffer
// is reused only if it was.
type reqBody struct {
	bytes.Reader
	closed atomic.Bool
}

func (b *reqBody) Close() error { b.closed.Store(true); return nil }

// Request implements http1.Sender.
func (s *engramSender) Request(ctx context.Context, op client.Op, seq uint64) (*http.Request, error) {
	e := s.e
	if s.body != nil && !s.body.closed.Load() {
		// The transport may still be reading the old buffer: leave it be.
		s.body, s.buf = nil, nil
	}
	switch op {
	case client.Store:
		i := e.NumNodes + seq
		space := e.Data.Space(i)
		s.buf = AppendRemember(s.buf[:0], e.Data, i, "", space, s.vec)
		return s.post(ctx, RouteRemember, space)
	case client.Recall:
		space := e.Data.Space(e.Data.Node(seq))
		e.Data.QueryEmbedding(seq, s.vec)
		s.buf = AppendRecallQuery(s.buf[:0], s.vec, cmp.Or(e.Threshold, 0.5), cmp.Or(e.MaxResults, 10))
		return s.get(ctx, RouteRecall, string(s.buf), space)
	case client.Search:
		space := e.Data.Space(e.Data.Node(seq))
		q := "query=" + url.QueryEscape(e.Data.QueryText(seq)) + "&limit=10"
		return s.get(ctx, RouteSearch, q, space)
	case client.PatternCompletion:
		space := e.Data.Space(e.Data.Node(seq))
		e.Data.QueryEmbedding(seq, s.vec)
		s.buf = appendComplete(s.buf[:0], e.Data.QueryText(seq), s.vec, cmp.Or(e.CA1Threshold, 0.3))
		return s.post(ctx, RouteComplete, space)
	}
	return nil, fmt.Errorf("engram: unknown operation %v", op)
}

func (s *engramSender) post(ctx context.Context, path, space string) (*http.Request, error) {
	if s.body == nil {
		s.body = &reqBody{}
	}
	s.body.closed.Store(false)
	s.body.Reset(s.buf)
	s.hdr.Set("Content-Type", "application/json")
	s.hdr.Set("X-Memory-Space", space)
	req := s.request(ctx, http.MethodPost, path, "")
	req.Body, req.ContentLength = s.body, int64(len(s.buf))
	return req, nil
}

func (s *engramSender) get(ctx context.Context, path, rawQuery, space string) (*http.Request, error) {
	s.hdr.Del("Content-Type")
	s.hdr.Set("X-Memory-Space", space)
	return s.request(ctx, http.MethodGet, path, rawQuery), nil
}

// request returns the sender's request for method, route path and query,
// without a body.
func (s *engramSender) request(ctx context.Context, method, path, rawQuery string) *http.Request {
	if s.req == nil || s.ctx != ctx {
		s.url = *s.e.Base
		r := &http.Request{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: s.hdr, URL: &s.url, Host: s.url.Host}
		s.req, s.ctx = r.WithContext(ctx), ctx
		s.req.URL = &s.url
		s.paths = map[string]string{}
	}
	full, ok := s.paths[path]
	if !ok {
		full = JoinPath(s.e.Base.Path, path)
		s.paths[path] = full
	}
	r := s.req
	r.Method, r.Body, r.ContentLength = method, nil, 0
	s.url.Path, s.url.RawPath, s.url.RawQuery = full, "", rawQuery
	return r
}

// JoinPath joins a base URL's path and a route, with one slash between.
func JoinPath(base, p string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + p
}

// AppendRemember appends the JSON body of a remember request for node i
// (its content, embedding and space; id when non-empty) to b. vec is
// scratch space of the embedding's dimension.
func AppendRemember(b []byte, d Data, i uint64, id, space string, vec []float32) []byte {
	d.Embedding(i, vec)
	b = append(b, `{"content":`...)
	b = strconv.AppendQuote(b, d.Content(i))
	if id != "" {
		b = append(b, `,"id":`...)
		b = strconv.AppendQuote(b, id)
	}
	b = append(b, `,"memory_space_id":`...)
	b = strconv.AppendQuote(b, space)
	b = append(b, `,"confidence":0.7,"embedding":`...)
	b = AppendVector(b, vec)
	return append(b, '}')
}

func appendComplete(b []byte, text string, vec []float32, ca1 float64) []byte {
	b = append(b, `{"partial_episode":{"known_fields":{"content":`...)
	b = strconv.AppendQuote(b, text)
	b = append(b, `},"partial_embedding":[`...)
	half := len(vec) / 2
	for i, f := range vec {
		if i > 0 {
			b = append(b, ',')
		}
		if i < half {
			b = strconv.AppendFloat(b, float64(f), 'g', -1, 32)
		} else {
			b = append(b, "null"...)
		}
	}
	b = append(b, `],"cue_strength":0.7},"config":{"ca1_threshold":`...)
	b = strconv.AppendFloat(b, ca1, 'g', -1, 64)
	return append(b, `,"num_hypotheses":3,"max_iterations":7}}`...)
}

// AppendVector appends vec as a JSON array, each component in the fewest
// digits that read back as the same float32: the embedding of Engram's
// bodies, and of the competitors' JSON APIs.
func AppendVector(b []byte, vec []float32) []byte {
	b = append(b, '[')
	for i, f := range vec {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(f), 'g', -1, 32)
	}
	return append(b, ']')
}

// AppendRecallQuery appends the query of a recall by embedding vec:
// embedding=[…]&threshold=…&max_results=… (query-escaped).
func AppendRecallQuery(b []byte, vec []float32, threshold float64, maxResults int) []byte {
	b = append(b, "embedding="...)
	b = appendVectorQuery(b, vec)
	b = append(b, "&threshold="...)
	b = strconv.AppendFloat(b, threshold, 'g', -1, 64)
	b = append(b, "&max_results="...)
	return strconv.AppendInt(b, int64(maxResults), 10)
}

// appendVectorQuery appends vec as a JSON array, query-escaped: brackets
// and commas percent-encoded, as url.QueryEscape would.
func appendVectorQuery(b []byte, vec []float32) []byte {
	b = append(b, "%5B"...)
	for i, f := range vec {
		if i > 0 {
			b = append(b, "%2C"...)
		}
		n := len(b)
		b = strconv.AppendFloat(b, float64(f), 'g', -1, 32)
		for j := n; j < len(b); j++ {
			if b[j] == '+' { // only in exponents: escape it
				b = append(b[:j], append([]byte("%2B"), b[j+1:]...)...)
				j += 2
			}
		}
	}
	return append(b, "%5D"...)
}
