package target

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/ and run as part of every
// `go test`; `go test -fuzz=FuzzDecodeRemember ./runners/target` explores.

// FuzzDecodeRemember checks that decoding any body neither panics nor lets
// an invalid memory through, and that every rejection names a field.
func FuzzDecodeRemember(f *testing.F) {
	f.Add([]byte(`{"content":"hello","confidence":0.5,"memory_type":"episodic","tags":["a"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := decodeRemember(body)
		if err != nil {
			checkFieldError(t, err)
			return
		}
		if strings.TrimSpace(m.Content) == "" || len(m.Content) > MaxContentBytes {
			t.Fatalf("accepted content of %d bytes", len(m.Content))
		}
		if m.Embedding != nil {
			if len(m.Embedding) != Dim {
				t.Fatalf("accepted %d-dim embedding", len(m.Embedding))
			}
			for i, v := range m.Embedding {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("accepted non-finite embedding[%d] = %v", i, v)
				}
			}
		}
		if m.Confidence < 0 || m.Confidence > 1 {
			t.Fatalf("accepted confidence %v", m.Confidence)
		}
		switch m.MemoryType {
		case "semantic", "episodic", "procedural":
		default:
			t.Fatalf("accepted memory_type %q", m.MemoryType)
		}
		if m.Space != "" && checkSpace("x", m.Space) != nil {
			t.Fatalf("accepted space %q", m.Space)
		}
	})
}

// FuzzDecodeComplete does the same for pattern-completion bodies.
func FuzzDecodeComplete(f *testing.F) {
	f.Add([]byte(`{"partial_episode":{"known_fields":{"what":"x"},"cue_strength":0.5},"config":{"num_hypotheses":2}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := decodeComplete(body)
		if err != nil {
			checkFieldError(t, err)
			return
		}
		if c.Partial == nil && len(c.KnownFields) == 0 {
			t.Fatal("accepted a request with nothing known")
		}
		if c.Partial != nil {
			if len(c.Partial) != Dim || c.KnownDims < 1 || c.KnownDims > Dim {
				t.Fatalf("accepted partial of %d dims, %d known", len(c.Partial), c.KnownDims)
			}
			if c.Known != nil && len(c.Known) != Dim {
				t.Fatalf("mask of %d", len(c.Known))
			}
		}
		if c.NumHypotheses < 1 || c.NumHypotheses > maxHypotheses || c.MaxIterations < 1 || c.MaxIterations > maxIterations {
			t.Fatalf("accepted config %+v", c)
		}
		if c.CueStrength < 0 || c.CueStrength > 1 || c.CA1Threshold < 0 || c.CA1Threshold > 1 {
			t.Fatalf("accepted cue %v threshold %v", c.CueStrength, c.CA1Threshold)
		}
	})
}

// FuzzParseVector checks the embedding parser used for bodies and the
// recall query string.
func FuzzParseVector(f *testing.F) {
	f.Add("[1,2,3]", true)
	f.Add(" [null, -1e-3 ,2E+2] ", false)
	f.Fuzz(func(t *testing.T, s string, allowNull bool) {
		v, known, err := parseVector("embedding", s, allowNull)
		if err != nil {
			checkFieldError(t, err)
			return
		}
		if len(v) != Dim || (known != nil && (len(known) != Dim || !allowNull)) {
			t.Fatalf("accepted vector of %d values, mask %d", len(v), len(known))
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("accepted %v", x)
			}
		}
	})
}

func checkFieldError(t *testing.T, err error) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field == "" || fe.Status != 400 || fe.Message == "" {
		t.Fatalf("error %v (%T) does not name a field", err, err)
	}
}
