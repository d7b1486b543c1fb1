// Package jsondoc reads the project's versioned JSON documents (results,
// verdicts, calibrations, series, samples, accept markers) one way: the
// "schema" field is read first, so that a file of another kind or version
// is named as such instead of failing on its first unknown field; then the
// document is decoded with every field known to this version and nothing
// after it, so that a newer writer's output or a typed-in typo is never
// half-read; errors name the field.
package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrSchema is wrapped by Decode's error when the "schema" field is
// missing or names another schema than the one asked for.
var ErrSchema = errors.New("unknown schema")

// Schema returns the "schema" field of data, which must be one JSON object
// and nothing after it; "" when the object has none.
func Schema(data []byte) (string, error) {
	var probe struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return "", fmt.Errorf("not a JSON object: %w", Explain(err))
	}
	if probe.Schema == nil {
		return "", nil
	}
	return *probe.Schema, nil
}

// Decode decodes data, one JSON object whose "schema" field is schema, into
// v. What names the document for a reader who gave the wrong file ("an
// m18-gate verdict"). It fails on a missing or other schema (wrapping
// ErrSchema), on a field v does not have, and on anything after the object.
func Decode(data []byte, schema, what string, v any) error {
	got, err := Schema(data)
	if err != nil {
		return err
	}
	if got != schema {
		return schemaError(got, schema, what)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	// Schema has checked that data is one JSON value and nothing after it.
	err = dec.Decode(v)
	// encoding/json has no error type for an unknown field, only this text.
	if name, ok := strings.CutPrefix(fmt.Sprint(err), "json: unknown field "); ok {
		return fmt.Errorf("field %s is not in %s (a typo, or a newer writer's field?)", name, schema)
	}
	return Explain(err)
}

// schemaError says what is wrong with the schema got, where want was
// asked for: missing, a version this build does not read, or another kind
// of document.
func schemaError(got, want, what string) error {
	switch {
	case got == "":
		return fmt.Errorf("%w: field \"schema\" is missing, want %q (is this %s?)", ErrSchema, want, what)
	case family(got) == family(want):
		return fmt.Errorf("%w: field \"schema\" is %q, this version reads %q only (a newer m18-gate reads newer documents)", ErrSchema, got, want)
	}
	return fmt.Errorf("%w: field \"schema\" is %q, want %q (is this %s?)", ErrSchema, got, want, what)
}

// family is a schema's name without its version: "m18.result" of
// "m18.result/v1".
func family(schema string) string {
	name, _, _ := strings.Cut(schema, "/")
	return name
}

// Explain rewords encoding/json's errors so that they name the field and
// the offset: a value of the wrong type names its field (or the top
// level), a syntax error its byte offset; other errors pass unchanged.
func Explain(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("field %q: JSON %s cannot be a %s", field, te.Value, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return err
}
