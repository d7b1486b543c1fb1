package competitor

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/engram/m18-gate/runners/load/client"
)

func TestNeighbors(t *testing.T) {
	if got := Neighbors(nil, 0, 100); len(got) != 0 {
		t.Fatalf("node 0 links to %v", got)
	}
	seen := map[uint64]int{}
	for i := uint64(1); i < 1000; i++ {
		nb := Neighbors(nil, i, 100)
		if len(nb) != Degree {
			t.Fatalf("node %d: %d links", i, len(nb))
		}
		for _, d := range nb {
			if d >= min(i, 100) {
				t.Fatalf("node %d links to %d, not an earlier preloaded node", i, d)
			}
			seen[d]++
		}
		if again := Neighbors(nil, i, 100); !equal(again, nb) {
			t.Fatalf("node %d: %v then %v", i, nb, again)
		}
	}
	// Spread over the preloaded nodes, not a few hubs.
	if len(seen) < 95 {
		t.Fatalf("only %d of 100 nodes are linked to", len(seen))
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDescribe(t *testing.T) {
	m := Mapping{client.Store: "insert", client.Search: "knn"}
	tests := []struct {
		ops     []client.Op
		missing string
	}{
		{ops: []client.Op{client.Store, client.Search}},
		{ops: []client.Op{client.Search, client.Recall}, missing: "x cannot express Recall, which the scenario sends (it expresses Store, Search); run a scenario with recall_weight = 0 against x"},
		{ops: []client.Op{client.Recall, client.PatternCompletion}, missing: "Recall, PatternCompletion"},
	}
	for _, tt := range tests {
		c, err := m.Describe("x", "1.0", "exact", tt.ops)
		if tt.missing == "" {
			if err != nil || len(c.Operations) != len(tt.ops) || c.Operations["Search"] != "knn" || c.Name != "x" {
				t.Errorf("%v: %+v, %v", tt.ops, c, err)
			}
			continue
		}
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tt.missing) || c != nil {
			t.Errorf("%v: %v", tt.ops, err)
		}
	}
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name, credential, prefix string
		want                     []string
	}{
		{"api-key", "k1", "", []string{"k1"}},
		{"Authorization", "t0k", "Bearer ", []string{"Bearer t0k"}},
		{"Authorization", "", "Bearer ", nil},
	}
	for _, tt := range tests {
		h := Header(tt.name, tt.credential, tt.prefix)
		if got := h.Values(tt.name); !slices.Equal(got, tt.want) || (tt.want == nil && len(h) != 0) {
			t.Errorf("Header(%q, %q, %q) = %v, want %s: %v", tt.name, tt.credential, tt.prefix, h, tt.name, tt.want)
		}
	}
}
