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
		{10, nil, ""},
		{10, []string{"  \n"}, ""},
		{10, []string{"panic: x\n"}, "panic: x"},
		{10, []string{"0123456789"}, "0123456789"},
		{10, []string{"01234", "56789", "ab"}, "…23456789ab"},
		{4, []string{"one line\n", "two\n"}, "…two"},
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
// buffer) keep whole writes and no more than max bytes.
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
	got := strings.TrimPrefix(b.String(), "…")
	if len(got) > 64 || !strings.Contains(got, ":0999") {
		t.Errorf("kept %d bytes %q; want at most 64 ending in the last writes", len(got), got)
	}
}
