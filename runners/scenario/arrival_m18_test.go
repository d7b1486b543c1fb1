package scenario

import (
	"strings"
	"testing"
)

const m18Head = `name = "m18"
[duration]
total_seconds = 10
[operations]
store_weight = 1
[data]
num_nodes = 10
embedding_dim = 768
`

func TestParseM18Patterns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		arrival string
		want    func(a Arrival) bool
	}{
		{"diurnal", "[arrival]\npattern = \"diurnal\"\nbase_rate = 100\npeak_multiplier = 3\npeak_hour = 14\ntrough_hour = 4\ncycle_sec = 60\nspacing = \"poisson\"\n",
			func(a Arrival) bool {
				return a.BaseRate == 100 && a.PeakMultiplier == 3 && a.PeakHour == 14 && a.TroughHour == 4 && a.CycleSec == 60 &&
					a.Spacing == "poisson" && a.MeanRate() == 200 && a.PeakRate() == 300
			}},
		{"diurnal default cycle", "[arrival]\npattern = \"diurnal\"\nbase_rate = 100\npeak_multiplier = 1\npeak_hour = 0\ntrough_hour = 12\n",
			func(a Arrival) bool { return a.CycleSec == 86400 && a.Spacing == "" }},
		{"bursts", "[arrival]\npattern = \"bursts\"\nbase_rate = 100\nburst_rate = 1000\nburst_duration_sec = 2\nmean_gap_sec = 8\n",
			func(a Arrival) bool { return a.MeanRate() == (1000*2+100*8)/10.0 && a.PeakRate() == 1000 }},
		{"ramp", "[arrival]\npattern = \"ramp\"\nfrom_rate = 100\nto_rate = 500\nramp_sec = 10\n",
			func(a Arrival) bool { return a.MeanRate() == 300 && a.PeakRate() == 500 }},
		{"steps", "[arrival]\npattern = \"steps\"\nfrom_rate = 100\nstep_rate = 100\nstep_sec = 5\nmax_rate = 500\n",
			func(a Arrival) bool { return a.MeanRate() == 300 && a.PeakRate() == 500 }},
		{"burst_sequence", "[arrival]\npattern = \"burst_sequence\"\nbase_rate = 100\nmultipliers = [2, 5, 10.0]\nburst_duration_sec = 1\ngap_sec = 1\n",
			func(a Arrival) bool {
				// 1 s gap + 3 × (1 s burst + 1 s gap) = 7 s; sends 100 + 200+100 + 500+100 + 1000+100.
				return len(a.Multipliers) == 3 && a.Multipliers[2] == 10 && a.MeanRate() == 2100.0/7 && a.PeakRate() == 1000
			}},
		{"composite", "[arrival]\npattern = \"composite\"\nspacing = \"poisson\"\n[arrival.bursts]\nweight = 1\nbase_rate = 0\nburst_rate = 1000\nburst_duration_sec = 1\nmean_gap_sec = 9\n[arrival.diurnal]\nweight = 3\nbase_rate = 100\npeak_multiplier = 3\npeak_hour = 12\ntrough_hour = 0\ncycle_sec = 20\n",
			func(a Arrival) bool {
				return len(a.Parts) == 2 && a.Parts[0].Pattern == "diurnal" && a.Parts[1].Weight == 1 && a.Spacing == "poisson" &&
					a.MeanRate() == (3*200+1*100)/4.0
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("t.toml", []byte(m18Head+tc.arrival))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tc.want(sc.Arrival) {
				t.Errorf("arrival = %+v", sc.Arrival)
			}
		})
	}
}

func TestParseM18PatternErrors(t *testing.T) {
	// The [arrival] table starts on line 9 of each file.
	for _, tc := range []struct {
		name, arrival, want string
	}{
		{"diurnal hour out of range", "[arrival]\npattern = \"diurnal\"\nbase_rate = 100\npeak_multiplier = 3\npeak_hour = 25\ntrough_hour = 4\n",
			"t.toml:13: [arrival] peak_hour must be an hour in [0, 24) (got 25)"},
		{"diurnal missing multiplier", "[arrival]\npattern = \"diurnal\"\nbase_rate = 100\npeak_hour = 2\ntrough_hour = 4\n",
			`missing required key "peak_multiplier"`},
		{"diurnal same hours", "[arrival]\npattern = \"diurnal\"\nbase_rate = 100\npeak_multiplier = 2\npeak_hour = 4\ntrough_hour = 4\n",
			"t.toml:14: [arrival] trough_hour must differ from peak_hour"},
		{"bad spacing", "[arrival]\npattern = \"ramp\"\nfrom_rate = 1\nto_rate = 2\nramp_sec = 3\nspacing = \"uniform\"\n",
			`t.toml:14: [arrival] spacing must be "regular" or "poisson" (got "uniform")`},
		{"steps upside down", "[arrival]\npattern = \"steps\"\nfrom_rate = 500\nstep_rate = 100\nstep_sec = 5\nmax_rate = 100\n",
			"t.toml:14: [arrival] max_rate must be ≥ from_rate (got 100 < 500)"},
		{"multipliers not numbers", "[arrival]\npattern = \"burst_sequence\"\nbase_rate = 100\nmultipliers = [2, \"x\"]\nburst_duration_sec = 1\ngap_sec = 1\n",
			"t.toml:12: [arrival] multipliers value 2 must be a number"},
		{"key of another pattern", "[arrival]\npattern = \"ramp\"\nfrom_rate = 1\nto_rate = 2\nramp_sec = 3\npeak_hour = 4\n",
			`t.toml:14: [arrival] peak_hour does not apply to pattern "ramp"`},
		{"composite without parts", "[arrival]\npattern = \"composite\"\n",
			`pattern "composite" needs at least one part table`},
		{"composite part typo", "[arrival]\npattern = \"composite\"\n[arrival.ramp]\nweight = 1\nfrom_rate = 1\nto_rat = 2\nramp_sec = 3\n",
			`t.toml:14: [arrival.ramp] unknown key "to_rat" (did you mean "to_rate"?)`},
		{"composite part without weight", "[arrival]\npattern = \"composite\"\n[arrival.ramp]\nfrom_rate = 1\nto_rate = 2\nramp_sec = 3\n",
			`[arrival.ramp] missing required key "weight"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.toml", []byte(m18Head+tc.arrival))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}
