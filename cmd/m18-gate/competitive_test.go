package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

// writeVersus writes an m18 result of ci/competitive (see writeResult).
func writeVersus(t *testing.T, dir, name string, p50 float64, n int, seed uint64, fp string, comp *result.Competitor) string {
	t.Helper()
	return writeResult(t, dir, name, "ci/competitive", fp, p50, n, seed, comp)
}

func TestCompetitiveExitCodes(t *testing.T) {
	dir := t.TempDir()
	pg := &result.Competitor{Name: "postgres", Version: "15.20", Method: "plain SQL"}
	fp := "aaaaaaaaaaaa"
	base := writeVersus(t, dir, "base", 10, 10, 1, fp, nil)
	same := writeVersus(t, dir, "same", 10, 10, 2, fp, nil)
	slow := writeVersus(t, dir, "slow", 13, 10, 3, fp, nil)
	comp := writeVersus(t, dir, "pg", 20, 10, 4, fp, pg)
	comp2 := writeVersus(t, dir, "pg2", 20, 10, 5, fp, pg)
	other := writeVersus(t, dir, "other", 20, 10, 6, "bbbbbbbbbbbb", pg)
	none := testenv.WriteFile(t, dir, "none.toml", "[defaults]\nalpha = 0.01\n")
	target := testenv.WriteFile(t, dir, "target.toml", "[milestone.\"ci/competitive\"]\ncompetitor = \"neo4j\"\np99_ms = 15\nnote = \"Neo4j measured 27.96 ms\"\n")
	out := filepath.Join(dir, "verdict.json")
	md := filepath.Join(dir, "position.md")
	pairedOut := filepath.Join(dir, "paired.json")

	tests := []cmdCase{
		{"position shown, no baseline", []string{"competitive", "--config", none, "--engram", same, "--versus", comp}, 0, "position against postgres 15.20", ""},
		{"unchanged position", []string{"competitive", "--config", none, "--engram", same, "--versus", comp2, "--baseline-engram", base, "--baseline-versus", comp, "--output", out, "--markdown", md}, 0, "unchanged", ""},
		{"worse position", []string{"competitive", "--config", none, "--engram", slow, "--versus", comp2, "--baseline-engram", base, "--baseline-versus", comp}, 2, "regressed", "competitive regression"},
		{"worse position, same competitor runs", []string{"competitive", "--config", none, "--engram", slow, "--versus", comp, "--baseline-engram", base, "--baseline-versus", comp}, 2, "regressed", ""},
		{"worse position, paired", []string{"competitive", "--paired", "--output", pairedOut, "--config", none, "--engram", slow, "--versus", comp2, "--baseline-engram", base, "--baseline-versus", comp}, 2, "regressed", ""},
		{"internal regression first", []string{"competitive", "--config", none, "--engram", slow, "--versus", comp, "--baseline-engram", base, "--baseline-versus", comp, "--base", base, "--head", slow}, 1, "regressed", "internal regression"},
		{"milestone missed", []string{"competitive", "--config", target, "--engram", same, "--versus", comp}, 2, "milestone MISSED: overall p99 median", "competitive regression"},
		{"milestone met", []string{"competitive", "--config", target, "--engram", writeVersus(t, dir, "fast", 5, 10, 7, fp, nil), "--versus", comp}, 0, "milestone met", ""},
		{"competitor as Engram", []string{"competitive", "--config", none, "--engram", comp, "--versus", comp2}, 3, "", "is a run of competitor postgres, not Engram's: give it to --versus"},
		{"Engram as competitor", []string{"competitive", "--config", none, "--engram", same, "--versus", base}, 3, "", "is not a competitor's run"},
		{"other runner", []string{"competitive", "--config", none, "--engram", same, "--versus", other}, 3, "", "same runner"},
		{"a competitor's run is not Engram's head", []string{"compare", "--config", none, "--base", base, "--head", comp}, 3, "", "ci/competitive@postgres"},
		{"baseline half given", []string{"competitive", "--config", none, "--engram", same, "--versus", comp, "--baseline-engram", base}, 3, "", "needs both --baseline-engram and --baseline-versus"},
	}
	runCases(t, tests)
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "Position against postgres 15.20") {
		t.Errorf("markdown: %v\n%s", err, b)
	}
	if b, err := os.ReadFile(pairedOut); err != nil || strings.Contains(string(b), "unpaired") || !strings.Contains(string(b), `"decision": "regressed"`) {
		t.Errorf("--paired verdict: %v\n%s", err, b)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), `"versus"`) {
		t.Errorf("verdict: %v\n%s", err, b)
	}
}
