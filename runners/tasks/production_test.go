package tasks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
)

var testWeights = [nOps]float64{0.3, 0.4, 0.2, 0.1}

func TestMatrixRows(t *testing.T) {
	m, err := DefaultCorrelation.Matrix(testWeights)
	if err != nil {
		t.Fatal(err)
	}
	for a, row := range m {
		var sum float64
		for _, p := range row {
			sum += p
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("row %s sums to %g", result.Operations[a], sum)
		}
	}
	// Given entries are kept; the rest of a row follows the weights:
	// store→recall 0.6, the other 0.4 over store, search, completion in
	// proportion 0.3 : 0.2 : 0.1.
	if m[load.Store][load.Recall] != 0.6 || math.Abs(m[load.Store][load.Search]-0.4*0.2/0.6) > 1e-12 {
		t.Errorf("store row %v", m[load.Store])
	}
	// A row with no given transition is the weights themselves.
	if math.Abs(m[load.PatternCompletion][load.Recall]-0.4) > 1e-12 {
		t.Errorf("completion row %v", m[load.PatternCompletion])
	}
	if _, err := (Correlation{Strength: 0.3, Transitions: []Transition{{From: "Store", To: "Nope", P: 0.5}}}).Matrix(testWeights); err == nil {
		t.Error("unknown operation accepted")
	}
	if _, err := (Correlation{Transitions: []Transition{{From: "Store", To: "Recall", P: 0.7}, {From: "Store", To: "Search", P: 0.5}}}).Matrix(testWeights); err == nil {
		t.Error("a row summing to 1.2 accepted")
	}
}

// TestChainRealisesCorrelation draws a long chain and checks the measured
// strength and transition frequencies against the values computed from
// the definition, s·T + (1−s)·w.
func TestChainRealisesCorrelation(t *testing.T) {
	for _, strength := range []float64{0, 0.3, 0.8} {
		c := DefaultCorrelation
		c.Strength = strength
		ch, err := newOpChain(c, testWeights, 11)
		if err != nil {
			t.Fatal(err)
		}
		ops := make([]load.Op, 200_000)
		for i := range ops {
			ops[i] = ch.next()
		}
		got, err := MeasureCorrelation(c, testWeights, ops)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got.Realised-strength) > 0.02 {
			t.Errorf("strength %g: realised %.4f", strength, got.Realised)
		}
		// store→recall: s·0.6 + (1−s)·0.4.
		want := strength*0.6 + (1-strength)*0.4
		if tr := got.Transitions[0]; math.Abs(tr.Expected-want) > 1e-12 || math.Abs(tr.Realised-want) > 0.01 {
			t.Errorf("strength %g: store→recall expected %.4f realised %.4f, want %.4f", strength, tr.Expected, tr.Realised, want)
		}
	}
	// An uncorrelated sequence measures near 0 against a 0.3 target: the
	// ratio check fails, as it must.
	mix, _ := load.NewMix(testWeights, 5)
	ops := make([]load.Op, 100_000)
	for i := range ops {
		ops[i] = mix.Pick()
	}
	got, _ := MeasureCorrelation(DefaultCorrelation, testWeights, ops)
	if got.Ratio > 0.2 {
		t.Errorf("independent operations measured ratio %.3f", got.Ratio)
	}
}

func TestProductionPR(t *testing.T) {
	if testing.Short() {
		t.Skip("runs task 001's pr budget (about 27 s)")
	}
	dir := t.TempDir()
	env := Env{Budget: BudgetPR, Seed: 0xDEADBEEF, Dir: dir}
	o, err := Production(context.Background(), env, ProductionBudget(BudgetPR))
	if err != nil && !errors.Is(err, load.ErrGeneratorBottleneck) {
		t.Fatal(err)
	}
	if err != nil {
		t.Logf("the generator slipped on this machine (the figures by intended time still hold): %v", err)
	}
	doc := trRoundTrip(t, o.Document)
	var rep ProductionReport
	trSection(t, doc, "001", &rep)
	if len(rep.Runs) != 1 {
		t.Fatalf("%d runs", len(rep.Runs))
	}
	r := rep.Runs[0]
	t.Logf("sent %d of %.0f (%.2f%%), χ²/dof %.2f (flat %.1f), correlation %.3f (ratio %.2f), p99 %.2f ms",
		r.Sent, r.Expected, 100*r.RateDeviation, r.ShapeChi2PerDOF, r.FlatChi2PerDOF, r.Correlation.Realised, r.Correlation.Ratio, r.P99Ms)
	// The shape is followed (counts by intended time do not depend on how
	// fast the machine is, only on nothing being dropped) and it is not
	// flat: the same counts against the mean rate are far off.
	if r.ShapeChi2PerDOF > 2 || r.FlatChi2PerDOF < 5 || r.RateDeviation > 0.03 || len(r.Windows) != 24 {
		t.Errorf("shape not followed: %+v", r)
	}
	if r.Correlation.Ratio < 0.8 || r.Correlation.Pairs < 4000 {
		t.Errorf("correlation %+v", r.Correlation)
	}
	for _, c := range o.Checks {
		if !c.Passed && !strings.Contains(c.Name, "error_rate") {
			t.Errorf("check failed: %s", c.Message)
		}
	}
	// The timeline has a row per completed request.
	f, err := os.Open(r.Timeline)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	rows := -1
	for sc.Scan() {
		if rows == -1 && sc.Text() != "intended_ms,sent_ms,op,status,latency_ms,service_ms" {
			t.Errorf("header %q", sc.Text())
		}
		rows++
	}
	if uint64(rows) != r.Sent {
		t.Errorf("timeline has %d rows for %d requests", rows, r.Sent)
	}
}

// roundTrip encodes and strictly decodes a document, as the gate reads it.
func trRoundTrip(t *testing.T, d *result.Document) *result.Document {
	t.Helper()
	if d == nil {
		t.Fatal("no document")
	}
	var buf bytes.Buffer
	if err := result.Encode(&buf, d); err != nil {
		t.Fatal(err)
	}
	back, err := result.Unmarshal(buf.Bytes())
	if err != nil {
		t.Fatalf("document does not decode: %v", err)
	}
	if back.TotalOperations == 0 || len(back.Repetitions) == 0 || back.Run.Scenario == "" {
		t.Errorf("document lacks figures: %d ops, %d repetitions, scenario %q", back.TotalOperations, len(back.Repetitions), back.Run.Scenario)
	}
	return back
}

// section decodes Document.Tasks[id] into v.
func trSection(t *testing.T, d *result.Document, id string, v any) {
	t.Helper()
	raw, ok := d.Tasks[id]
	if !ok {
		t.Fatalf("no tasks[%q] section", id)
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("tasks[%q]: %v", id, err)
	}
}
