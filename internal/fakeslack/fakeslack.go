// Package fakeslack is a Slack incoming webhook for tests, on loopback: it
// keeps the text of every message posted to it and answers with the
// statuses a test gives it, as Slack does (429 with Retry-After). It is for
// tests only: Start takes a testing.TB and stops the hook when the test
// ends.
package fakeslack

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Secret is the last part of every hook's URL, the part of a Slack webhook
// that is a secret: a test can check that no output shows it.
const Secret = "fakeslackSecretHook"

// Hook is a running webhook.
type Hook struct {
	// URL is the webhook's address, shaped like Slack's
	// (http://127.0.0.1:PORT/services/T000/B000/ then Secret).
	URL string

	mu       sync.Mutex
	statuses []int
	texts    []string
}

// Start starts a hook that answers the first posts with statuses in turn,
// then 200 "ok"; it stops when t ends.
func Start(t testing.TB, statuses ...int) *Hook {
	h := &Hook{statuses: statuses}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	h.URL = srv.URL + "/services/T000/B000/" + Secret
	return h
}

// ServeHTTP takes one message: a JSON body {"text": ...} sent as
// application/json, else 400 invalid_payload as Slack answers.
func (h *Hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.texts = append(h.texts, p.Text)
	if len(h.statuses) > 0 {
		st := h.statuses[0]
		h.statuses = h.statuses[1:]
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "3")
		}
		w.WriteHeader(st)
		w.Write([]byte("rate_limited"))
		return
	}
	w.Write([]byte("ok"))
}

// Texts returns the texts of the messages received so far, in order.
func (h *Hook) Texts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.texts)
}

// Reset forgets the messages received and answers the next posts with
// statuses in turn, then 200.
func (h *Hook) Reset(statuses ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.texts, h.statuses = nil, statuses
}
