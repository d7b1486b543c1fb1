package qdrant

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

// standIn is a Qdrant stand-in built from the request and response
// examples of Qdrant's REST API reference (api.qdrant.tech): GET /,
// DELETE and PUT /collections/{name}, PUT /collections/{name}/points and
// POST /collections/{name}/points/search. It decodes requests strictly
// (an unknown field is a 400, as Qdrant's own validation answers) and
// searches exactly by cosine.
type standIn struct {
	mu       sync.Mutex
	size     int
	points   map[uint64]point
	requests map[string]int
}

type point struct {
	ID      uint64          `json:"id"`
	Vector  []float32       `json:"vector"`
	Payload json.RawMessage `json:"payload"`
}

func newStandIn(t *testing.T) (*standIn, string) {
	q := &standIn{requests: map[string]int{}}
	srv := httptest.NewServer(q)
	t.Cleanup(srv.Close)
	return q, srv.URL
}

func (q *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.requests[r.Method+" "+r.URL.Path]++
	ok := func(result any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"result": result, "status": "ok", "time": 0.0001})
	}
	fail := func(code int, msg string) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"status": map[string]string{"error": msg}, "time": 0})
	}
	decode := func(v any) bool {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			fail(http.StatusBadRequest, "Format error in JSON body: "+err.Error())
			return false
		}
		return true
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		json.NewEncoder(w).Encode(map[string]string{"title": "qdrant - vector search engine", "version": "1.12.4", "commit": "standin"})
	case len(parts) == 2 && parts[0] == "collections" && r.Method == http.MethodDelete:
		q.points, q.size = nil, 0
		ok(true)
	case len(parts) == 2 && parts[0] == "collections" && r.Method == http.MethodPut:
		var body struct {
			Vectors struct {
				Size     int    `json:"size"`
				Distance string `json:"distance"`
			} `json:"vectors"`
		}
		if !decode(&body) {
			return
		}
		if body.Vectors.Size <= 0 || body.Vectors.Distance != "Cosine" {
			fail(http.StatusBadRequest, "bad vectors config")
			return
		}
		q.size, q.points = body.Vectors.Size, map[uint64]point{}
		ok(true)
	case len(parts) == 3 && parts[2] == "points" && r.Method == http.MethodPut:
		if q.points == nil {
			fail(http.StatusNotFound, "Not found: Collection `"+parts[1]+"` doesn't exist!")
			return
		}
		var body struct {
			Points []point `json:"points"`
		}
		if !decode(&body) {
			return
		}
		for _, p := range body.Points {
			if len(p.Vector) != q.size {
				fail(http.StatusBadRequest, "Wrong input: Vector dimension error")
				return
			}
			q.points[p.ID] = p
		}
		ok(map[string]any{"operation_id": len(q.points), "status": "completed"})
	case len(parts) == 4 && parts[2] == "points" && parts[3] == "search" && r.Method == http.MethodPost:
		var body struct {
			Vector         []float32 `json:"vector"`
			Limit          int       `json:"limit"`
			ScoreThreshold *float64  `json:"score_threshold"`
			WithPayload    bool      `json:"with_payload"`
		}
		if !decode(&body) {
			return
		}
		if len(body.Vector) != q.size || body.Limit <= 0 {
			fail(http.StatusBadRequest, "Wrong input")
			return
		}
		type hit struct {
			ID      uint64  `json:"id"`
			Version int     `json:"version"`
			Score   float64 `json:"score"`
		}
		var hits []hit
		for id, p := range q.points {
			s := cosine(body.Vector, p.Vector)
			if body.ScoreThreshold == nil || s >= *body.ScoreThreshold {
				hits = append(hits, hit{ID: id, Score: s})
			}
		}
		slices.SortFunc(hits, func(a, b hit) int {
			if a.Score != b.Score {
				if a.Score > b.Score {
					return -1
				}
				return 1
			}
			return int(a.ID) - int(b.ID)
		})
		ok(hits[:min(len(hits), body.Limit)])
	default:
		fail(http.StatusNotFound, "404 page not found")
	}
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
