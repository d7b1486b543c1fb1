package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"

	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

// TestSeriesVersus stores four weeks of daily Engram and PostgreSQL runs
// (PostgreSQL's through run.competitor, so under ci/fast@postgres) and
// checks that series --vs shows the ratio per run and calls a planted
// widening gap widening and a flat one flat.
func TestSeriesVersus(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "")
	for _, tc := range []struct {
		name   string
		growth float64 // of Engram's p99, per week
		want   string
	}{
		{"widening", 0.10, "gap widening"},
		{"flat", 0, "flat:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := filepath.Join(t.TempDir(), "r.git")
			if _, err := git.PlainInit(repo, true); err != nil {
				t.Fatal(err)
			}
			in := t.TempDir()
			t0 := time.Now().UTC().Add(-28 * 24 * time.Hour).Truncate(time.Second)
			var files []string
			for d := 0; d < 28; d++ {
				at := t0.Add(time.Duration(d) * 24 * time.Hour)
				wobble := 1 + 0.03*math.Sin(float64(d)*1.7) // deterministic noise
				eng := 30 * math.Pow(1+tc.growth, float64(d)/7) * wobble
				files = append(files, versusResult(t, in, fmt.Sprintf("e%02d", d), at, eng, nil))
				files = append(files, versusResult(t, in, fmt.Sprintf("c%02d", d), at.Add(-time.Hour), 20/wobble,
					&result.Competitor{Name: "postgres", Version: "15.20", Method: "plain SQL"}))
			}
			if code, _, errs := testenv.Run(run, append([]string{"push", "--repo", repo}, files...)...); code != exitOK {
				t.Fatalf("push: exit %d: %s", code, errs)
			}
			code, out, errs := testenv.Run(run, "series", "--repo", repo, "--scenario", "ci/fast", "--fingerprint", "aaaaaaaaaaaa", "--vs", "postgres")
			if code != exitOK || strings.Count(out, "\n") < 28 || !strings.Contains(out, tc.want) || !strings.Contains(out, "Engram losing ground") != (tc.growth == 0) {
				t.Fatalf("exit %d\n%s\n%s", code, out, errs)
			}
			t.Log(out[strings.LastIndex(out, "trend"):])
			// Engram's own series holds only Engram's runs.
			_, out, _ = testenv.Run(run, "series", "--repo", repo, "--scenario", "ci/fast", "--fingerprint", "aaaaaaaaaaaa")
			if strings.Count(out, "\n") != 29 {
				t.Fatalf("Engram's series:\n%s", out)
			}
			if code, _, errs := testenv.Run(run, "series", "--repo", repo, "--scenario", "ci/fast", "--fingerprint", "aaaaaaaaaaaa", "--vs", "qdrant"); code != exitBadInput || !strings.Contains(errs, "m18-run --scenario ci/fast --competitor qdrant") {
				t.Fatalf("unknown competitor: exit %d, %s", code, errs)
			}
		})
	}
}

func versusResult(t *testing.T, dir, run string, start time.Time, p99 float64, c *result.Competitor) string {
	t.Helper()
	d := &result.Document{
		Run: result.Run{Scenario: "ci/fast", RunID: run, Start: start, End: start.Add(time.Minute), Commit: strings.Repeat("cd", 20),
			Hardware: result.Fingerprint{Hash: "aaaaaaaaaaaa", CPUModel: "Test CPU", LogicalCores: 2}, Competitor: c},
		Repetitions: []result.Repetition{{Overall: result.OpStats{Count: 10, Latency: result.Latency{P99: p99}}}},
	}
	p := filepath.Join(dir, run+".json")
	if err := result.WriteFile(p, d); err != nil {
		t.Fatal(err)
	}
	return p
}
