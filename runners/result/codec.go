package result

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/engram/m18-gate/internal/atomicfile"
	"github.com/engram/m18-gate/internal/jsondoc"
)

// Decode reads one document. It rejects documents whose schema is missing or
// not SchemaVersion (wrapping jsondoc.ErrSchema), documents with fields this
// version does not define, so that a newer writer's output is never
// half-read, and anything after the document.
func Decode(r io.Reader) (*Document, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Unmarshal(data)
}

// Unmarshal is Decode over a byte slice.
func Unmarshal(data []byte) (*Document, error) {
	var d Document
	if err := jsondoc.Decode(data, SchemaVersion, "an m18-run result", &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Encode writes d as indented JSON, setting its schema.
func Encode(w io.Writer, d *Document) error {
	d.Schema = SchemaVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// ReadFile decodes the document at path; errors name the path.
func ReadFile(path string) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// WriteFile writes d to path atomically (atomicfile.Write), so a crash never
// leaves half a document; the file is readable by its owner only.
func WriteFile(path string, d *Document) error {
	var buf bytes.Buffer
	if err := Encode(&buf, d); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes(), 0o600)
}
