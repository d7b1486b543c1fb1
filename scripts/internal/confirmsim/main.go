// Command confirmsim compares, by simulation, the two designs of the gate's
// confirming re-run for scripts/bench_confirm.sh: a fixed re-run of the
// pairs gate.ConfirmPairs asks for, decided once at alpha, and the
// sequential re-run of gate.ConfirmLooks (its first look, then twice as
// many pairs while undecided, each look at half of alpha), both judged by
// gate.Confirm itself. The first verdict is a real gate.Compare of a
// CPU-per-request regression on simulated pairs; the re-runs' pairs are
// drawn with the first stage's spread times a factor (a machine busier
// during the re-run than before it), the same draws for both designs.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/runners/result"
)

func main() {
	draws := flag.Int("draws", 400, "simulated re-runs per row")
	change := flag.Float64("change", 0.12, "the true change of CPU per request (0.12: 12 % slower)")
	sigma := flag.Float64("sigma", 0.07, "the spread of one pair's log ratio during the first stage")
	pairs := flag.Int("pairs", 10, "pairs of the first stage")
	seed := flag.Uint64("seed", 1, "seed of the draws")
	flag.Parse()
	if err := run(*draws, *change, *sigma, *pairs, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "confirmsim:", err)
		os.Exit(1)
	}
}

var key = input.Key{Scenario: "sim", Operation: result.OpOverall, Metric: result.MetricCPUPerOp}

// sets are base and head sets of interleaved pairs whose log ratios are d.
func sets(d []float64) (base, head *input.Set) {
	base, head = input.NewSet(), input.NewSet()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, x := range d {
		base.AddAt(key, "ms", false, 1, t0.Add(time.Duration(2*i)*time.Minute))
		head.AddAt(key, "ms", false, math.Exp(x), t0.Add(time.Duration(2*i+1)*time.Minute))
	}
	return base, head
}

func draw(rng *rand.Rand, n int, mu, sigma float64) []float64 {
	d := make([]float64, n)
	for i := range d {
		d[i] = mu + sigma*rng.NormFloat64()
	}
	return d
}

// confirmed says whether the re-run on d confirmed first's regression.
func confirmed(first *verdict.Verdict, d []float64, p gate.Policy) (ok, goOn bool, err error) {
	b, h := sets(d)
	v, err := gate.Confirm(first, b, h, p)
	if err != nil {
		return false, false, err
	}
	c := v.Confirmation
	s := c.Sequential
	return c.Comparisons[0].Confirmed, s != nil && s.Continue, nil
}

func run(draws int, change, sigma float64, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x636f6e66))
	p := gate.DefaultPolicy()
	p.Paired = true
	// A first verdict that regressed, as the gate's first look saw it.
	var first *verdict.Verdict
	for range 1000 {
		b, h := sets(draw(rng, n, math.Log1p(change), sigma))
		v, err := gate.Compare(b, h, p)
		if err != nil {
			return err
		}
		if v.Summary.Outcome == verdict.OutcomeRegression {
			first = v
			break
		}
	}
	if first == nil {
		return fmt.Errorf("no regression found on %d pairs of a %+.0f %% change spread %g: give a larger -change or -pairs", n, 100*change, sigma)
	}
	c := gate.ToConfirm(first)[0]
	k, plan := gate.ConfirmPairs(first, p), gate.ConfirmLooks(first, p)
	levels := make([]string, len(plan))
	for i, m := range plan {
		_, spend, err := plan.Spend(p.Alpha, m)
		if err != nil {
			return err
		}
		levels[i] = render.Level(spend)
	}
	fmt.Printf("first look: %d pairs, cpu_per_op %+.1f %% [%+.1f, %+.1f]; fixed re-run %d pairs at alpha %s; sequential %s, looks at %s\n",
		n, 100*c.Change, 100*c.CILow, 100*c.CIHigh, k, render.Level(p.Alpha), plan, strings.Join(levels, ", "))
	fmt.Printf("%-28s %8s %8s %7s %12s %12s\n", "re-run", "fixed", "looks", "ratio", "fixed pairs", "looks pairs")
	// The identical rows' rates are α-sized false alarms: a ratio of two
	// of them is noise, and is not printed.
	rows := []struct {
		name        string
		shift, mult float64
		ratio       bool
	}{
		{"regressed, as noisy", math.Log1p(change), 1, true},
		{"regressed, 1.5x noisier", math.Log1p(change), 1.5, true},
		{"regressed, 2x noisier", math.Log1p(change), 2, true},
		{"regressed, 3x noisier", math.Log1p(change), 3, true},
		{"identical (false alarm)", 0, 1, false},
		{"identical, 2x noisier", 0, 2, false},
	}
	for _, r := range rows {
		var fixed, looks, lookPairs int
		for range draws {
			d := draw(rng, plan[len(plan)-1], r.shift, r.mult*sigma)
			ok, _, err := confirmed(first, d[:k], p)
			if err != nil {
				return err
			}
			if ok {
				fixed++
			}
			q := p
			q.Looks = plan
			for _, m := range plan {
				ok, goOn, err := confirmed(first, d[:m], q)
				if err != nil {
					return err
				}
				if ok {
					looks++
				}
				if !goOn {
					lookPairs += m // the pairs measured: the look it stopped at
					break
				}
			}
		}
		pf, pl := float64(fixed)/float64(draws), float64(looks)/float64(draws)
		ratio := "-"
		if r.ratio && fixed > 0 {
			ratio = fmt.Sprintf("%.2f", pl/pf)
		}
		fmt.Printf("%-28s %8.3f %8.3f %7s %12d %12.1f\n", r.name, pf, pl, ratio, k, float64(lookPairs)/float64(draws))
	}
	return nil
}
