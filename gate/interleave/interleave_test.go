package interleave

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/input"
)

func TestOrder(t *testing.T) {
	want := []string{"base", "head", "head", "base", "base", "head"}
	if got := Order(3); !slices.Equal(got, want) {
		t.Fatalf("Order(3) = %v, want %v", got, want)
	}
}

func TestDo(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "order.log")
	// Each run appends its side to a log, so the order is checked from
	// what really ran; base reports 100 ns/op, head 120.
	bench := func(side, ns string) string {
		return "echo " + side + " >> " + log + "; echo 'BenchmarkX-2 1000 " + ns + " ns/op'"
	}
	base, head, runs, err := Do(context.Background(), Options{
		Base:  Command{Shell: bench("base", "100")},
		Head:  Command{Shell: bench("head", "120")},
		Count: 4, Out: filepath.Join(dir, "out"),
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(log)
	if got := strings.Fields(string(b)); !slices.Equal(got, Order(4)) {
		t.Errorf("ran %v, want %v", got, Order(4))
	}
	k := input.Key{Scenario: "X-2", Operation: input.NoOperation, Metric: "sec/op"}
	bs, hs := base.Samples[k], head.Samples[k]
	if bs == nil || hs == nil || len(bs.Values) != 4 || len(hs.Values) != 4 || math.Abs(bs.Values[0]-100e-9) > 1e-15 || math.Abs(hs.Values[3]-120e-9) > 1e-15 {
		t.Fatalf("samples: base %+v head %+v", *bs, *hs)
	}
	for i, r := range runs {
		side := Order(4)[i]
		if r.Side != side {
			t.Errorf("run %d is %s, want %s", i, r.Side, side)
		}
		s := bs
		if side == "head" {
			s = hs
		}
		if !s.Starts[r.Index-1].Equal(r.Start) {
			t.Errorf("run %d: sample start %v, run start %v", i, s.Starts[r.Index-1], r.Start)
		}
		// The stored file pairs on its own: it says when it ran.
		again, err := input.Load(r.Path)
		if err != nil || !again.Samples[k].Starts[0].Equal(r.Start) {
			t.Errorf("%s: reread start %v (%v), want %v", r.Path, again.Samples[k].Starts, err, r.Start)
		}
	}
}

func TestDoResultFileAndFailure(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	// A tool that writes a JSON file (here m18.samples/v1), like
	// hyperfine --export-json.
	write := func(v string) string {
		return `printf '{"schema":"m18.samples/v1","benchmarks":[{"name":"q","unit":"s","values":[` + v + `]}]}' > res.json`
	}
	base, head, _, err := Do(context.Background(), Options{
		Base: Command{Shell: write("1"), Dir: dir}, Head: Command{Shell: write("2"), Dir: dir},
		Count: 2, ResultFile: "res.json", Out: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	k := input.Key{Scenario: "q", Operation: input.NoOperation, Metric: "time"}
	if got := base.Samples[k].Values; !slices.Equal(got, []float64{1, 1}) || head.Samples[k].Values[1] != 2 || base.Samples[k].Starts[0].IsZero() {
		t.Errorf("base %v head %v", got, head.Samples[k].Values)
	}
	if _, err := os.Stat(filepath.Join(out, "head-002.json")); err != nil {
		t.Error(err)
	}
	// A command that fails, or writes no result file: the error names the
	// side and the run.
	_, _, _, err = Do(context.Background(), Options{
		Base: Command{Shell: write("1"), Dir: dir}, Head: Command{Shell: "exit 3", Dir: dir},
		Count: 2, ResultFile: "res.json", Out: out,
	})
	if err == nil || !strings.Contains(err.Error(), "head run 1") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing head: err = %v", err)
	}
	_, _, _, err = Do(context.Background(), Options{
		Base: Command{Shell: "true", Dir: dir}, Head: Command{Shell: write("1"), Dir: dir},
		Count: 1, ResultFile: "res.json", Out: out,
	})
	if err == nil || !strings.Contains(err.Error(), "base run 1") || !strings.Contains(err.Error(), "did not write its result file") {
		t.Errorf("no result file: err = %v", err)
	}
}
