package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
)

// TestBenchConfirmScript runs scripts/bench_confirm.sh as a user would, at
// 400 re-runs a row (seeded: the same numbers every run): the plans it
// reports are ConfirmPairs' and ConfirmLooks', the sequential re-run
// confirms a real regression at least as often as the fixed one, and far
// more often when the re-run is twice as noisy as the first stage; it
// measures between its first look's pairs and twice as many; and neither
// design confirms an identical head more often than alpha allows (0.01,
// plus three standard errors of 400 draws: 0.025).
func TestBenchConfirmScript(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: simulates 4 800 confirming re-runs")
	}
	testenv.Tools(t, "bash")
	out, err := exec.Command("bash", filepath.Join(testenv.ModuleRoot(t), "scripts", "bench_confirm.sh"), "400").CombinedOutput()
	if err != nil {
		t.Fatalf("bench_confirm.sh: %v\n%s", err, out)
	}
	head := regexp.MustCompile(`(?m)^first look: 10 pairs, cpu_per_op \+[0-9.]+ % \[\+[0-9.]+, \+[0-9.]+\]; fixed re-run ([0-9]+) pairs at alpha 0\.01; sequential ([0-9]+),([0-9]+), looks at 0\.005, 0\.005$`).FindSubmatch(out)
	if head == nil {
		t.Fatalf("no first-look line:\n%s", out)
	}
	k, first, last := atoi(t, string(head[1])), atoi(t, string(head[2])), atoi(t, string(head[3]))
	if k < 8 || first < 9 || last != 2*first {
		t.Errorf("plans: fixed %d pairs, looks %d,%d; want ≥ 8 (2/2⁸ < 0.01), ≥ 9 (2/2⁹ < 0.005) and twice that", k, first, last)
	}
	row := func(name string) (fixed, looks, pairs float64) {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +([0-9.]+) +([0-9.]+) +\S+ +[0-9]+ +([0-9.]+)$`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no row %q:\n%s", name, out)
		}
		f := func(b []byte) float64 {
			x, err := strconv.ParseFloat(string(b), 64)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		return f(m[1]), f(m[2]), f(m[3])
	}
	for _, name := range []string{"regressed, as noisy", "regressed, 1.5x noisier", "regressed, 2x noisier", "regressed, 3x noisier"} {
		fixed, looks, pairs := row(name)
		if looks < fixed || pairs < float64(first) || pairs > float64(last) {
			t.Errorf("%s: confirmed %.3f (fixed) and %.3f (looks) on %.1f pairs; want looks ≥ fixed on %d to %d pairs", name, fixed, looks, pairs, first, last)
		}
	}
	if fixed, looks, _ := row("regressed, 2x noisier"); looks < 2*fixed || looks < 0.5 {
		t.Errorf("twice as noisy: confirmed %.3f (fixed), %.3f (looks); want the looks at least twice as often, and in most re-runs", fixed, looks)
	}
	for _, name := range []string{"identical (false alarm)", "identical, 2x noisier"} {
		if fixed, looks, _ := row(name); fixed > 0.025 || looks > 0.025 {
			t.Errorf("%s: confirmed %.3f (fixed), %.3f (looks); want at most alpha 0.01 each (0.025 with the draws' error)", name, fixed, looks)
		}
	}
}
