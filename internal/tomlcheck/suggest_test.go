package tomlcheck

import (
	"math"
	"testing"
)

func TestSuggest(t *testing.T) {
	keys := []string{"threshold", "competitive_threshold", "direction", "ignore", "owners", "competitive", "store_weight", "recall_weight"}
	for _, tc := range []struct{ word, want string }{
		{"treshold", "threshold"},
		{"Threshold", "threshold"},
		{"ignor", "ignore"},
		{"store_weigth", "store_weight"}, // a transposition is one edit
		{"recal_weight", "recall_weight"},
		{"competitiv_treshold", "competitive_threshold"},
		{"owner_team", ""}, // five edits from "owners": another word
		{"xyz", ""},
		{"", ""},
	} {
		if got := Suggest(tc.word, keys); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.word, got, tc.want)
		}
	}
	if got := Suggest("x", nil); got != "" {
		t.Errorf("Suggest with no candidates = %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"weigth", "weight", 1}, {"ab", "ba", 1}, {"ça", "ca", 1}} {
		if got := EditDistance(tc.a, tc.b); got != tc.d {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want float64
		ok   bool
	}{{int64(5), 5, true}, {2.5, 2.5, true}, {math.Inf(1), math.Inf(1), true}, {"5", 0, false}, {true, 0, false}, {nil, 0, false}} {
		if got, ok := Number(tc.v); got != tc.want || ok != tc.ok {
			t.Errorf("Number(%#v) = %v, %v; want %v, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}
