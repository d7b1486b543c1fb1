package gate

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/gate/internal/gatetest"
	"github.com/engram/m18-gate/internal/testenv"
)

// BenchmarkCompare times a verdict over 100 scenarios × 6 metrics × 20 runs
// per side (600 comparisons): a tenth of them shifted by 10 %, a tenth by
// 4 % (inconclusive), the rest identical in distribution.
func BenchmarkCompare(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	base, head := input.NewSet(), input.NewSet()
	metrics := []string{"p50", "p95", "p99", "p99.9", "mean", "throughput"}
	i := 0
	for s := range 100 {
		for _, m := range metrics {
			unit, hib := input.MetricInfo(m)
			shift := 0.0
			switch i % 10 {
			case 3:
				shift = 0.10
			case 7:
				shift = 0.04
			}
			i++
			k := key(fmt.Sprintf("scenario-%03d", s), "overall", m)
			for _, v := range gatetest.Lognormal(r, 100, 0.03, 20) {
				base.Add(k, unit, hib, v)
			}
			for _, v := range gatetest.Lognormal(r, 100*(1+shift), 0.03, 20) {
				head.Add(k, unit, hib, v)
			}
		}
	}
	p := DefaultPolicy()
	b.ReportAllocs()
	cpu0 := testenv.CPUTime()
	for b.Loop() {
		if _, err := Compare(base, head, p); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time per verdict, which a loaded machine inflates far less than
	// wall time (ns/op); on an idle machine wall ≈ cpu / GOMAXPROCS.
	testenv.ReportCPU(b, cpu0)
}
