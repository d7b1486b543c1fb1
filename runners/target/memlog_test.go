package target

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unsafe"
)

// TestStorageOrderLayout: memories stored one after another lie next to
// each other — record n+1 right after record n within a chunk, and the
// id and content bytes of consecutive memories consecutive in the text
// arena — whatever shard their ids hash to; a replaced memory keeps its
// slot.
func TestStorageOrderLayout(t *testing.T) {
	st := newStore()
	sp, _, _ := st.space("s")
	v := make([]float32, Dim)
	v[0] = 1
	const n = 200
	for i := range n {
		st.put(sp, memory{ID: fmt.Sprintf("m%03d", i), Content: fmt.Sprintf("content %03d", i)}, v)
	}
	mv := sp.log.view()
	if got := sp.log.next.Load(); got != n {
		t.Fatalf("%d slots for %d memories", got, n)
	}
	size := unsafe.Sizeof(memory{})
	for i := range int32(n) {
		m := mv.at(i)
		if want := fmt.Sprintf("m%03d", i); m.ID != want {
			t.Fatalf("slot %d holds %q, want %q (storage order)", i, m.ID, want)
		}
		if i%(1<<chunkBits) != 0 {
			if d := uintptr(unsafe.Pointer(m)) - uintptr(unsafe.Pointer(mv.at(i-1))); d != size {
				t.Errorf("record %d is %d bytes after record %d, want %d", i, d, i-1, size)
			}
		}
	}
	// The text of memory after memory, id then content, lies in one run
	// but where a new text chunk begins: 200 × 15 bytes fill chunks of
	// 1, 2 and 4 KiB, so at most a few breaks.
	breaks := 0
	var end unsafe.Pointer
	for i := range int32(n) {
		m := mv.at(i)
		for _, s := range []string{m.ID, m.Content} {
			p := unsafe.Pointer(unsafe.StringData(s))
			if end != nil && p != end {
				breaks++
			}
			end = unsafe.Add(p, len(s))
		}
	}
	if breaks > 3 {
		t.Errorf("%d breaks in the text arena, want ≤ 3", breaks)
	}
	// Replacing keeps the slot and the count.
	st.put(sp, memory{ID: "m007", Content: "replaced"}, v)
	if m := mv.at(7); m.Content != "replaced" || sp.log.next.Load() != n || sp.count.Load() != n {
		t.Errorf("after replace: slot 7 %+v, %d slots, count %d", m, sp.log.next.Load(), sp.count.Load())
	}
}

// TestGetMemories: GET /api/v1/memories?id=… answers the memories in the
// order asked, lists the ids not found, and names the field on bad input.
func TestGetMemories(t *testing.T) {
	s, err := NewServer(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"a", "b", "c"} {
		if rec := serve(s, http.MethodPost, "/api/v1/memories/remember", nil, `{"content":"text `+id+`","id":"`+id+`","memory_space_id":"s"}`); rec.Code != http.StatusCreated {
			t.Fatalf("store %s: %d %s", id, rec.Code, rec.Body)
		}
	}
	rec := serve(s, http.MethodGet, "/api/v1/memories?id=c&id=x&id=a&space=s", nil, "")
	var resp struct {
		Memories []struct {
			ID, Content string
		} `json:"memories"`
		Missing []string `json:"missing"`
		Space   string   `json:"memory_space_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if len(resp.Memories) != 2 || resp.Memories[0].ID != "c" || resp.Memories[1].Content != "text a" ||
		len(resp.Missing) != 1 || resp.Missing[0] != "x" || resp.Space != "s" {
		t.Errorf("answer %+v", resp)
	}
	for _, q := range []string{"", "?space=s", "?id=" + strings.Repeat("a&id=", maxResultsLimit) + "a"} {
		rec := serve(s, http.MethodGet, "/api/v1/memories"+q, nil, "")
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"id"`) {
			t.Errorf("%.40s: %d %s", q, rec.Code, rec.Body)
		}
	}
}
