// Package tailbuf keeps the two ends of a stream — a child process's
// stderr — so that an error can quote how the child ended without holding
// all it wrote: the beginning, where a crash usually says what happened
// ("panic: …", "SIGSEGV: …", "thread 'main' panicked at …"), and the end,
// where a program's last words are.
package tailbuf

import (
	"bytes"
	"slices"
	"sync"
)

// Buffer is an io.Writer that keeps the first quarter of Max bytes written
// to it and the last three quarters. It is safe for concurrent use
// (exec.Cmd may copy stdout and stderr into it at once).
type Buffer struct {
	mu   sync.Mutex
	head []byte // the first bytes, up to max/4
	tail []byte // the last bytes after head, up to max - max/4
	max  int
	cut  bool // bytes were dropped between head and tail
}

// New returns a Buffer that keeps max bytes: the first max/4 and the last
// max − max/4.
func New(max int) *Buffer { return &Buffer{max: max} }

func (t *Buffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if room := t.max/4 - len(t.head); room > 0 {
		k := min(room, len(p))
		t.head = append(t.head, p[:k]...)
		p = p[k:]
	}
	t.tail = append(t.tail, p...)
	if keep := t.max - t.max/4; len(t.tail) > keep {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-keep:]...)
		t.cut = true
	}
	return n, nil
}

// String is what was kept, less surrounding white space, with "\n…\n"
// where bytes were dropped.
func (t *Buffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.cut {
		return string(bytes.TrimSpace(append(slices.Clone(t.head), t.tail...)))
	}
	return string(bytes.TrimSpace(t.head)) + "\n…\n" + string(bytes.TrimSpace(t.tail))
}
