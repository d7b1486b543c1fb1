package config

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
)

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
		{"unknown default", "[defaults]\nerror_rate_point = 5\n", `.github/m18-gate.toml:2: [defaults] unknown key "error_rate_point" (did you mean "error_rate_points"?)`},
		{"competitive threshold", "[scenario.a]\ncompetitive_threshold = \"x\"\n", `.github/m18-gate.toml:2: [scenario.a] competitive_threshold: "x" is not a percentage`},
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
			_, err := Parse(".github/m18-gate.toml", []byte(tt.config))
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
		if err != nil || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestLoadSizeLimit(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.toml")
	// Valid TOML, but far larger than any policy.
	data := []byte("[defaults]\n" + strings.Repeat("# padding padding padding padding\n", MaxSize/32))
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(big)
	want := fmt.Sprintf("%s: the file is %d bytes, over the %d-byte (1 MiB) limit of a policy file", big, len(data), MaxSize)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant it to contain %q", err, want)
	}
	small := testenv.WriteFile(t, dir, "small.toml", "[tiers]\npr = [\"a\"]\n")
	if c, err := Load(small); err != nil || c.Path != small {
		t.Errorf("Load(small) = %+v, %v", c, err)
	}
}

// FuzzParse feeds arbitrary bytes to Parse: it must never panic or hang,
// every error must name the file, and every key of an accepted file that
// the TOML parser sees must have a line.
func FuzzParse(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("[defaults]\nalpha = 0.01\nthreshold = \"5%\"\ncompetitive_threshold = 10\nrepetitions = 10\n"))
	f.Add([]byte("[tiers]\npr = [\"ci/fast\"]\n\n[metric.\"p99.9\"]\nthreshold = \"25%\"\n"))
	f.Add([]byte("[scenario.\"ci/fast\".metric.p99.operation.Search]\nignore = \"GC-bound\"\nowners = [\"@a\"]\n"))
	f.Add([]byte("[scenario.a]\ncompetitive = true\ncompetitive_threshold = \"12%\"\n[scenario.a.metric.custom]\ndirection = \"higher\"\n"))
	f.Add([]byte("scenario.a.metric.p50 = { threshold = 7 }\n"))
	f.Add([]byte("[defualts]\ntreshold = 0.05\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if c.Path != "fuzz.toml" || c.Tiers == nil || c.Metrics == nil || c.Scenarios == nil {
			t.Fatalf("accepted config is incomplete: %+v", c)
		}
		for _, v := range []*float64{c.Defaults.Threshold, c.Defaults.CompetitiveThreshold, c.Defaults.ErrorRatePoints} {
			if v != nil && !(*v > 0) {
				t.Fatalf("accepted threshold %v", *v)
			}
		}
		if a := c.Defaults.Alpha; a != nil && !(*a > 0 && *a < 1) {
			t.Fatalf("accepted alpha %v", *a)
		}
		for name, so := range c.Scenarios {
			for _, s := range c.Scopes(name, "overall", "p99") {
				if s.Override == nil {
					t.Fatalf("nil scope for %s", name)
				}
			}
			if so.HigherIsBetter != nil {
				t.Fatalf("scenario %s accepted a direction", name)
			}
		}
	})
}
