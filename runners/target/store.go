package target

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// numShards is the number of shards per memory space. A store takes one
// shard's write lock; a recall takes each shard's read lock in turn, so
// stores and recalls on a space proceed concurrently.
const numShards = 16

// maxSpaces bounds how many memory spaces first use may create.
const maxSpaces = 4096

// memory is one stored memory's metadata, a record of its space's memLog;
// its unit embedding is row r of its shard's vecs, where r is the row of its
// slot in the shard's slots.
type memory struct {
	ID         string
	Content    string
	lower      string // strings.ToLower(Content), shared with Content when equal
	Confidence float32
	MemoryType string
	Tags       []string
	StoredAt   time.Time
}

// shard holds part of a space: its memories' slots in the space's memLog,
// and all their embeddings in one contiguous slice (no per-vector
// allocation, sequential scans). Row r is slot slots[r].
type shard struct {
	mu    sync.RWMutex
	slots []int32
	vecs  []float32 // len(slots)*Dim
	// sketches holds each embedding's projection, len(slots)*sketchDim.
	sketches []float32
	index    map[string]int // id → row
}

// space is one memory space (tenant).
type space struct {
	id      string
	created time.Time
	count   atomic.Int64
	shards  [numShards]shard
	log     memLog
}

// store is the set of memory spaces. Its lock guards only the map of spaces.
type store struct {
	// dot is the dot product of two rows' common multiple-of-8 length:
	// dot8, or dotScalar with Options.ScalarDot.
	dot    func(a, b []float32) float32
	proj   *projection
	seed   maphash.Seed
	mu     sync.RWMutex
	spaces map[string]*space
}

func newStore() *store {
	return &store{dot: dot8, proj: newProjection(0), seed: maphash.MakeSeed(), spaces: make(map[string]*space)}
}

// lookup returns the space or nil, without creating it.
func (st *store) lookup(id string) *space {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.spaces[id]
}

// space returns the space with this id, creating it on first use. created
// reports whether this call created it.
func (st *store) space(id string) (sp *space, created bool, err error) {
	if sp := st.lookup(id); sp != nil {
		return sp, false, nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if sp := st.spaces[id]; sp != nil {
		return sp, false, nil
	}
	if len(st.spaces) >= maxSpaces {
		return nil, false, &FieldError{Status: 507, Code: "too_many_spaces", Field: "space",
			Message: "the target holds at most 4096 memory spaces; reuse one"}
	}
	sp = &space{id: id, created: time.Now().UTC()}
	for i := range sp.shards {
		sp.shards[i].index = make(map[string]int)
	}
	st.spaces[id] = sp
	return sp, true, nil
}

// list returns the spaces sorted by id.
func (st *store) list() []*space {
	st.mu.RLock()
	out := make([]*space, 0, len(st.spaces))
	for _, sp := range st.spaces {
		out = append(out, sp)
	}
	st.mu.RUnlock()
	slices.SortFunc(out, func(a, b *space) int { return strings.Compare(a.id, b.id) })
	return out
}

// total returns the number of memories in all spaces.
func (st *store) total() int64 {
	var n int64
	for _, sp := range st.list() {
		n += sp.count.Load()
	}
	return n
}

func (st *store) shardOf(sp *space, id string) *shard {
	return &sp.shards[maphash.String(st.seed, id)%numShards]
}

// put stores m with the unit vector vec (Dim values, copied). A memory with
// the same id in the space is replaced in place.
func (st *store) put(sp *space, m memory, vec []float32) {
	if m.lower = strings.ToLower(m.Content); m.lower == m.Content {
		m.lower = m.Content
	}
	var sk [sketchDim]float32
	st.proj.sketch(vec, sk[:])
	sh := st.shardOf(sp, m.ID)
	sh.mu.Lock()
	if i, ok := sh.index[m.ID]; ok {
		// The replaced record's strings stay where they are; the new
		// ones keep their own allocation, so that replacing a memory
		// over and over does not grow the text arena.
		*sp.log.view().at(sh.slots[i]) = m
		copy(sh.vecs[i*Dim:(i+1)*Dim], vec)
		copy(sh.sketches[i*sketchDim:(i+1)*sketchDim], sk[:])
	} else {
		if m.lower == m.Content {
			sp.log.intern(&m.ID, &m.Content)
			m.lower = m.Content
		} else {
			sp.log.intern(&m.ID, &m.Content, &m.lower)
		}
		slot := sp.log.reserve()
		*sp.log.view().at(slot) = m
		sh.index[m.ID] = len(sh.slots)
		sh.slots = append(sh.slots, slot)
		sh.vecs = append(sh.vecs, vec[:Dim]...)
		sh.sketches = append(sh.sketches, sk[:]...)
		sp.count.Add(1)
	}
	sh.mu.Unlock()
}

// get returns the memory with this id.
func (st *store) get(sp *space, id string) (memory, bool) {
	sh := st.shardOf(sp, id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i, ok := sh.index[id]
	if !ok {
		return memory{}, false
	}
	return *sp.log.view().at(sh.slots[i]), true
}

// hit is one recall result.
type hit struct {
	score float32
	mem   memory
}

// topK is a bounded min-heap of hits: the weakest kept hit is at the root, so
// a candidate is compared once against it and most are discarded at once.
type topK struct {
	k    int
	hits []hit
}

// admits reports whether a hit with this score would be kept.
func (t *topK) admits(score float32) bool {
	return len(t.hits) < t.k || score > t.hits[0].score
}

// offer keeps the hit, evicting the weakest when full. Call it only when
// admits is true.
func (t *topK) offer(score float32, m *memory) {
	h := t.hits
	if len(h) < t.k {
		h = append(h, hit{score, *m})
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if h[p].score <= h[i].score {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		t.hits = h
		return
	}
	h[0] = hit{score, *m}
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(h) && h[l].score < h[small].score {
			small = l
		}
		if r := l + 1; r < len(h) && h[r].score < h[small].score {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}

// sorted returns the kept hits, best first.
func (t *topK) sorted() []hit {
	out := slices.Clone(t.hits)
	slices.SortFunc(out, func(a, b hit) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return strings.Compare(a.mem.ID, b.mem.ID)
	})
	return out
}

// recallVector returns up to k memories whose cosine similarity to the unit
// vector q is at least threshold, best first, and how many were searched.
//
// Up to exactRecallLimit memories in the space it is exact: one Dim-long dot
// product per memory. Beyond that it is approximate, as Engram's own index
// is: a first pass scans every shard's sketches (sketchDim multiply-adds per
// memory) for the best 2k+16 candidates of the whole space, and a second
// re-ranks just those by their exact similarity. Rows are only ever appended
// or replaced in place, so a candidate's row is still its memory in the
// second pass. A memory whose own embedding is the query is always found.
func (st *store) recallVector(sp *space, q []float32, threshold float32, k int) ([]hit, int) {
	t := &topK{k: k, hits: make([]hit, 0, k)}
	searched := 0
	if sp.count.Load() <= exactRecallLimit {
		for i := range sp.shards {
			sh := &sp.shards[i]
			sh.mu.RLock()
			mv := sp.log.view()
			vecs := sh.vecs
			for r, slot := range sh.slots {
				s := st.dot(q[:Dim], vecs[r*Dim:r*Dim+Dim])
				if s >= threshold && t.admits(s) {
					t.offer(s, mv.at(slot))
				}
			}
			searched += len(sh.slots)
			sh.mu.RUnlock()
		}
		return t.sorted(), searched
	}
	var qs [sketchDim]float32
	st.proj.sketch(q, qs[:])
	var cand candidates
	cand.reset(2*k + 16)
	for i := range sp.shards {
		sh := &sp.shards[i]
		sh.mu.RLock()
		sks := sh.sketches
		for r := range sh.slots {
			// The shard's index rides in the low bits of the row number.
			cand.offer(st.dot(qs[:], sks[r*sketchDim:r*sketchDim+sketchDim]), r*numShards+i)
		}
		searched += len(sh.slots)
		sh.mu.RUnlock()
	}
	for i := range sp.shards {
		sh := &sp.shards[i]
		sh.mu.RLock()
		mv := sp.log.view()
		for _, c := range cand.row {
			if int(c)%numShards != i {
				continue
			}
			r := int(c) / numShards
			s := st.dot(q[:Dim], sh.vecs[r*Dim:r*Dim+Dim])
			if s >= threshold && t.admits(s) {
				t.offer(s, mv.at(sh.slots[r]))
			}
		}
		sh.mu.RUnlock()
	}
	return t.sorted(), searched
}

// recallMasked is recall for pattern completion: similarity is the cosine
// over the known dimensions only (mask[i] = 1 known, 0 unknown). q must be
// zero at unknown dimensions and of unit length over the known ones.
func (st *store) recallMasked(sp *space, q, mask []float32, k int) ([]hit, int) {
	t := &topK{k: k, hits: make([]hit, 0, k)}
	searched := 0
	q, mask = q[:Dim], mask[:Dim]
	for i := range sp.shards {
		sh := &sp.shards[i]
		sh.mu.RLock()
		mv := sp.log.view()
		for r, slot := range sh.slots {
			row := sh.vecs[r*Dim : r*Dim+Dim]
			var d, nn float32
			for j, x := range row {
				d += q[j] * x
				nn += mask[j] * x * x
			}
			s := float32(0)
			if nn > 0 {
				s = d / sqrt32(nn)
			}
			if t.admits(s) {
				t.offer(s, mv.at(slot))
			}
		}
		searched += len(sh.slots)
		sh.mu.RUnlock()
	}
	return t.sorted(), searched
}

// recallText scores memories by the fraction of query terms their content
// contains (case-insensitive) and returns up to k with score >= threshold
// (k <= 0: all), best first, plus the number of matches (score > 0) and of
// memories searched.
func (st *store) recallText(sp *space, terms []string, threshold float32, k int) (hits []hit, matched, searched int) {
	limit := k
	if limit <= 0 {
		limit = int(sp.count.Load()) + 1
	}
	t := &topK{k: limit}
	for i := range sp.shards {
		sh := &sp.shards[i]
		sh.mu.RLock()
		mv := sp.log.view()
		for _, slot := range sh.slots {
			m := mv.at(slot)
			n := 0
			for _, term := range terms {
				if strings.Contains(m.lower, term) {
					n++
				}
			}
			s := float32(1)
			if len(terms) > 0 {
				s = float32(n) / float32(len(terms))
			}
			if s > 0 {
				matched++
			}
			if s > 0 && s >= threshold && t.admits(s) {
				t.offer(s, m)
			}
		}
		searched += len(sh.slots)
		sh.mu.RUnlock()
	}
	return t.sorted(), matched, searched
}

// vectorOf copies the stored unit vector of memory id into dst.
func (st *store) vectorOf(sp *space, id string, dst []float32) bool {
	sh := st.shardOf(sp, id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i, ok := sh.index[id]
	if ok {
		copy(dst, sh.vecs[i*Dim:(i+1)*Dim])
	}
	return ok
}

// queryTerms splits a text query into lower-case terms.
func queryTerms(q string) []string {
	return strings.Fields(strings.ToLower(q))
}
