package load

import (
	"encoding/json"
	"fmt"
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
