package target

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// memLog holds a space's memories in the order they were first stored: the
// records in fixed-size chunks (slot n is the n-th memory stored) and the
// bytes of their id and content in an append-only text arena, so that
// memories stored one after another lie next to each other in memory, as a
// store's slabs or pages put them. Reading memories in the order they were
// stored then walks consecutive cache lines; reading them shuffled jumps.
//
// A slot is written only under the lock of its memory's shard and read
// under that lock (get) or while scanning that shard's rows (recall).
type memLog struct {
	next atomic.Int64 // slots handed out
	// dir is the chunk directory; it only grows. A reader loads it after
	// taking a shard lock, so it holds every chunk of that shard's slots.
	dir atomic.Pointer[[]*memChunk]
	mu  sync.Mutex // guards growth of dir and the text arena
	// text is the free tail of the current text chunk. Bytes handed out
	// are never written again.
	text     []byte
	textSize int
}

const (
	chunkBits = 6 // 64 records a chunk
	// textChunkMax bounds a text chunk; chunks start at 1 KiB and double,
	// so that a space of a few memories costs little.
	textChunkMax = 32 << 10
	// textInline is the longest string copied into the arena; longer
	// ones keep their own allocation.
	textInline = 4 << 10
)

type memChunk [1 << chunkBits]memory

// reserve hands out the next slot, its chunk allocated.
func (l *memLog) reserve() int32 {
	s := l.next.Add(1) - 1
	if d := l.dir.Load(); d == nil || int(s>>chunkBits) >= len(*d) {
		l.mu.Lock()
		d := l.dir.Load()
		var cur []*memChunk
		if d != nil {
			cur = *d
		}
		for int(s>>chunkBits) >= len(cur) {
			// append may reuse the backing array: readers holding the
			// old directory never index past its length.
			cur = append(cur, new(memChunk))
		}
		l.dir.Store(&cur)
		l.mu.Unlock()
	}
	return int32(s)
}

// view returns the slots handed out so far, for reading under a shard lock.
func (l *memLog) view() memView {
	if d := l.dir.Load(); d != nil {
		return *d
	}
	return nil
}

// memView is a loaded chunk directory.
type memView []*memChunk

// at returns slot s's record.
func (v memView) at(s int32) *memory {
	return &v[s>>chunkBits][s&(1<<chunkBits-1)]
}

// intern returns copies of ss laid out one after another in the text
// arena (strings longer than textInline are returned as they are).
func (l *memLog) intern(ss ...*string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range ss {
		s := *p
		if len(s) == 0 || len(s) > textInline {
			continue
		}
		if len(l.text) < len(s) {
			l.textSize = min(max(2*l.textSize, 1<<10), textChunkMax)
			l.text = make([]byte, max(l.textSize, len(s)))
		}
		n := copy(l.text, s)
		*p = unsafe.String(&l.text[0], n)
		l.text = l.text[n:]
	}
}
