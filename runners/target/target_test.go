package target

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// startTarget runs an Instance for the test and closes it at cleanup.
func startTarget(t testing.TB, o Options) *Instance {
	t.Helper()
	inst, err := Start(o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := inst.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return inst
}

// call makes one real HTTP request and decodes a JSON body when there is one.
func call(t testing.TB, method, u string, header map[string]string, body string) (int, map[string]any, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: response is not JSON: %v: %s", method, u, err, raw)
		}
	}
	return resp.StatusCode, m, string(raw)
}

// serve calls the handler directly (no network), for tight loops.
func serve(s *Server, method, target string, header map[string]string, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// randomVector returns a deterministic Gaussian vector.
func randomVector(r *rand.Rand) []float32 {
	v := make([]float32, Dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func vectorJSON(v []float32) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func rememberBody(content string, v []float32, extra string) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"content":%q`, content)
	if v != nil {
		b.WriteString(`,"embedding":` + vectorJSON(v))
	}
	b.WriteString(extra + "}")
	return b.String()
}

func TestRoutes(t *testing.T) {
	inst := startTarget(t, Options{Seed: 1})
	base := inst.URL()
	r := rand.New(rand.NewPCG(1, 2))
	v := randomVector(r)

	status, body, _ := call(t, "POST", base+"/api/v1/memories/remember", nil,
		rememberBody("the quick brown fox", v, `,"id":"fox","tags":["animal"],"memory_type":"episodic","confidence":0.9`))
	if status != 201 || body["memory_id"] != "fox" || body["memory_space_id"] != "default" {
		t.Fatalf("remember: %d %v", status, body)
	}
	sc := body["storage_confidence"].(map[string]any)
	if sc["value"].(float64) < 0.89 || sc["category"] != "High" || sc["reasoning"] == "" || body["stored_at"] == nil {
		t.Errorf("remember storage_confidence/stored_at: %v", body)
	}
	status, body, _ = call(t, "POST", base+"/api/v1/memories", nil, `{"content":"lazy dogs sleep","confidence":0.3}`)
	if status != 201 || !strings.HasPrefix(body["memory_id"].(string), "mem_") {
		t.Fatalf("simple store: %d %v", status, body)
	}
	dogID := body["memory_id"].(string)

	tests := []struct {
		name, method, path string
		header             map[string]string
		body               string
		status             int
		check              func(t *testing.T, m map[string]any, raw string)
	}{
		{"health", "GET", "/health", nil, "", 200, func(t *testing.T, m map[string]any, _ string) {
			for _, k := range []string{"status", "service", "version", "timestamp"} {
				if m[k] == nil || m[k] == "" {
					t.Errorf("health lacks %s: %v", k, m)
				}
			}
			if m["status"] != "healthy" {
				t.Errorf("status %v", m["status"])
			}
		}},
		{"alive", "GET", "/health/alive", nil, "", 200, nil},
		{"recall by embedding", "GET", "/api/v1/memories/recall?max_results=5&embedding=" + url.QueryEscape(vectorJSON(v)), nil, "", 200,
			func(t *testing.T, m map[string]any, _ string) {
				vivid := m["memories"].(map[string]any)["vivid"].([]any)
				if len(vivid) != 1 || vivid[0].(map[string]any)["id"] != "fox" {
					t.Errorf("vivid = %v, want [fox]", vivid)
				}
				md := m["metadata"].(map[string]any)
				if md["total_memories_searched"].(float64) != 2 || md["processing_time_ms"] == nil {
					t.Errorf("metadata %v", md)
				}
				if m["recall_confidence"].(map[string]any)["category"] != "High" {
					t.Errorf("recall_confidence %v", m["recall_confidence"])
				}
			}},
		{"recall by query", "GET", "/api/v1/memories/recall?query=lazy+dogs", nil, "", 200,
			func(t *testing.T, m map[string]any, _ string) {
				vivid := m["memories"].(map[string]any)["vivid"].([]any)
				if len(vivid) != 1 || vivid[0].(map[string]any)["id"] != dogID {
					t.Errorf("vivid = %v, want [%s]", vivid, dogID)
				}
			}},
		{"search", "GET", "/api/v1/memories/search?query=FOX&limit=10", nil, "", 200,
			func(t *testing.T, m map[string]any, _ string) {
				mem := m["memories"].([]any)
				if m["total"].(float64) != 1 || len(mem) != 1 {
					t.Fatalf("search = %v", m)
				}
				e := mem[0].(map[string]any)
				if e["id"] != "fox" || e["content"] != "the quick brown fox" || e["memory_type"] != "episodic" || e["timestamp"] == nil || e["confidence"].(float64) < 0.89 {
					t.Errorf("search entry %v", e)
				}
			}},
		{"search limit", "GET", "/api/v1/memories/search?limit=1", nil, "", 200,
			func(t *testing.T, m map[string]any, _ string) {
				if m["total"].(float64) != 2 || len(m["memories"].([]any)) != 1 {
					t.Errorf("search all, limit 1 = %v", m)
				}
			}},
		{"get by id", "GET", "/api/v1/memories/fox", nil, "", 200, func(t *testing.T, m map[string]any, _ string) {
			if m["id"] != "fox" || m["content"] != "the quick brown fox" {
				t.Errorf("get = %v", m)
			}
		}},
		{"unknown id", "GET", "/api/v1/memories/nope", nil, "", 404, func(t *testing.T, m map[string]any, _ string) {
			if m["error"] != "not_found" || m["field"] != "id" {
				t.Errorf("404 body %v", m)
			}
		}},
		{"complete by embedding", "POST", "/api/v1/complete", nil, completeBody(v, 300, nil), 200,
			func(t *testing.T, m map[string]any, _ string) {
				ep := m["completed_episode"].(map[string]any)
				if ep["id"] != "fox" || ep["what"] != "the quick brown fox" {
					t.Errorf("completed_episode = %v", ep)
				}
				if m["completion_confidence"].(map[string]any)["value"].(float64) < 0.9 {
					t.Errorf("completion_confidence = %v", m["completion_confidence"])
				}
				if len(m["alternative_hypotheses"].([]any)) != 1 {
					t.Errorf("alternative_hypotheses = %v", m["alternative_hypotheses"])
				}
			}},
		{"complete by fields", "POST", "/api/v1/complete", nil, `{"partial_episode":{"known_fields":{"what":"dogs"}},"config":{"num_hypotheses":1}}`, 200,
			func(t *testing.T, m map[string]any, _ string) {
				if ep := m["completed_episode"].(map[string]any); ep["id"] != dogID {
					t.Errorf("completed_episode = %v", ep)
				}
			}},
		{"complete empty space", "POST", "/api/v1/complete?space=empty", nil, completeBody(v, 10, nil), 422, nil},
		{"create space", "POST", "/api/v1/spaces", nil, `{"id":"tenant-1"}`, 201, func(t *testing.T, m map[string]any, _ string) {
			if m["id"] != "tenant-1" || m["memory_count"].(float64) != 0 {
				t.Errorf("space = %v", m)
			}
		}},
		{"create space again", "POST", "/api/v1/spaces", nil, `{"id":"tenant-1"}`, 200, nil},
		{"list spaces", "GET", "/api/v1/spaces", nil, "", 200, func(t *testing.T, m map[string]any, _ string) {
			var ids []string
			for _, s := range m["spaces"].([]any) {
				ids = append(ids, s.(map[string]any)["id"].(string))
			}
			if got := strings.Join(ids, ","); got != "default,empty,tenant-1" {
				t.Errorf("spaces = %s", got)
			}
		}},
		{"wrong method", "DELETE", "/api/v1/memories/remember", nil, "", 405, func(t *testing.T, m map[string]any, _ string) {
			if m["error"] != "method_not_allowed" {
				t.Errorf("405 body %v", m)
			}
		}},
		{"unknown route", "GET", "/api/v2/nothing", nil, "", 404, func(t *testing.T, m map[string]any, _ string) {
			if m["error"] != "not_found" {
				t.Errorf("404 body %v", m)
			}
		}},
		{"metrics", "GET", "/metrics/prometheus", nil, "", 200, func(t *testing.T, _ map[string]any, raw string) {
			for _, want := range []string{
				`m18_target_requests_total{code="201",method="POST",route="POST /api/v1/memories/remember"} 1`,
				`m18_target_request_duration_seconds_bucket{route="GET /api/v1/memories/recall"`,
				`m18_target_requests_total{code="404",method="GET",route="GET /api/v1/memories/{id}"} 1`,
				"m18_target_memories 2",
				"go_goroutines",
			} {
				if !strings.Contains(raw, want) {
					t.Errorf("metrics lack %q", want)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, m, raw := call(t, tc.method, base+tc.path, tc.header, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, raw)
			}
			if tc.check != nil {
				tc.check(t, m, raw)
			}
		})
	}
}

// completeBody builds a pattern-completion request from v with the first
// known dimensions kept and the rest null.
func completeBody(v []float32, known int, fields map[string]string) string {
	pe := make([]any, Dim)
	for i := range pe {
		if i < known {
			pe[i] = v[i]
		}
	}
	b, _ := json.Marshal(map[string]any{
		"partial_episode": map[string]any{"known_fields": fields, "partial_embedding": pe, "cue_strength": 0.8},
		"config":          map[string]any{"ca1_threshold": 0.6, "num_hypotheses": 2, "max_iterations": 5},
	})
	return string(b)
}

func TestSpaceIsolation(t *testing.T) {
	inst := startTarget(t, Options{})
	base := inst.URL()
	v := randomVector(rand.New(rand.NewPCG(3, 4)))
	if st, m, _ := call(t, "POST", base+"/api/v1/memories/remember", map[string]string{"X-Memory-Space": "a"},
		rememberBody("secret of a", v, `,"id":"x1"`)); st != 201 || m["memory_space_id"] != "a" {
		t.Fatalf("store in a: %d %v", st, m)
	}
	emb := url.QueryEscape(vectorJSON(v))
	for _, tc := range []struct {
		space string
		want  int
	}{{"a", 1}, {"b", 0}} {
		_, m, _ := call(t, "GET", base+"/api/v1/memories/recall?embedding="+emb, map[string]string{"X-Memory-Space": tc.space}, "")
		if got := len(m["memories"].(map[string]any)["vivid"].([]any)); got != tc.want {
			t.Errorf("recall from %s: %d vivid, want %d", tc.space, got, tc.want)
		}
		_, m, _ = call(t, "GET", base+"/api/v1/memories/search?query=secret&space="+tc.space, nil, "")
		if got := int(m["total"].(float64)); got != tc.want {
			t.Errorf("search from %s: total %d, want %d", tc.space, got, tc.want)
		}
		st, _, _ := call(t, "GET", base+"/api/v1/memories/x1?space="+tc.space, nil, "")
		if want := map[int]int{1: 200, 0: 404}[tc.want]; st != want {
			t.Errorf("get x1 from %s: %d, want %d", tc.space, st, want)
		}
	}
	_, m, _ := call(t, "POST", base+"/api/v1/complete", map[string]string{"X-Memory-Space": "b"}, completeBody(v, Dim, nil))
	if m["error"] != "insufficient_evidence" {
		t.Errorf("complete from b found a's memory: %v", m)
	}
}

func TestSpaceResolutionOrder(t *testing.T) {
	inst := startTarget(t, Options{})
	tests := []struct {
		name, header, query, body, want string
	}{
		{"header wins", "h", "q", "b", "h"},
		{"query before body", "", "q", "b", "q"},
		{"body", "", "", "b", "b"},
		{"default", "", "", "", "default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := inst.URL() + "/api/v1/memories/remember"
			if tc.query != "" {
				u += "?space=" + tc.query
			}
			hdr := map[string]string{}
			if tc.header != "" {
				hdr["X-Memory-Space"] = tc.header
			}
			extra := ""
			if tc.body != "" {
				extra = `,"memory_space_id":"` + tc.body + `"`
			}
			before := inst.Server().Len(tc.want)
			st, m, _ := call(t, "POST", u, hdr, rememberBody("resolution "+tc.name, nil, extra))
			if st != 201 || m["memory_space_id"] != tc.want {
				t.Fatalf("stored in %v (status %d), want %s", m["memory_space_id"], st, tc.want)
			}
			if got := inst.Server().Len(tc.want); got != before+1 {
				t.Errorf("Len(%s) = %d, want %d", tc.want, got, before+1)
			}
		})
	}
	if n := inst.Server().Len("nonexistent"); n != 0 {
		t.Errorf("Len(nonexistent) = %d", n)
	}
}

func TestValidationNamesField(t *testing.T) {
	s, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v := make([]float32, Dim)
	v767 := vectorJSON(v[:767])
	big := strings.Repeat("a", MaxContentBytes+1)
	inf := strings.Replace(vectorJSON(v), "0,", "1e39,", 1)
	nullv := strings.Replace(vectorJSON(v), "0,", "null,", 1)
	tests := []struct {
		name, method, target string
		header               map[string]string
		body                 string
		status               int
		field                string
	}{
		{"empty content", "POST", "/api/v1/memories/remember", nil, `{"content":"  "}`, 400, "content"},
		{"missing content", "POST", "/api/v1/memories/remember", nil, `{"confidence":0.5}`, 400, "content"},
		{"content too large", "POST", "/api/v1/memories/remember", nil, `{"content":"` + big + `"}`, 400, "content"},
		{"content max ok", "POST", "/api/v1/memories/remember", nil, `{"content":"` + big[1:] + `"}`, 201, ""},
		{"content not string", "POST", "/api/v1/memories/remember", nil, `{"content":5}`, 400, "content"},
		{"embedding 767", "POST", "/api/v1/memories/remember", nil, `{"content":"x","embedding":` + v767 + `}`, 400, "embedding"},
		{"embedding not finite float32", "POST", "/api/v1/memories/remember", nil, `{"content":"x","embedding":` + inf + `}`, 400, "embedding[0]"},
		{"embedding null value", "POST", "/api/v1/memories/remember", nil, `{"content":"x","embedding":` + nullv + `}`, 400, "embedding[0]"},
		{"embedding string value", "POST", "/api/v1/memories/remember", nil, `{"content":"x","embedding":["a"]}`, 400, "embedding[0]"},
		{"embedding not array", "POST", "/api/v1/memories/remember", nil, `{"content":"x","embedding":{}}`, 400, "embedding"},
		{"confidence range", "POST", "/api/v1/memories/remember", nil, `{"content":"x","confidence":1.5}`, 400, "confidence"},
		{"confidence type", "POST", "/api/v1/memories/remember", nil, `{"content":"x","confidence":"high"}`, 400, "confidence"},
		{"memory type", "POST", "/api/v1/memories/remember", nil, `{"content":"x","memory_type":"dream"}`, 400, "memory_type"},
		{"bad json", "POST", "/api/v1/memories/remember", nil, `{"content":`, 400, "body"},
		{"trailing data", "POST", "/api/v1/memories/remember", nil, `{"content":"x"} {}`, 400, "body"},
		{"empty body", "POST", "/api/v1/memories/remember", nil, ``, 400, "body"},
		{"body too large", "POST", "/api/v1/memories/remember", nil, `{"content":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413, "body"},
		{"bad space header", "POST", "/api/v1/memories/remember", map[string]string{"X-Memory-Space": "a/b"}, `{"content":"x"}`, 400, "X-Memory-Space"},
		{"bad body space", "POST", "/api/v1/memories/remember", nil, `{"content":"x","memory_space_id":"a b"}`, 400, "memory_space_id"},
		{"simple store empty", "POST", "/api/v1/memories", nil, `{"content":""}`, 400, "content"},
		{"threshold range", "GET", "/api/v1/memories/recall?query=x&threshold=1.5", nil, "", 400, "threshold"},
		{"threshold nan", "GET", "/api/v1/memories/recall?query=x&threshold=NaN", nil, "", 400, "threshold"},
		{"threshold text", "GET", "/api/v1/memories/recall?query=x&threshold=high", nil, "", 400, "threshold"},
		{"max_results zero", "GET", "/api/v1/memories/recall?query=x&max_results=0", nil, "", 400, "max_results"},
		{"max_results text", "GET", "/api/v1/memories/recall?query=x&max_results=ten", nil, "", 400, "max_results"},
		{"recall embedding short", "GET", "/api/v1/memories/recall?embedding=" + url.QueryEscape(v767), nil, "", 400, "embedding"},
		{"recall nothing", "GET", "/api/v1/memories/recall", nil, "", 400, "query"},
		{"bad space param", "GET", "/api/v1/memories/recall?query=x&space=" + url.QueryEscape("ä"), nil, "", 400, "space"},
		{"search limit", "GET", "/api/v1/memories/search?limit=-1", nil, "", 400, "limit"},
		{"complete no episode", "POST", "/api/v1/complete", nil, `{}`, 400, "partial_episode"},
		{"complete nothing known", "POST", "/api/v1/complete", nil, `{"partial_episode":{"known_fields":{}}}`, 400, "partial_episode"},
		{"complete short embedding", "POST", "/api/v1/complete", nil, `{"partial_episode":{"partial_embedding":[1,null]}}`, 400, "partial_episode.partial_embedding"},
		{"complete cue", "POST", "/api/v1/complete", nil, `{"partial_episode":{"known_fields":{"a":"b"},"cue_strength":2}}`, 400, "partial_episode.cue_strength"},
		{"complete hypotheses", "POST", "/api/v1/complete", nil, `{"partial_episode":{"known_fields":{"a":"b"}},"config":{"num_hypotheses":0}}`, 400, "config.num_hypotheses"},
		{"complete iterations type", "POST", "/api/v1/complete", nil, `{"partial_episode":{"known_fields":{"a":"b"}},"config":{"max_iterations":"many"}}`, 400, "config.max_iterations"},
		{"space id missing", "POST", "/api/v1/spaces", nil, `{}`, 400, "id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(s, tc.method, tc.target, tc.header, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, clip(rec.Body.String(), 300))
			}
			if tc.field == "" {
				return
			}
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("error body is not JSON: %v", err)
			}
			if e.Field != tc.field || !strings.Contains(e.Message, tc.field) || e.Error == "" {
				t.Errorf("error = %+v, want field %q named in the message", e, tc.field)
			}
		})
	}
}
