package sizecap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		size    int64
		limit   int64
		wantErr string
	}{
		{10, 10, ""},
		{11, 10, "f.json: 11 bytes, over the 10 bytes limit for a result file"},
		{3 << 20, 2 << 20, "f.json: 3.0 MiB, over the 2.0 MiB limit for a result file"},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, "f.json")
		if err := os.WriteFile(p, make([]byte, tt.size), 0o644); err != nil {
			t.Fatal(err)
		}
		data, err := ReadFile(p, tt.limit, "result")
		if tt.wantErr == "" {
			if err != nil || int64(len(data)) != tt.size {
				t.Errorf("size %d limit %d: %d bytes, %v", tt.size, tt.limit, len(data), err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !strings.HasSuffix(err.Error(), "(is this the right file?)") || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("size %d limit %d: error %v, want %q", tt.size, tt.limit, err, tt.wantErr)
		}
	}
	// A stream is cut at the limit, and the error says "more than".
	_, err := ReadAll(strings.NewReader(strings.Repeat("x", 100)), 10, "verdict", "")
	if err == nil || err.Error() != "input: more than 10 bytes, over the 10 bytes limit for a verdict file (is this the right file?)" {
		t.Errorf("stream: %v", err)
	}
}
