package gate

import (
	"testing"

	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/gate/input"
)

const exampleConfig = `# .github/m18-gate.toml
[defaults]
alpha = 0.01
threshold = "5%"
competitive_threshold = 10
repetitions = 10

[tiers]
pr = ["ci/fast_regression_check"]
nightly = ["ci/fast_regression_check", "soak/24h"]

[metric."p99.9"]
threshold = "25%"

[scenario."ci/fast_regression_check"]
owners = ["@engram/storage"]
threshold = "8%"

[scenario."ci/fast_regression_check".metric.p99]
threshold = "15%"

[scenario."ci/fast_regression_check".metric.p99.operation.Search]
ignore = "search p99 is GC-bound until #412"

[scenario."ci/fast_regression_check".metric.error_rate]
threshold = "2%"

[scenario."competitive/hybrid_production_100k"]
competitive = true
competitive_threshold = "12%"

[metric.custom_score]
direction = "higher_is_better"
`

func TestRules(t *testing.T) {
	c, err := config.Parse(".github/m18-gate.toml", []byte(exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy().WithConfig(c)
	if p.Alpha != 0.01 || p.Threshold != 0.05 || p.CompetitiveThreshold != 0.10 || c.Defaults.Repetitions != 10 {
		t.Errorf("defaults: %+v %+v", p, c.Defaults)
	}
	if tier, ok := c.Tier("nightly"); !ok || len(tier) != 2 {
		t.Errorf("tier nightly = %v, %v", tier, ok)
	}
	const fast = "ci/fast_regression_check"
	tests := []struct {
		key        input.Key
		threshold  float64
		comp       bool
		ignore     string
		line       int
		owners     int
		noSource   bool
		higherBest bool
	}{
		{key(fast, "overall", "p50"), 0.08, false, "", 15, 1, false, false},
		{key(fast, "overall", "p99"), 0.15, false, "", 19, 1, false, false},
		{key(fast, "Search", "p99"), 0.15, false, "search p99 is GC-bound until #412", 22, 1, false, false},
		{key(fast, "overall", "p99.9"), 0.08, false, "", 15, 1, false, false}, // the scenario beats [metric."p99.9"]
		{key("other", "overall", "p99.9"), 0.25, false, "", 12, 0, false, false},
		{key("other", "overall", "p50"), 0.05, false, "", 0, 0, true, false},
		{key(fast, "overall", "error_rate"), 0.02, false, "", 25, 1, false, false},
		{key("other", "overall", "error_rate"), 0.05, false, "", 0, 0, true, false},
		{key("competitive/hybrid_production_100k", "overall", "p99"), 0.12, true, "", 28, 0, false, false},
		{key("competitive/hybrid_production_100k", "overall", "throughput"), 0.12, true, "", 28, 0, false, false},
		// Error rates stay internal and absolute, also in competitive scenarios.
		{key("competitive/hybrid_production_100k", "overall", "error_rate"), 0.05, false, "", 28, 0, false, false},
		{key("x", input.NoOperation, "custom_score"), 0.05, false, "", 32, 0, false, true},
	}
	for _, tt := range tests {
		_, hib := input.MetricInfo(tt.key.Metric)
		r := p.Rule(tt.key, hib)
		if !approx(r.Threshold, tt.threshold) || r.Competitive != tt.comp || r.Ignore != tt.ignore || len(r.Owners) != tt.owners {
			t.Errorf("%v: %+v, want threshold %v competitive %v ignore %q owners %d", tt.key, r, tt.threshold, tt.comp, tt.ignore, tt.owners)
		}
		if tt.noSource != (r.Source == nil) || (r.Source != nil && (r.Source.Line != tt.line || r.Source.Path != ".github/m18-gate.toml")) {
			t.Errorf("%v: source %+v, want line %d", tt.key, r.Source, tt.line)
		}
		if r.HigherIsBetter != (hib || tt.higherBest) {
			t.Errorf("%v: direction changed", tt.key)
		}
	}
	// The competitive flag makes everything competitive.
	p.Competitive = true
	if r := p.Rule(key("other", "overall", "p50"), false); !r.Competitive || r.Threshold != 0.10 {
		t.Errorf("--competitive: %+v", r)
	}
}
