package scenario

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/engram/m18-gate/internal/tomlcheck"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic or hang;
// every failure must be Errors whose problems name the file; every success
// must be a valid scenario. The seed corpus (testdata/fuzz/FuzzParse) holds
// the shipped scenarios, variations and bad inputs; f.Add adds the rest.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	for _, info := range Builtins() {
		data, err := builtinFS.ReadFile("builtin/" + info.Name + ".toml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Every key the real parser sees, the line scanner must place.
		var doc map[string]any
		if md, err := toml.Decode(string(data), &doc); err == nil {
			lines := tomlcheck.Lines(string(data))
			for _, k := range md.Keys() {
				if lines[k.String()] < 1 {
					t.Fatalf("tomlcheck.Lines has no line for key %s", k)
				}
			}
		}
		sc, err := Parse("fuzz.toml", data)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not a non-empty Errors: %T %v", err, err)
			}
			for _, p := range errs {
				if !strings.HasPrefix(p.Error(), "scenario fuzz.toml") || p.Line < 0 {
					t.Fatalf("badly formed problem: %q (line %d)", p.Error(), p.Line)
				}
			}
			return
		}
		o := sc.Operations
		sum := o.Store + o.Recall + o.Search + o.PatternCompletion
		if math.Abs(sum-1) > 1e-9 || o.Store < 0 || o.Recall < 0 || o.Search < 0 || o.PatternCompletion < 0 {
			t.Fatalf("accepted operations %+v", o)
		}
		if !(sc.Arrival.MeanRate() > 0) || sc.Duration.TotalSeconds <= 0 {
			t.Fatalf("accepted arrival %+v duration %+v", sc.Arrival, sc.Duration)
		}
		if sc.Data.NumNodes < 1 || sc.Data.EmbeddingDim < 1 || sc.Data.MemorySpaces < 1 {
			t.Fatalf("accepted data %+v", sc.Data)
		}
		e := sc.Effective()
		if e.WarmupSeconds < 0 || e.MaxRequests == 0 {
			t.Fatalf("Effective() = %+v", e)
		}
	})
}
