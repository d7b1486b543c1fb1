package target

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRecallMatchesReference checks brute-force recall against cosine
// similarity computed independently in float64 and fully sorted.
func TestRecallMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 20))
	st := newStore()
	sp, _, _ := st.space("default")
	const n = 500
	raw := make([][]float32, n)
	for i := range raw {
		raw[i] = randomVector(r)
		// Skew a third of them towards the query direction so the threshold matters.
		if i%3 == 0 {
			for j := 0; j < Dim/2; j++ {
				raw[i][j] += 3
			}
		}
		v := slices.Clone(raw[i])
		normalize(v)
		st.put(sp, memory{ID: fmt.Sprintf("m%03d", i), Content: "c"}, v)
	}
	q := randomVector(r)
	for j := 0; j < Dim/2; j++ {
		q[j] += 3
	}
	type ref struct {
		id string
		s  float64
	}
	var want []ref
	for i, v := range raw {
		var d, na, nb float64
		for j := range v {
			d += float64(v[j]) * float64(q[j])
			na += float64(v[j]) * float64(v[j])
			nb += float64(q[j]) * float64(q[j])
		}
		want = append(want, ref{fmt.Sprintf("m%03d", i), d / math.Sqrt(na*nb)})
	}
	slices.SortFunc(want, func(a, b ref) int {
		if a.s > b.s {
			return -1
		}
		if a.s < b.s {
			return 1
		}
		return 0
	})
	qn := slices.Clone(q)
	normalize(qn)
	for _, tc := range []struct {
		threshold float32
		k         int
	}{{0.5, 10}, {0.5, 1000}, {-1, 7}, {0.99, 10}} {
		got, searched := st.recallVector(sp, qn, tc.threshold, tc.k)
		if searched != n {
			t.Errorf("searched %d, want %d", searched, n)
		}
		var exp []ref
		for _, w := range want {
			if w.s >= float64(tc.threshold)+1e-5 && len(exp) < tc.k {
				exp = append(exp, w)
			}
		}
		if len(got) < len(exp) || len(got) > tc.k {
			t.Fatalf("threshold %v k %d: %d hits, want %d", tc.threshold, tc.k, len(got), len(exp))
		}
		for i, e := range exp {
			if got[i].mem.ID != e.id || math.Abs(float64(got[i].score)-e.s) > 1e-4 {
				t.Errorf("threshold %v k %d: hit %d = %s %.5f, want %s %.5f", tc.threshold, tc.k, i, got[i].mem.ID, got[i].score, e.id, e.s)
			}
		}
		for _, h := range got {
			if h.score < tc.threshold {
				t.Errorf("hit %s below threshold: %v", h.mem.ID, h.score)
			}
		}
	}
}

func TestUpsertKeepsCount(t *testing.T) {
	st := newStore()
	sp, _, _ := st.space("s")
	v := make([]float32, Dim)
	v[0] = 1
	st.put(sp, memory{ID: "a", Content: "one"}, v)
	v2 := make([]float32, Dim)
	v2[1] = 1
	st.put(sp, memory{ID: "a", Content: "two"}, v2)
	if sp.count.Load() != 1 {
		t.Fatalf("count %d after upsert", sp.count.Load())
	}
	m, _ := st.get(sp, "a")
	hits, _ := st.recallVector(sp, v2, 0.9, 5)
	if m.Content != "two" || len(hits) != 1 || hits[0].mem.Content != "two" {
		t.Errorf("after upsert: %v %v", m, hits)
	}
}

func TestParseVector(t *testing.T) {
	full := func(tok string) string {
		s := "["
		for i := 0; i < Dim; i++ {
			if i > 0 {
				s += ","
			}
			if i == 3 {
				s += tok
			} else {
				s += "0.5"
			}
		}
		return s + "]"
	}
	tests := []struct {
		name, in  string
		allowNull bool
		wantErr   string // "" = ok
		nulls     int
	}{
		{"ok", full("-1.5e-3"), false, "", 0},
		{"spaces", " " + full(" 2 ") + "\n", false, "", 0},
		{"null allowed", full("null"), true, "", 1},
		{"null refused", full("null"), false, "e[3]", 0},
		{"overflow float32", full("1e39"), false, "e[3]", 0},
		{"overflow float64", full("1e400"), false, "e[3]", 0},
		{"word", full("abc"), false, "e[3]", 0},
		{"bad number", full("1-2"), false, "e[3]", 0},
		{"empty", "[]", false, "has 0 values", 0},
		{"short", "[1,2]", false, "has 2 values", 0},
		{"long", full("1,2"), false, "has 769 values", 0},
		{"not array", `{"a":1}`, false, "JSON array", 0},
		{"unterminated", "[1,2", false, "unterminated", 0},
		{"trailing", full("1") + "x", false, "after the array", 0},
		{"missing comma", "[1 2]", false, "expected ','", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, known, err := parseVector("e", tc.in, tc.allowNull)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(v) != Dim {
				t.Fatalf("len %d", len(v))
			}
			nulls := 0
			for _, k := range known {
				if !k {
					nulls++
				}
			}
			if nulls != tc.nulls || (tc.nulls == 0 && known != nil) {
				t.Errorf("nulls %d (mask %v), want %d", nulls, known != nil, tc.nulls)
			}
		})
	}
}

// TestConcurrentStoreRecall exercises stores, recalls, searches and space
// creation from many goroutines; run with -race.
func TestConcurrentStoreRecall(t *testing.T) {
	s, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, perWriter = 4, 100
	deadline := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(2)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 99))
			hdr := map[string]string{"X-Memory-Space": fmt.Sprintf("s%d", w%2)}
			for i := 0; i < perWriter && time.Now().Before(deadline); i++ {
				rec := serve(s, "POST", "/api/v1/memories/remember", hdr, rememberBody(fmt.Sprintf("w%d item %d", w, i), randomVector(r), ""))
				if rec.Code != 201 {
					t.Errorf("store: %d %s", rec.Code, rec.Body)
					return
				}
			}
		}(w)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			hdr := map[string]string{"X-Memory-Space": fmt.Sprintf("s%d", w%2)}
			for i := 0; i < 50 && time.Now().Before(deadline); i++ {
				target := "/api/v1/memories/recall?threshold=0&max_results=5&embedding=" + url.QueryEscape(vectorJSON(randomVector(r)))
				if i%3 == 0 {
					target = "/api/v1/memories/search?query=item"
				}
				if rec := serve(s, "GET", target, hdr, ""); rec.Code != 200 {
					t.Errorf("recall: %d %s", rec.Code, rec.Body)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if a, b := s.Len("s0"), s.Len("s1"); a != 2*perWriter || b != 2*perWriter {
		t.Errorf("Len = %d, %d; want %d each", a, b, 2*perWriter)
	}
}

// BenchmarkRecall measures one brute-force recall (top 10, threshold 0.5)
// over a space of N memories: O(N·768).
func BenchmarkRecall(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			st := newStore()
			sp, _, _ := st.space("default")
			r := rand.New(rand.NewPCG(1, uint64(n)))
			for i := 0; i < n; i++ {
				v := randomVector(r)
				normalize(v)
				st.put(sp, memory{ID: fmt.Sprintf("m%d", i)}, v)
			}
			q := randomVector(r)
			normalize(q)
			b.SetBytes(int64(n) * Dim * 4)
			b.ReportAllocs()
			for b.Loop() {
				st.recallVector(sp, q, 0.5, 10)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/memory")
		})
	}
}

// BenchmarkRememberHandler measures a full remember request through the
// handler (JSON decoding of a 768-value embedding included).
func BenchmarkRememberHandler(b *testing.B) {
	s, _ := NewServer(Options{})
	defer s.Close()
	body := rememberBody("benchmark memory", randomVector(rand.New(rand.NewPCG(1, 1))), "")
	b.ReportAllocs()
	for b.Loop() {
		if rec := serve(s, "POST", "/api/v1/memories/remember", nil, body); rec.Code != 201 {
			b.Fatal(rec.Code)
		}
	}
}
