package load

import (
	"encoding/json"
	"fmt"
	"testing"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

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

// forEachPath runs f with the engine's event loop (where the system has
// one) and with its sender goroutines.
func forEachPath(t *testing.T, f func(t *testing.T, senders bool)) {
	t.Run("loop", func(t *testing.T) { f(t, false) })
	t.Run("senders", func(t *testing.T) { f(t, true) })
}
