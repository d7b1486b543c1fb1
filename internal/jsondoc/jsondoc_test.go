package jsondoc

import (
	"errors"
	"strings"
	"testing"
)

type doc struct {
	Schema string  `json:"schema"`
	N      int     `json:"n"`
	X      float64 `json:"x,omitempty"`
}

func TestDecode(t *testing.T) {
	const want = "m18.thing/v1"
	tests := []struct {
		name   string
		in     string
		schema bool // the error wraps ErrSchema
		err    string
		n      int
	}{
		{"ok", `{"schema": "m18.thing/v1", "n": 3}`, false, "", 3},
		{"ok, trailing white space", "{\"schema\": \"m18.thing/v1\", \"n\": 4}\n\n", false, "", 4},
		{"missing schema", `{"n": 3}`, true, `field "schema" is missing, want "m18.thing/v1" (is this a thing?)`, 0},
		{"newer version", `{"schema": "m18.thing/v2", "n": 3}`, true, `field "schema" is "m18.thing/v2", this version reads "m18.thing/v1" only`, 0},
		{"another kind", `{"schema": "m18.other/v1"}`, true, `field "schema" is "m18.other/v1", want "m18.thing/v1" (is this a thing?)`, 0},
		{"schema not a string", `{"schema": 1}`, false, `field "schema": JSON number cannot be a string`, 0},
		{"unknown field", `{"schema": "m18.thing/v1", "nn": 3}`, false, `field "nn" is not in m18.thing/v1`, 0},
		{"wrong type", `{"schema": "m18.thing/v1", "n": "3"}`, false, `field "n": JSON string cannot be a int`, 0},
		{"trailing object", `{"schema": "m18.thing/v1"} {}`, false, "after top-level value", 0},
		{"trailing garbage", `{"schema": "m18.thing/v1"} x`, false, "after top-level value", 0},
		{"not JSON", `{"schema": `, false, "invalid JSON at byte", 0},
		{"an array", `[1]`, false, "not a JSON object", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := Decode([]byte(tt.in), want, "a thing", &d)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.N != tt.n || d.Schema != want {
					t.Errorf("decoded %+v, want n %d", d, tt.n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			}
			if errors.Is(err, ErrSchema) != tt.schema {
				t.Errorf("errors.Is(%v, ErrSchema) = %v, want %v", err, !tt.schema, tt.schema)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{`{"schema": "m18.result/v1", "other": [1, 2]}`, "m18.result/v1", false},
		{`{"other": 1}`, "", false},
		{`{"schema": null}`, "", false},
		{`"m18.result/v1"`, "", true},
		{``, "", true},
	}
	for _, tt := range tests {
		got, err := Schema([]byte(tt.in))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("Schema(%s) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
