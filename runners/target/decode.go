package target

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Request limits. MaxContentBytes is Engram's (content.len() > 100_000 is
// rejected); the body limit leaves room for a maximal content JSON-escaped
// plus a 768-value embedding.
const (
	MaxContentBytes = 100_000
	MaxBodyBytes    = 1 << 20
	maxIDBytes      = 256
	maxTags         = 64
	maxSpaceBytes   = 64
	maxResultsLimit = 1000
	maxHypotheses   = 100
	maxIterations   = 1000
	defaultSpace    = "default"
)

// rememberRequest is the JSON body of POST /api/v1/memories/remember.
// Pointers tell "absent" from "zero"; embeddings stay raw for parseVector.
type rememberRequest struct {
	ID            *string         `json:"id"`
	Content       *string         `json:"content"`
	Embedding     json.RawMessage `json:"embedding"`
	Confidence    *float64        `json:"confidence"`
	Tags          []string        `json:"tags"`
	MemoryType    *string         `json:"memory_type"`
	MemorySpaceID *string         `json:"memory_space_id"`
}

// remember is a validated store request.
type remember struct {
	ID         string    // "" = assign one
	Content    string    // non-empty, at most MaxContentBytes
	Embedding  []float32 // nil or exactly Dim finite values
	Confidence float32   // in [0, 1], default 0.7
	Tags       []string
	MemoryType string // semantic, episodic or procedural
	Space      string // body memory_space_id, "" when absent
}

// decodeRemember decodes and validates a remember body. Unknown fields are
// ignored, as Engram (serde) ignores them; everything it reads is checked.
func decodeRemember(body []byte) (remember, error) {
	var req rememberRequest
	if err := unmarshalBody(body, &req); err != nil {
		return remember{}, err
	}
	out := remember{Confidence: 0.7, MemoryType: "semantic", Tags: req.Tags}
	if req.Content == nil {
		return remember{}, fieldErrorf("content", "is required: send the memory text as a non-empty string")
	}
	if err := checkContent(*req.Content); err != nil {
		return remember{}, err
	}
	out.Content = *req.Content
	if req.ID != nil {
		id := *req.ID
		if strings.TrimSpace(id) == "" || len(id) > maxIDBytes || strings.ContainsAny(id, "/?#") {
			return remember{}, fieldErrorf("id", "must be 1 to %d bytes without '/', '?' or '#' (got %q)", maxIDBytes, clip(id, 40))
		}
		out.ID = id
	}
	if len(req.Embedding) > 0 && string(req.Embedding) != "null" {
		v, _, err := parseVector("embedding", string(req.Embedding), false)
		if err != nil {
			return remember{}, err
		}
		out.Embedding = v
	}
	if req.Confidence != nil {
		c, err := checkUnit("confidence", *req.Confidence)
		if err != nil {
			return remember{}, err
		}
		out.Confidence = c
	}
	if len(req.Tags) > maxTags {
		return remember{}, fieldErrorf("tags", "has %d tags; at most %d allowed", len(req.Tags), maxTags)
	}
	if req.MemoryType != nil {
		switch t := *req.MemoryType; t {
		case "semantic", "episodic", "procedural":
			out.MemoryType = t
		default:
			return remember{}, fieldErrorf("memory_type", "must be semantic, episodic or procedural (got %q)", clip(t, 40))
		}
	}
	space, err := optionalSpace(req.MemorySpaceID)
	if err != nil {
		return remember{}, err
	}
	out.Space = space
	return out, nil
}

// decodeSimpleStore decodes the body of POST /api/v1/memories, which reads
// only content and confidence.
func decodeSimpleStore(body []byte) (remember, error) {
	var req struct {
		Content    *string  `json:"content"`
		Confidence *float64 `json:"confidence"`
	}
	if err := unmarshalBody(body, &req); err != nil {
		return remember{}, err
	}
	if req.Content == nil {
		return remember{}, fieldErrorf("content", "is required: send the memory text as a non-empty string")
	}
	if err := checkContent(*req.Content); err != nil {
		return remember{}, err
	}
	out := remember{Content: *req.Content, Confidence: 0.7, MemoryType: "semantic"}
	if req.Confidence != nil {
		c, err := checkUnit("confidence", *req.Confidence)
		if err != nil {
			return remember{}, err
		}
		out.Confidence = c
	}
	return out, nil
}

// completeRequest is the JSON body of POST /api/v1/complete.
type completeRequest struct {
	MemorySpaceID  *string `json:"memory_space_id"`
	PartialEpisode *struct {
		KnownFields      map[string]string `json:"known_fields"`
		PartialEmbedding json.RawMessage   `json:"partial_embedding"`
		CueStrength      *float64          `json:"cue_strength"`
		TemporalContext  []string          `json:"temporal_context"`
	} `json:"partial_episode"`
	Config *struct {
		CA1Threshold  *float64 `json:"ca1_threshold"`
		NumHypotheses *int     `json:"num_hypotheses"`
		MaxIterations *int     `json:"max_iterations"`
	} `json:"config"`
}

// complete is a validated pattern-completion request, with Engram's defaults
// (cue strength 0.7, CA1 threshold 0.7, 3 hypotheses, 7 iterations).
type complete struct {
	KnownFields   map[string]string
	Partial       []float32 // nil, or Dim values with unknown ones zero
	Known         []bool    // nil when every dimension of Partial is known
	KnownDims     int
	CueStrength   float32
	CA1Threshold  float32
	NumHypotheses int
	MaxIterations int
	Space         string
}

// decodeComplete decodes and validates a pattern-completion body.
func decodeComplete(body []byte) (complete, error) {
	var req completeRequest
	if err := unmarshalBody(body, &req); err != nil {
		return complete{}, err
	}
	out := complete{CueStrength: 0.7, CA1Threshold: 0.7, NumHypotheses: 3, MaxIterations: 7}
	pe := req.PartialEpisode
	if pe == nil {
		return complete{}, fieldErrorf("partial_episode", "is required: send {\"known_fields\": {...}, \"partial_embedding\": [768 numbers or nulls]}")
	}
	out.KnownFields = pe.KnownFields
	if len(pe.KnownFields) > maxTags {
		return complete{}, fieldErrorf("partial_episode.known_fields", "has %d fields; at most %d allowed", len(pe.KnownFields), maxTags)
	}
	if len(pe.PartialEmbedding) > 0 && string(pe.PartialEmbedding) != "null" && strings.TrimSpace(string(pe.PartialEmbedding)) != "[]" {
		v, known, err := parseVector("partial_episode.partial_embedding", string(pe.PartialEmbedding), true)
		if err != nil {
			return complete{}, err
		}
		out.Partial, out.Known = v, known
		out.KnownDims = Dim
		if known != nil {
			out.KnownDims = 0
			for _, k := range known {
				if k {
					out.KnownDims++
				}
			}
		}
	}
	if out.KnownDims == 0 {
		out.Partial, out.Known = nil, nil
		if len(pe.KnownFields) == 0 {
			return complete{}, fieldErrorf("partial_episode", "needs known_fields or a partial_embedding with at least one non-null value")
		}
	}
	if pe.CueStrength != nil {
		c, err := checkUnit("partial_episode.cue_strength", *pe.CueStrength)
		if err != nil {
			return complete{}, err
		}
		out.CueStrength = c
	}
	if c := req.Config; c != nil {
		if c.CA1Threshold != nil {
			t, err := checkUnit("config.ca1_threshold", *c.CA1Threshold)
			if err != nil {
				return complete{}, err
			}
			out.CA1Threshold = t
		}
		if c.NumHypotheses != nil {
			if n := *c.NumHypotheses; n < 1 || n > maxHypotheses {
				return complete{}, fieldErrorf("config.num_hypotheses", "must be 1 to %d (got %d)", maxHypotheses, n)
			}
			out.NumHypotheses = *c.NumHypotheses
		}
		if c.MaxIterations != nil {
			if n := *c.MaxIterations; n < 1 || n > maxIterations {
				return complete{}, fieldErrorf("config.max_iterations", "must be 1 to %d (got %d)", maxIterations, n)
			}
			out.MaxIterations = *c.MaxIterations
		}
	}
	space, err := optionalSpace(req.MemorySpaceID)
	if err != nil {
		return complete{}, err
	}
	out.Space = space
	return out, nil
}

// decodeSpace decodes the body of POST /api/v1/spaces: {"id": "..."}.
func decodeSpace(body []byte) (string, error) {
	var req struct {
		ID *string `json:"id"`
	}
	if err := unmarshalBody(body, &req); err != nil {
		return "", err
	}
	if req.ID == nil || *req.ID == "" {
		return "", fieldErrorf("id", "is required: send {\"id\": \"my-space\"}")
	}
	if err := checkSpace("id", *req.ID); err != nil {
		return "", err
	}
	return *req.ID, nil
}

// readBody reads at most MaxBodyBytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &FieldError{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large", Field: "body",
				Message: "is larger than 1 MiB; content is limited to 100000 bytes and the embedding to 768 numbers"}
		}
		return nil, fieldErrorf("body", "cannot be read: %v", err)
	}
	return b, nil
}

// unmarshalBody decodes one JSON object, mapping decoder errors to the field
// at fault.
func unmarshalBody(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return fieldErrorf("body", "is empty; send a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return fieldErrorf(te.Field, "must be a JSON %s (got %s)", jsonKind(te.Type.Kind().String()), te.Value)
		case errors.As(err, &te):
			return fieldErrorf("body", "must be a JSON object (got %s)", te.Value)
		case errors.As(err, &se):
			return fieldErrorf("body", "is not valid JSON at byte %d: %v", se.Offset, se)
		default:
			return fieldErrorf("body", "is not valid JSON: %v", err)
		}
	}
	return nil
}

// jsonKind names a Go kind the way a JSON user would.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "integer"
	case strings.HasPrefix(k, "float"):
		return "number"
	case k == "slice":
		return "array"
	case k == "map", k == "struct":
		return "object"
	case k == "ptr":
		return "value of the right type"
	}
	return k
}

func checkContent(c string) error {
	switch {
	case strings.TrimSpace(c) == "":
		return fieldErrorf("content", "must not be empty or whitespace only")
	case len(c) > MaxContentBytes:
		return fieldErrorf("content", "is %d bytes; at most %d bytes (100 KB) allowed, split it into smaller memories", len(c), MaxContentBytes)
	case !utf8.ValidString(c):
		return fieldErrorf("content", "must be valid UTF-8")
	}
	return nil
}

// checkUnit validates a value that must lie in [0, 1].
func checkUnit(field string, v float64) (float32, error) {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return 0, fieldErrorf(field, "must be a number in [0, 1] (got %v)", v)
	}
	return float32(v), nil
}

// optionalSpace validates the optional field memory_space_id: "" when it is
// absent or empty (the default space).
func optionalSpace(id *string) (string, error) {
	if id == nil || *id == "" {
		return "", nil
	}
	return *id, checkSpace("memory_space_id", *id)
}

// checkSpace validates a memory space id: 1 to 64 bytes of letters, digits,
// '-', '_' and '.'.
func checkSpace(field, id string) error {
	if id == "" || len(id) > maxSpaceBytes {
		return fieldErrorf(field, "memory space id must be 1 to %d bytes (got %d)", maxSpaceBytes, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fieldErrorf(field, "memory space id may hold only letters, digits, '-', '_' and '.' (got %q)", clip(id, 40))
		}
	}
	return nil
}
