package result

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/engram/m18-gate/internal/atomicfile"
)

// ErrUnknownSchema is wrapped by Decode when a document names a schema
// version this package does not read.
var ErrUnknownSchema = errors.New("unknown result schema")

// Decode reads one document. It rejects documents whose schema is missing or
// not SchemaVersion, and documents with fields this version does not define,
// so that a newer writer's output is never half-read.
func Decode(r io.Reader) (*Document, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Unmarshal(data)
}

// Unmarshal is Decode over a byte slice.
func Unmarshal(data []byte) (*Document, error) {
	var probe struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if probe.Schema == nil {
		return nil, fmt.Errorf("%w: field \"schema\" is missing (want %q; is this an m18-run result?)", ErrUnknownSchema, SchemaVersion)
	}
	if *probe.Schema != SchemaVersion {
		return nil, fmt.Errorf("%w: field \"schema\" is %q, this version reads %q only (upgrade m18-gate to read newer results)", ErrUnknownSchema, *probe.Schema, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("field error: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the document")
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
