package fakegithub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, s *Server, method, path, auth string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func newFake(opts ...Option) *Server {
	return New(append([]Option{
		WithToken("rw", ActionsToken(Write, Write)),
		WithToken("ro", ActionsToken(Read, Read)),
		WithToken("pat", UserToken("octocat")),
	}, opts...)...)
}

func TestAuth(t *testing.T) {
	s := newFake()
	defer s.Close()
	tests := []struct {
		auth   string
		status int
		msg    string
	}{
		{"", 401, "Requires authentication"},
		{"token nope", 401, "Bad credentials"},
		{"Basic cnc=", 401, "Requires authentication"},
		{"token pat", 200, "octocat"},
		{"Bearer pat", 200, "octocat"},
		{"bearer rw", 403, "Resource not accessible by integration"},
	}
	for _, tt := range tests {
		resp, body := do(t, s, "GET", "/user", tt.auth, nil)
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.msg) {
			t.Errorf("GET /user with %q: %d %s, want %d containing %q", tt.auth, resp.StatusCode, body, tt.status, tt.msg)
		}
	}
}

func TestCheckRunLimits(t *testing.T) {
	s := newFake()
	defer s.Close()
	ann := func(n int) []map[string]any {
		var out []map[string]any
		for i := 0; i < n; i++ {
			out = append(out, map[string]any{"path": "a.toml", "start_line": i + 1, "end_line": i + 1, "annotation_level": "failure", "message": "m"})
		}
		return out
	}
	create := func(auth string, output map[string]any) (*http.Response, []byte) {
		return do(t, s, "POST", "/repos/o/r/check-runs", auth, map[string]any{"name": "m18", "head_sha": "abc", "output": output})
	}
	resp, body := create("token rw", map[string]any{"title": "t", "summary": "s", "annotations": ann(51)})
	if resp.StatusCode != 422 || !strings.Contains(string(body), "No more than 50 items are allowed; 51 were supplied") {
		t.Errorf("51 annotations: %d %s", resp.StatusCode, body)
	}
	resp, body = create("token rw", map[string]any{"title": "t", "summary": strings.Repeat("é", 65536)})
	if resp.StatusCode != 422 || !strings.Contains(string(body), "65535") {
		t.Errorf("long summary: %d %s", resp.StatusCode, body)
	}
	resp, _ = create("token rw", map[string]any{"title": "t", "summary": strings.Repeat("é", 65535), "annotations": ann(50)})
	if resp.StatusCode != 201 {
		t.Fatalf("limits exactly: %d", resp.StatusCode)
	}
	resp, body = create("token ro", map[string]any{"title": "t", "summary": "s"})
	if resp.StatusCode != 403 || !strings.Contains(string(body), "Resource not accessible by integration") {
		t.Errorf("read-only create: %d %s", resp.StatusCode, body)
	}
	resp, body = create("token pat", map[string]any{"title": "t", "summary": "s"})
	if resp.StatusCode != 403 || !strings.Contains(string(body), "You must authenticate via a GitHub App.") {
		t.Errorf("a personal access token created a check run: %d %s", resp.StatusCode, body)
	}
	runs := s.CheckRuns("o", "r")
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	id := runs[0].ID
	resp, body = do(t, s, "PATCH", fmt.Sprintf("/repos/o/r/check-runs/%d", id), "token rw",
		map[string]any{"conclusion": "failure", "output": map[string]any{"title": "t2", "summary": "s2", "annotations": ann(20)}})
	if resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	var run CheckRun
	json.Unmarshal(body, &run)
	if run.Status != "completed" || run.Conclusion == nil || *run.Conclusion != "failure" || run.Output.AnnotationsCount != 70 || run.CompletedAt == nil {
		t.Errorf("after update: %+v", run)
	}
	// annotations list paginates
	resp, body = do(t, s, "GET", fmt.Sprintf("/repos/o/r/check-runs/%d/annotations?per_page=50&page=2", id), "token ro", nil)
	var anns []Annotation
	json.Unmarshal(body, &anns)
	if resp.StatusCode != 200 || len(anns) != 20 || !strings.Contains(resp.Header.Get("Link"), `rel="prev"`) {
		t.Errorf("annotations page 2: %d, %d items, Link %q", resp.StatusCode, len(anns), resp.Header.Get("Link"))
	}
}

func TestCommentsPagination(t *testing.T) {
	s := newFake()
	defer s.Close()
	for i := 0; i < 65; i++ {
		s.AddComment("o", "r", 7, "someone", fmt.Sprintf("c%d", i))
	}
	var seen int
	next := "/repos/o/r/issues/7/comments"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		resp, body := do(t, s, "GET", next, "token ro", nil)
		var cs []Comment
		if err := json.Unmarshal(body, &cs); err != nil {
			t.Fatal(err)
		}
		seen += len(cs)
		next = ""
		for _, l := range strings.Split(resp.Header.Get("Link"), ",") {
			if strings.Contains(l, `rel="next"`) {
				u := strings.TrimSpace(l)
				u = u[1:strings.Index(u, ">")]
				next = strings.TrimPrefix(u, s.URL)
			}
		}
	}
	if seen != 65 {
		t.Errorf("saw %d comments over the pages, want 65", seen)
	}
	resp, body := do(t, s, "POST", "/repos/o/r/issues/7/comments", "token ro", map[string]string{"body": "x"})
	if resp.StatusCode != 403 || !strings.Contains(string(body), "Resource not accessible by integration") {
		t.Errorf("read-only comment: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, s, "POST", "/repos/o/r/issues/7/comments", "token rw", map[string]string{"body": strings.Repeat("x", 65537)})
	if resp.StatusCode != 422 || !strings.Contains(string(body), "Body is too long") {
		t.Errorf("long comment: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, s, "POST", "/repos/o/r/issues/7/comments", "token rw", map[string]string{"body": "mine"})
	var cm Comment
	json.Unmarshal(body, &cm)
	if resp.StatusCode != 201 || cm.User.Login != BotLogin || cm.User.Type != "Bot" {
		t.Errorf("create: %d %+v", resp.StatusCode, cm)
	}
}

func TestRateLimits(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := newFake(WithClock(func() time.Time { return now }), WithRateLimit(RateLimit{Limit: 2, Window: time.Minute}))
	defer s.Close()
	for i, want := range []int{200, 200, 403} {
		resp, body := do(t, s, "GET", "/user", "token pat", nil)
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
		if resp.Header.Get("X-RateLimit-Limit") != "2" || resp.Header.Get("X-RateLimit-Resource") != "core" {
			t.Errorf("headers: %v", resp.Header)
		}
		if want == 403 && (resp.Header.Get("X-RateLimit-Remaining") != "0" || resp.Header.Get("X-RateLimit-Reset") != "1700000060") {
			t.Errorf("exhausted: remaining %q reset %q", resp.Header.Get("X-RateLimit-Remaining"), resp.Header.Get("X-RateLimit-Reset"))
		}
	}
	now = now.Add(time.Minute)
	if resp, _ := do(t, s, "GET", "/user", "token pat", nil); resp.StatusCode != 200 {
		t.Errorf("after the window: %d", resp.StatusCode)
	}
	s.Inject(SecondaryRateLimit(429, 7*time.Second).On("GET", "/user", 1))
	resp, _ := do(t, s, "GET", "/user", "token pat", nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("secondary: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	s.Inject(ServerError(502).On("", "/repos/*", 1))
	if resp, _ := do(t, s, "GET", "/repos/o/r/issues/1/comments", "token pat", nil); resp.StatusCode != 502 {
		t.Errorf("5xx: %d", resp.StatusCode)
	}
	if resp, _ := do(t, s, "GET", "/repos/o/r/issues/1/comments", "token pat", nil); resp.StatusCode != 200 {
		t.Errorf("after the fault: %d", resp.StatusCode)
	}
}

func TestPathPrefix(t *testing.T) {
	s := newFake(WithPathPrefix("/api/v3"))
	defer s.Close()
	if !strings.HasSuffix(s.URL, "/api/v3") {
		t.Fatalf("URL %q", s.URL)
	}
	if resp, _ := do(t, s, "GET", "/user", "token pat", nil); resp.StatusCode != 200 {
		t.Errorf("under the prefix: %d", resp.StatusCode)
	}
	resp, err := http.Get(strings.TrimSuffix(s.URL, "/api/v3") + "/user")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("outside the prefix: %d, want 404", resp.StatusCode)
	}
}

func TestParseToken(t *testing.T) {
	tests := []struct {
		spec, secret string
		id           Identity
		bad          bool
	}{
		{"ghs_x=github-actions[bot]:write", "ghs_x", Identity{Login: "github-actions[bot]", Installation: true, Checks: Write, PullRequests: Write}, false},
		{"octocat:read", "octocat", Identity{Login: "octocat", Checks: Read, PullRequests: Read}, false},
		{"t=bot[bot]:checks=write,pull-requests=read", "t", Identity{Login: "bot[bot]", Installation: true, Checks: Write, PullRequests: Read}, false},
		{"nologin", "", Identity{}, true},
		{"a:checks=admin", "", Identity{}, true},
	}
	for _, tt := range tests {
		secret, id, err := ParseToken(tt.spec)
		if (err != nil) != tt.bad || (!tt.bad && (secret != tt.secret || id != tt.id)) {
			t.Errorf("ParseToken(%q) = %q, %+v, %v", tt.spec, secret, id, err)
		}
	}
}
