package engram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/runners/load/client"
	"github.com/engram/m18-gate/runners/load/http1"
)

// fakeData is a tiny deterministic Data for request-shape tests only; the
// engine's end-to-end tests use the real dataset generator.
type fakeData struct{}

func (fakeData) Embedding(i uint64, dst []float32) {
	for j := range dst {
		dst[j] = float32(i+uint64(j)) / 1e6
	}
}
func (fakeData) Content(i uint64) string { return fmt.Sprintf("memory %d \"quoted\"", i) }
func (fakeData) Space(i uint64) string   { return fmt.Sprintf("space-%d", i) }
func (fakeData) QueryEmbedding(i uint64, dst []float32) {
	for j := range dst {
		dst[j] = -float32(i+uint64(j)) * 1e-25
	}
}
func (fakeData) QueryText(i uint64) string { return fmt.Sprintf("query %d & more", i) }
func (fakeData) Node(i uint64) uint64      { return 2 * i }

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func TestEngramURLs(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Memory-Space"))
		if r.URL.Path == RouteRecall {
			var v []float64
			if err := jsonUnmarshal(r.URL.Query().Get("embedding"), &v); err != nil || len(v) != 8 {
				t.Errorf("recall embedding %q: %v (len %d)", r.URL.Query().Get("embedding"), err, len(v))
			}
		}
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	w := &Engram{Base: base, Data: fakeData{}, Dim: 8, NumNodes: 10}
	s := w.NewSender()
	hc := http1.NewClient(1, time.Second)
	for op := client.Op(0); op < client.NumOps; op++ {
		req, err := s.Request(context.Background(), op, 3)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := []string{"POST /api/v1/memories/remember space-13", "GET /api/v1/memories/recall space-6", "GET /api/v1/memories/search space-6", "POST /api/v1/complete space-6"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("requests\n%q\nwant\n%q", got, want)
	}
}
