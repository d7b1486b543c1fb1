// Package weaviate is the Weaviate competitor adapter (load.Adapter): a
// class without a vectorizer whose objects carry their own vectors,
// created over REST (/v1/schema, /v1/batch/objects) and
// searched with GraphQL nearVector (/v1/graphql).
//
// Weaviate's searches use its HNSW index (approximate). The adapter maps
// no traversal: pattern_completion cannot be expressed and a scenario that
// sends it is refused.
package weaviate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
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
const Name = "weaviate"

// Method recorded in the document.
const Method = "REST + GraphQL nearVector, HNSW (approximate), cosine"

// Adapter runs scenarios against Weaviate (load.Adapter).
type Adapter struct {
	// URL is Weaviate's base URL (http://127.0.0.1:8080).
	URL string
	// Class is the class used (default "M18Node"); Prepare deletes and
	// creates it again.
	Class string
	// APIKey, when set, is sent as a bearer token.
	APIKey string

	base *url.URL
}

func (a *Adapter) class() string { return cmp.Or(a.Class, "M18Node") }

func (a *Adapter) header() http.Header {
	return competitor.Header("Authorization", a.APIKey, "Bearer ")
}

// maxDistance is the cosine distance (1 − similarity) of the recall
// threshold.
const maxDistance = 1 - competitor.RecallThreshold

// Expresses returns what the adapter runs for each operation it can
// express.
func Expresses() competitor.Mapping { return mapping }

var mapping = competitor.Mapping{
	client.Store:  "POST /v1/batch/objects: one object (created or replaced) with its vector and properties nodeId, space, content, links",
	client.Recall: fmt.Sprintf("POST /v1/graphql: Get nearVector, distance ≤ %g (cosine), limit %d", maxDistance, competitor.RecallLimit),
	client.Search: fmt.Sprintf("POST /v1/graphql: Get nearVector, limit %d", competitor.SearchLimit),
}

func (a *Adapter) url(path string) string { return competitor.JoinURL(a.base, path) }

// Describe implements load.Adapter: GET /v1/meta gives the version.
func (a *Adapter) Describe(ctx context.Context, s load.AdapterSetup) (*result.Competitor, error) {
	var meta struct {
		Version string `json:"version"`
	}
	u, err := competitor.Discover(ctx, Name, mapping, s.Ops, a.URL, "http://127.0.0.1:8080", "/v1/meta", a.header(), &meta)
	if err != nil {
		return nil, err
	}
	a.base = u
	if meta.Version == "" {
		return nil, fmt.Errorf("weaviate at %s: GET /v1/meta has no version", a.URL)
	}
	return mapping.Describe(Name, meta.Version, Method, s.Ops)
}

// Prepare implements load.Adapter: deletes and creates the class, adds
// the preload by /v1/batch/objects (100 a batch) and probes every
// operation, GraphQL errors included.
func (a *Adapter) Prepare(ctx context.Context, s load.AdapterSetup) (*result.Preload, error) {
	hc := &http.Client{Timeout: 5 * time.Minute}
	cls := a.class()
	if err := competitor.Call(ctx, hc, http.MethodDelete, a.url("/v1/schema/"+url.PathEscape(cls)), a.header(), nil, nil); err != nil && !strings.Contains(err.Error(), "404") {
		return nil, fmt.Errorf("weaviate: %v", err)
	}
	schema := fmt.Sprintf(`{"class":%q,"vectorizer":"none","vectorIndexConfig":{"distance":"cosine"},"properties":[`+
		`{"name":"nodeId","dataType":["int"]},{"name":"space","dataType":["text"]},{"name":"content","dataType":["text"]},{"name":"links","dataType":["int[]"]}]}`, cls)
	if err := competitor.Call(ctx, hc, http.MethodPost, a.url("/v1/schema"), a.header(), []byte(schema), nil); err != nil {
		return nil, fmt.Errorf("weaviate: %v", err)
	}
	pl, err := competitor.JSONBatches(ctx, s, "weaviate", 100, `{"objects":[`, "]}",
		func(b []byte, i uint64, links []uint64, vec []float32) []byte {
			return appendObject(b, cls, s.Data, i, links, vec)
		},
		func(body []byte) error {
			var answer json.RawMessage
			if err := competitor.Call(ctx, hc, http.MethodPost, a.url("/v1/batch/objects"), a.header(), body, &answer); err != nil {
				return err
			}
			return batchErrors(answer)
		})
	if err != nil {
		return nil, err
	}
	if err := competitor.Probe(ctx, a.base, s, a.build(s), a.header(), checkGraphQL); err != nil {
		return nil, fmt.Errorf("weaviate: %v", err)
	}
	return pl, nil
}

// checkGraphQL finds the errors GraphQL reports inside a 200 answer.
func checkGraphQL(op client.Op, answer []byte) error {
	if op == client.Store {
		return batchErrors(answer)
	}
	var g struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(answer, &g); err != nil {
		return err
	}
	if len(g.Errors) > 0 {
		return fmt.Errorf("GraphQL error: %s", g.Errors[0].Message)
	}
	if g.Data["Get"] == nil {
		return errors.New("GraphQL answer without data.Get")
	}
	return nil
}

// batchErrors finds the per-object errors of a /v1/batch/objects answer
// (a 200 also when an object failed).
func batchErrors(answer []byte) error {
	var objs []struct {
		ID     string `json:"id"`
		Result struct {
			Errors *struct {
				Error []struct {
					Message string `json:"message"`
				} `json:"error"`
			} `json:"errors"`
		} `json:"result"`
	}
	if err := json.Unmarshal(answer, &objs); err != nil {
		return fmt.Errorf("batch answer: %v", err)
	}
	for _, o := range objs {
		if e := o.Result.Errors; e != nil && len(e.Error) > 0 {
			return fmt.Errorf("object %s: %s", o.ID, e.Error[0].Message)
		}
	}
	return nil
}

// UUID is the object id of node i.
func UUID(i uint64) string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", i) }

func appendObject(b []byte, cls string, d load.Data, i uint64, links []uint64, vec []float32) []byte {
	d.Embedding(i, vec)
	b = append(b, `{"class":`...)
	b = strconv.AppendQuote(b, cls)
	b = append(b, `,"id":"`...)
	b = append(b, UUID(i)...)
	b = append(b, `","properties":{"nodeId":`...)
	b = strconv.AppendUint(b, i, 10)
	b = append(b, `,"space":`...)
	b = strconv.AppendQuote(b, d.Space(i))
	b = append(b, `,"content":`...)
	b = strconv.AppendQuote(b, d.Content(i))
	b = append(b, `,"links":`...)
	b = competitor.AppendIDs(b, links)
	b = append(b, `},"vector":`...)
	b = competitor.AppendVector(b, vec)
	return append(b, '}')
}

func (a *Adapter) build(s load.AdapterSetup) competitor.Build {
	cls := a.class()
	return func(op client.Op, seq uint64, vec []float32, b []byte) (string, string, []byte) {
		switch op {
		case client.Store:
			i := competitor.StoreID(s.Nodes, seq)
			var links [competitor.Degree]uint64
			// The batch endpoint creates or replaces: storing the same node
			// again (a later run with the preload skipped) is not an error,
			// as it is not for the other adapters. (POST /v1/objects refuses
			// an existing id, PUT a missing one.)
			b = append(b, `{"objects":[`...)
			b = appendObject(b, cls, s.Data, i, competitor.Neighbors(links[:0], i, s.Nodes), vec)
			return http.MethodPost, "/v1/batch/objects", append(b, "]}"...)
		case client.Recall, client.Search:
			s.Data.QueryEmbedding(seq, vec)
			b = append(b, `{"query":"{ Get { `...)
			b = append(b, cls...)
			b = append(b, `(nearVector: {vector: `...)
			b = competitor.AppendVector(b, vec)
			if op == client.Recall {
				b = fmt.Appendf(b, `, distance: %g}, limit: %d)`, maxDistance, competitor.RecallLimit)
			} else {
				b = fmt.Appendf(b, `}, limit: %d)`, competitor.SearchLimit)
			}
			return http.MethodPost, "/v1/graphql", append(b, ` { nodeId _additional { distance } } } }"}`...)
		}
		return http.MethodGet, "/v1/meta", b // not reached: Describe refused the scenario
	}
}

// Client implements load.Adapter.
func (a *Adapter) Client(s load.AdapterSetup) (client.Client, error) {
	return competitor.HTTPClient(a.base, s, a.build(s), a.header()), nil
}

// Close implements load.Adapter.
func (a *Adapter) Close() {}

var _ load.Adapter = (*Adapter)(nil)
