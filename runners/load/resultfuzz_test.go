package load

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/engram/m18-gate/runners/result"
)

// FuzzDecode feeds arbitrary bytes to the result decoder: it must never
// panic, and whatever it accepts must survive encode → decode unchanged.
// The seed corpus (testdata/fuzz/FuzzDecode) holds a real document, one of
// an unknown schema, one with an unknown field, and truncated JSON.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"schema":"m18.result/v1","run":{},"repetitions":[],"config_name":"x","per_operation_stats":{}}`))
	f.Add([]byte(`{"schema":"m18.result/v2"}`))
	f.Add([]byte(`{"schema":"m18.result/v1","bogus":1}`))
	f.Add([]byte(`{"schema":"m18.result/v1","repetitions":[{"overall":{"latency_ms":{"p99":`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := result.Unmarshal(data)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := result.Encode(&buf, d); err != nil {
			t.Fatalf("accepted document does not encode: %v", err)
		}
		back, err := result.Unmarshal(buf.Bytes())
		if err != nil {
			t.Fatalf("re-decoding an encoded document failed: %v\n%s", err, buf.Bytes())
		}
		if !reflect.DeepEqual(d, back) {
			t.Fatalf("document changed through encode/decode:\n%#v\n%#v", d, back)
		}
	})
}
