package gate

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/internal/gatetest"
	"github.com/engram/m18-gate/gate/verdict"
)

func TestCalibrate(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	aa := input.NewSet()
	aa.Files = []string{"aa.json"}
	aa.Fingerprints = []string{"f00000000000"}
	// add puts the values of metric (scenario s, operation overall) into set.
	add := func(set *input.Set, metric, unit string, values []float64) {
		for _, v := range values {
			set.Add(key("s", "overall", metric), unit, false, v)
		}
	}
	add(aa, "p50", "ms", gatetest.Lognormal(r, 100, 0.03, 30))
	add(aa, "p99", "ms", gatetest.Lognormal(r, 100, 0.40, 30))
	add(aa, "error_rate", "fraction", spread(0.02, 0.5, 30))
	aa.Add(key("s", "overall", "p95"), "ms", false, 1) // too few runs
	c, err := Calibrate(aa, 10, 0.01, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) != 3 || len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "only 1 run") {
		t.Fatalf("entries %+v notes %v", c.Entries, c.Notes)
	}
	p50, _ := c.Lookup(key("s", "overall", "p50"))
	p99, _ := c.Lookup(key("s", "overall", "p99"))
	er, _ := c.Lookup(key("s", "overall", "error_rate"))
	t.Logf("p50 cv %.4f mde %.4f; p99 cv %.4f mde %.4f; error rate mad %.4f mde %.4f points", p50.RobustCV, p50.MDE, p99.RobustCV, p99.MDE, er.MAD, er.MDE)
	if p50.RobustCV < 0.015 || p50.RobustCV > 0.05 || p50.MDE <= p50.RobustCV || p50.MDE > 0.1 {
		t.Errorf("p50: %+v", p50)
	}
	if p99.MDE < 5*p50.MDE {
		t.Errorf("p99 MDE %v should dwarf p50's %v", p99.MDE, p50.MDE)
	}
	if !er.Absolute || er.RobustCV != 0 || !(er.MDE > 0) {
		t.Errorf("error rate: %+v", er)
	}
	if _, err := Calibrate(aa, 3, 0.01, 0.8); err == nil || !strings.Contains(err.Error(), "use at least 5") {
		t.Errorf("n too small: %v", err)
	}

	// Round trip through a file.
	path := filepath.Join(t.TempDir(), "calibration.json")
	if err := WriteCalibration(path, c); err != nil {
		t.Fatal(err)
	}
	c2, err := ReadCalibration(path)
	if err != nil || len(c2.Entries) != 3 {
		t.Fatalf("read back: %v %+v", err, c2)
	}

	// A comparison the calibration covers reports its MDE; a noisy p99
	// that cannot be settled says so with the MDE.
	b, h := input.NewSet(), input.NewSet()
	add(b, "p50", "ms", gatetest.Lognormal(r, 100, 0.03, 10))
	add(h, "p50", "ms", gatetest.Lognormal(r, 110, 0.03, 10))
	add(b, "p99", "ms", gatetest.Lognormal(r, 100, 0.40, 10))
	add(h, "p99", "ms", gatetest.Lognormal(r, 110, 0.40, 10))
	b.Fingerprints = []string{"f00000000000"}
	h.Fingerprints = []string{"f00000000000"}
	p := testPolicy()
	p.Calibration = c2
	v, err := Compare(b, h, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmp := range v.Comparisons {
		if cmp.MDE == nil {
			t.Errorf("%s: no MDE", cmp.Metric)
			continue
		}
		want, _ := c2.Lookup(key(cmp.Scenario, cmp.Operation, cmp.Metric))
		if math.Abs(*cmp.MDE-want.MDE) > 1e-12 {
			t.Errorf("%s: MDE %v, want the calibration's %v for n = 10", cmp.Metric, *cmp.MDE, want.MDE)
		}
		if cmp.Metric == "p99" && (cmp.Decision != verdict.Inconclusive || !strings.Contains(cmp.Reason, "(MDE)")) {
			t.Errorf("p99: %s: %s", cmp.Decision, cmp.Reason)
		}
		t.Logf("%s: %s: %s", cmp.Metric, cmp.Decision, cmp.Reason)
	}
	// A calibration from another machine is flagged.
	p.AllowFingerprintMismatch = true
	h.Fingerprints = []string{"b00000000000"}
	v, err = Compare(b, h, p)
	if err != nil || !strings.Contains(strings.Join(v.Warnings, "\n"), "its MDEs describe another machine") {
		t.Errorf("calibration fingerprint: %v %v", err, v.Warnings)
	}
}
