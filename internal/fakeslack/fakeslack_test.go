package fakeslack

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, contentType, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestHook(t *testing.T) {
	h := Start(t, http.StatusTooManyRequests, http.StatusServiceUnavailable)
	if !strings.Contains(h.URL, "/services/") || !strings.HasSuffix(h.URL, Secret) {
		t.Errorf("URL %q is not shaped like a Slack webhook", h.URL)
	}
	tests := []struct {
		contentType, body string
		status            int
		retryAfter        string
	}{
		{"application/json", `{"text":"a"}`, http.StatusTooManyRequests, "3"},
		{"application/json", `{"text":"b"}`, http.StatusServiceUnavailable, ""},
		{"application/json", `{"text":"c"}`, http.StatusOK, ""},
		{"text/plain", `{"text":"d"}`, http.StatusBadRequest, ""},
		{"application/json", `not json`, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		resp := post(t, h.URL, tt.contentType, tt.body)
		if resp.StatusCode != tt.status || resp.Header.Get("Retry-After") != tt.retryAfter {
			t.Errorf("%s %s: status %d, Retry-After %q; want %d, %q", tt.contentType, tt.body, resp.StatusCode, resp.Header.Get("Retry-After"), tt.status, tt.retryAfter)
		}
	}
	if got := strings.Join(h.Texts(), " "); got != "a b c" {
		t.Errorf("texts %q, want the three valid messages a b c", got)
	}
	h.Reset(http.StatusInternalServerError)
	if resp := post(t, h.URL, "application/json", `{"text":"e"}`); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("after Reset: status %d, want 500", resp.StatusCode)
	}
	if got := h.Texts(); len(got) != 1 || got[0] != "e" {
		t.Errorf("after Reset: texts %q, want [e]", got)
	}
}
