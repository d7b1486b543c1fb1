package input

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/sizecap"
)

// TestLoadRefusesOversizedFile: an input over MaxFileBytes is refused with
// an error naming the file, before it is read whole.
func TestLoadRefusesOversizedFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileBytes + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	_, err = Load(p)
	var se *sizecap.Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), p) {
		t.Errorf("Load of a %d-byte file: %v, want a sizecap.Error naming it", MaxFileBytes+1, err)
	}
}
