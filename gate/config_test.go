package gate

import (
	"strings"
	"testing"
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

func TestConfigRules(t *testing.T) {
	c, err := ParseConfig(".github/m18-gate.toml", []byte(exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Apply(DefaultPolicy())
	if p.Alpha != 0.01 || p.Threshold != 0.05 || p.CompetitiveThreshold != 0.10 || c.Defaults.Repetitions != 10 {
		t.Errorf("defaults: %+v %+v", p, c.Defaults)
	}
	if tier, ok := c.Tier("nightly"); !ok || len(tier) != 2 {
		t.Errorf("tier nightly = %v, %v", tier, ok)
	}
	const fast = "ci/fast_regression_check"
	tests := []struct {
		key        Key
		threshold  float64
		comp       bool
		ignore     string
		line       int
		owners     int
		noSource   bool
		higherBest bool
	}{
		{Key{fast, "overall", "p50"}, 0.08, false, "", 15, 1, false, false},
		{Key{fast, "overall", "p99"}, 0.15, false, "", 19, 1, false, false},
		{Key{fast, "Search", "p99"}, 0.15, false, "search p99 is GC-bound until #412", 22, 1, false, false},
		{Key{fast, "overall", "p99.9"}, 0.08, false, "", 15, 1, false, false}, // the scenario beats [metric."p99.9"]
		{Key{"other", "overall", "p99.9"}, 0.25, false, "", 12, 0, false, false},
		{Key{"other", "overall", "p50"}, 0.05, false, "", 0, 0, true, false},
		{Key{fast, "overall", "error_rate"}, 0.02, false, "", 25, 1, false, false},
		{Key{"other", "overall", "error_rate"}, 0.05, false, "", 0, 0, true, false},
		{Key{"competitive/hybrid_production_100k", "overall", "p99"}, 0.12, true, "", 28, 0, false, false},
		{Key{"competitive/hybrid_production_100k", "overall", "throughput"}, 0.12, true, "", 28, 0, false, false},
		// Error rates stay internal and absolute, also in competitive scenarios.
		{Key{"competitive/hybrid_production_100k", "overall", "error_rate"}, 0.05, false, "", 28, 0, false, false},
		{Key{"x", NoOperation, "custom_score"}, 0.05, false, "", 32, 0, false, true},
	}
	for _, tt := range tests {
		_, hib := metricInfo(tt.key.Metric)
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
	if r := p.Rule(Key{"other", "overall", "p50"}, false); !r.Competitive || r.Threshold != 0.10 {
		t.Errorf("--competitive: %+v", r)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"typo", "[defaults]\nalpha = 0.01\n\n[scenario.\"ci/fast\"]\nowners = [\"@a\"]\n\ntreshold = 5\n",
			`.github/m18-gate.toml:7: [scenario."ci/fast"] unknown key "treshold" (did you mean "threshold"?)`},
		{"unknown top", "[defualts]\n", `.github/m18-gate.toml:1: unknown key "defualts" (did you mean "defaults"?)`},
		{"unknown nested", "[scenario.a.metric.p99.operation.Store]\nignor = \"x\"\n", `.github/m18-gate.toml:2: [scenario.a.metric.p99.operation.Store] unknown key "ignor" (did you mean "ignore"?)`},
		{"fraction threshold", "[defaults]\nthreshold = 0.05\n", `.github/m18-gate.toml:2: [defaults] threshold = 0.05 is read in percent, i.e. 0.05 %; write 5% for 5 %`},
		{"bad percent", "[scenario.a]\nthreshold = \"five\"\n", `.github/m18-gate.toml:2: [scenario.a] threshold: "five" is not a percentage`},
		{"alpha", "[defaults]\nalpha = 5\n", `.github/m18-gate.toml:2: [defaults] alpha must be a number in (0, 1), got 5`},
		{"direction", "[scenario.a.metric.p50]\ndirection = \"up\"\n", `:2: [scenario.a.metric.p50] direction must be "lower_is_better" or "higher_is_better"`},
		{"ignore needs reason", "[scenario.a]\nignore = true\n", `:2: [scenario.a] ignore takes the reason`},
		{"owners", "[scenario.a]\nowners = \"@me\"\n", `:2: [scenario.a] owners must be a list of strings`},
		{"tier", "[tiers]\npr = [1]\n", `:2: [tiers] pr[0] must be a non-empty string`},
		{"syntax", "[defaults]\nalpha = \n", `.github/m18-gate.toml:2: expected value`},
		{"duplicate", "[defaults]\nalpha = 0.01\nalpha = 0.02\n", `.github/m18-gate.toml`},
		{"scenario not a table", "scenario = 3\n", `:1: scenario must be a table, got a number`},
		{"repetitions", "[defaults]\nrepetitions = 2.5\n", `:2: [defaults] repetitions must be an integer`},
		{"competitive", "[scenario.a]\ncompetitive = \"yes\"\n", `:2: [scenario.a] competitive must be true or false`},
		{"scenario direction", "[scenario.a]\ndirection = \"higher_is_better\"\n", `:2: [scenario.a] direction belongs in a metric table`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(".github/m18-gate.toml", []byte(tt.config))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParsePercent(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  string
	}{
		{"5", 0.05, ""},
		{"5%", 0.05, ""},
		{" 7.5 % ", 0.075, ""},
		{"0.05%", 0.0005, ""},
		{"0.05", 0, "read in percent"},
		{"-5", 0, "must be > 0"},
		{"x", 0, "not a percentage"},
		{"NaN", 0, "not a percentage"},
	}
	for _, tt := range tests {
		got, err := ParsePercent(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePercent(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !approx(got, tt.want) {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
