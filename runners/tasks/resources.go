package tasks

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/engram/m18-gate/internal/atomicfile"
)

// resWriteJSON writes v as indented JSON to path atomically
// (atomicfile.Write), so a reader, or a crash, sees either the previous
// file or the new one, never half.
func resWriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return atomicfile.Write(path, append(b, '\n'), 0o644)
}

// resAppendLine appends one JSON line to path and syncs it.
func resAppendLine(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
