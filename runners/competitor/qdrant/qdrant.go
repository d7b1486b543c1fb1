// Package qdrant is the Qdrant competitor adapter (load.Adapter), over
// Qdrant's REST API: a collection of cosine vectors, points upserted with
// wait=true, searches by points/search.
//
// Qdrant has no graph: pattern_completion cannot be expressed and a
// scenario that sends it is refused. Its searches use the collection's
// HNSW index (approximate), as Qdrant's published figures do.
package qdrant

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/engram/m18-gate/runners/competitor"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/result"
)

// Name is the adapter's name, as --competitor takes it.
const Name = "qdrant"

// Method recorded in the document.
const Method = "REST, HNSW (approximate), cosine"

// Adapter runs scenarios against Qdrant (load.Adapter).
type Adapter struct {
	// URL is Qdrant's REST base URL (http://127.0.0.1:6333).
	URL string
	// Collection is the collection used (default "m18"); it is dropped
	// and created again by Prepare.
	Collection string
	// APIKey, when set, is sent as the api-key header.
	APIKey string

	base *url.URL
}

func (a *Adapter) collection() string { return cmp.Or(a.Collection, "m18") }

func (a *Adapter) header() http.Header { return competitor.Header("api-key", a.APIKey, "") }

// Expresses returns what the adapter runs for each operation it can
// express.
func Expresses() competitor.Mapping { return mapping }

var mapping = competitor.Mapping{
	client.Store:  "PUT /collections/{c}/points?wait=true: upsert of one point (vector, payload with space, content and links)",
	client.Recall: fmt.Sprintf("POST /collections/{c}/points/search: limit %d, score_threshold %g", competitor.RecallLimit, competitor.RecallThreshold),
	client.Search: fmt.Sprintf("POST /collections/{c}/points/search: limit %d", competitor.SearchLimit),
}

func (a *Adapter) url(path string) string { return competitor.JoinURL(a.base, path) }

// Describe implements load.Adapter: GET / gives the version.
func (a *Adapter) Describe(ctx context.Context, s load.AdapterSetup) (*result.Competitor, error) {
	var root struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	}
	u, err := competitor.Discover(ctx, Name, mapping, s.Ops, a.URL, "http://127.0.0.1:6333", "/", a.header(), &root)
	if err != nil {
		return nil, err
	}
	a.base = u
	if root.Version == "" {
		return nil, fmt.Errorf("qdrant at %s: GET / has no version (is it Qdrant? title %q)", a.URL, root.Title)
	}
	return mapping.Describe(Name, root.Version, Method, s.Ops)
}

// Prepare implements load.Adapter: drops and creates the collection,
// upserts the preload in batches of 256 and probes every operation.
func (a *Adapter) Prepare(ctx context.Context, s load.AdapterSetup) (*result.Preload, error) {
	hc := &http.Client{Timeout: 5 * time.Minute}
	c := "/collections/" + url.PathEscape(a.collection())
	if err := competitor.Call(ctx, hc, http.MethodDelete, a.url(c), a.header(), nil, nil); err != nil && !strings.Contains(err.Error(), "404") {
		return nil, fmt.Errorf("qdrant: %v", err)
	}
	create := fmt.Sprintf(`{"vectors":{"size":%d,"distance":"Cosine"}}`, s.Dim)
	if err := competitor.Call(ctx, hc, http.MethodPut, a.url(c), a.header(), []byte(create), nil); err != nil {
		return nil, fmt.Errorf("qdrant: %v", err)
	}
	pl, err := competitor.JSONBatches(ctx, s, "qdrant", 256, `{"points":[`, "]}",
		func(b []byte, i uint64, links []uint64, vec []float32) []byte {
			return appendPoint(b, s.Data, i, links, vec)
		},
		func(body []byte) error {
			return competitor.Call(ctx, hc, http.MethodPut, a.url(c+"/points?wait=true"), a.header(), body, nil)
		})
	if err != nil {
		return nil, err
	}
	if err := competitor.Probe(ctx, a.base, s, a.build(s), a.header(), nil); err != nil {
		return nil, fmt.Errorf("qdrant: %v", err)
	}
	return pl, nil
}

// appendPoint appends node i as a Qdrant point.
func appendPoint(b []byte, d load.Data, i uint64, links []uint64, vec []float32) []byte {
	d.Embedding(i, vec)
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, i, 10)
	b = append(b, `,"vector":`...)
	b = competitor.AppendVector(b, vec)
	b = append(b, `,"payload":{"space":`...)
	b = strconv.AppendQuote(b, d.Space(i))
	b = append(b, `,"content":`...)
	b = strconv.AppendQuote(b, d.Content(i))
	b = append(b, `,"links":`...)
	b = competitor.AppendIDs(b, links)
	return append(b, "}}"...)
}

func (a *Adapter) build(s load.AdapterSetup) competitor.Build {
	c := "/collections/" + url.PathEscape(a.collection())
	return func(op client.Op, seq uint64, vec []float32, b []byte) (string, string, []byte) {
		switch op {
		case client.Store:
			i := competitor.StoreID(s.Nodes, seq)
			var links [competitor.Degree]uint64 // build runs on many senders at once: nothing shared
			nb := competitor.Neighbors(links[:0], i, s.Nodes)
			b = append(b, `{"points":[`...)
			b = appendPoint(b, s.Data, i, nb, vec)
			return http.MethodPut, c + "/points?wait=true", append(b, "]}"...)
		case client.Recall, client.Search:
			s.Data.QueryEmbedding(seq, vec)
			b = append(b, `{"vector":`...)
			b = competitor.AppendVector(b, vec)
			if op == client.Recall {
				b = fmt.Appendf(b, `,"limit":%d,"score_threshold":%g`, competitor.RecallLimit, competitor.RecallThreshold)
			} else {
				b = fmt.Appendf(b, `,"limit":%d`, competitor.SearchLimit)
			}
			return http.MethodPost, c + "/points/search", append(b, `,"with_payload":false}`...)
		}
		return http.MethodGet, "/", b // not reached: Describe refused the scenario
	}
}

// Client implements load.Adapter.
func (a *Adapter) Client(s load.AdapterSetup) (client.Client, error) {
	return competitor.HTTPClient(a.base, s, a.build(s), a.header()), nil
}

// Close implements load.Adapter.
func (a *Adapter) Close() {}

var _ load.Adapter = (*Adapter)(nil)
