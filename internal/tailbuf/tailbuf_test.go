package tailbuf

import (
	"fmt"
	"strings"
	"testing"
)

func TestBuffer(t *testing.T) {
	tests := []struct {
		max    int
		writes []string
		want   string
	}{
		{12, nil, ""},
		{12, []string{"  \n"}, ""},
		{12, []string{"panic: x\n"}, "panic: x"},
		{12, []string{"0123456789ab"}, "0123456789ab"},
		{12, []string{"012", "3456789ab"}, "0123456789ab"},
		// head "012", tail the last nine bytes.
		{12, []string{"01234", "56789", "abcdef"}, "012\n…\n789abcdef"},
		{8, []string{"SIGSEGV\n", "goroutine 1\n", "rip 0x1\n"}, "SI\n…\np 0x1"},
	}
	for _, tt := range tests {
		b := New(tt.max)
		for _, w := range tt.writes {
			if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
				t.Errorf("Write(%q) = %d, %v", w, n, err)
			}
		}
		if got := b.String(); got != tt.want {
			t.Errorf("max %d, writes %q: %q, want %q", tt.max, tt.writes, got, tt.want)
		}
	}
}

// TestBufferConcurrent: writers at once (stdout and stderr copied into one
// buffer) keep whole writes and no more than max bytes: the first ones and
// the last ones.
func TestBufferConcurrent(t *testing.T) {
	b := New(64)
	done := make(chan bool)
	for w := range 2 {
		go func() {
			for i := range 1000 {
				fmt.Fprintf(b, "%d:%04d\n", w, i)
			}
			done <- true
		}()
	}
	<-done
	<-done
	head, tail, ok := strings.Cut(b.String(), "\n…\n")
	if !ok || len(head)+len(tail) > 64 || !strings.Contains(head, ":0000") || !strings.Contains(tail, ":0999") {
		t.Errorf("kept %q … %q; want at most 64 bytes, the first writes and the last", head, tail)
	}
}
