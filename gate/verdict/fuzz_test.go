package verdict

import (
	"bytes"
	"strings"
	"testing"
)

// seedVerdict is a small valid verdict document.
const seedVerdict = `{"schema":"m18.verdict/v1","created_at":"2026-03-14T15:09:26Z","tool_version":"v1",
"alpha":0.01,"threshold":0.05,"competitive_threshold":0.1,
"base":{"commit":"0123456789abcdef"},"head":{"commit":"fedcba9876543210"},
"comparisons":[{"scenario":"ci/fast","operation":"overall","metric":"p99","unit":"ms","n_base":10,"n_head":10,
"base_median":1,"head_median":1.2,"change":0.2,"ci_low":0.1,"ci_high":0.3,"p_value":0.001,"p_adjusted":0.002,
"threshold":0.05,"decision":"regressed","reason":"slower"}],
"summary":{"regressed":1,"outcome":"regression"}}`

// FuzzDecode feeds Decode arbitrary bytes: it never panics, and a document
// it accepts encodes and decodes again to the same comparisons and
// outcome.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(seedVerdict))
	f.Add([]byte(strings.Replace(seedVerdict, `"regression"`, `"pass"`, 1)))
	f.Add([]byte(strings.Replace(seedVerdict, `"regressed"`, `"mystery"`, 1)))
	f.Add([]byte(`{"schema":"m18.verdict/v2"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Add([]byte(`{"schema":"m18.verdict/v1","unknown_field":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, v); err != nil {
			t.Fatalf("a decoded verdict does not encode: %v", err)
		}
		w, err := Decode(&buf)
		if err != nil {
			t.Fatalf("an encoded verdict does not decode: %v\n%s", err, buf.Bytes())
		}
		if len(w.Comparisons) != len(v.Comparisons) || w.Summary.Outcome != v.Summary.Outcome {
			t.Fatalf("round trip changed the verdict: %d/%q → %d/%q", len(v.Comparisons), v.Summary.Outcome, len(w.Comparisons), w.Summary.Outcome)
		}
	})
}
