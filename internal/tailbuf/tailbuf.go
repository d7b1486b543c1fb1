// Package tailbuf keeps the end of a stream — a child process's stderr —
// so that an error can quote how the child ended without holding all it
// wrote.
package tailbuf

import (
	"bytes"
	"sync"
)

// Buffer is an io.Writer that keeps the last Max bytes written to it. It is
// safe for concurrent use (exec.Cmd may copy stdout and stderr into it at
// once).
type Buffer struct {
	mu  sync.Mutex
	max int
	b   []byte
	cut bool // bytes were dropped from the front
}

// New returns a Buffer that keeps the last max bytes.
func New(max int) *Buffer { return &Buffer{max: max} }

func (t *Buffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
		t.cut = true
	}
	return len(p), nil
}

// String is what was kept, less surrounding white space; cut text starts
// with "…".
func (t *Buffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(bytes.TrimSpace(t.b))
	if t.cut && s != "" {
		s = "…" + s
	}
	return s
}
