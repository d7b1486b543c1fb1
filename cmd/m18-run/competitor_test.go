package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/runners/result"
)

// TestCompetitiveRunPostgres runs ci/competitive against a real
// PostgreSQL from the command line, by flags and by a [target] table.
func TestCompetitiveRunPostgres(t *testing.T) {
	url := competitortest.Postgres(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "m18-gate.toml")
	os.WriteFile(cfg, []byte("[target.pg]\nadapter = \"postgres\"\nurl = \""+url+"\"\n"), 0o644)
	for _, args := range [][]string{
		{"--competitor", "postgres", "--competitor-url", url},
		{"--competitor", "pg", "--config", cfg},
	} {
		out := filepath.Join(dir, "pg.json")
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"--scenario", "ci/competitive", "--duration", "1s", "--warmup", "200ms", "--quiet", "--output", out}, args...), &stdout, &stderr)
		if code != exitOK && code != exitGenerator {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr.String())
		}
		doc, err := result.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		c := doc.Run.Competitor
		if c == nil || c.Name != "postgres" || doc.Run.Target != "postgres" || doc.Run.Endpoint == "" || strings.Contains(doc.Run.Endpoint, "password") {
			t.Fatalf("%v: run %+v", args, doc.Run)
		}
		if st := doc.PerOperationStats[result.OpPatternCompletion]; st.Count == 0 || st.ErrorCount != 0 {
			t.Fatalf("%v: %+v", args, st)
		}
	}
}

func TestCompetitorFlagErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "m18-gate.toml")
	os.WriteFile(cfg, []byte("[target.pg]\nadapter = \"postgres\"\nurl = \"postgres://127.0.0.1:1/x\"\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		// Refused before anything is sent: Qdrant has no traversal.
		{[]string{"--scenario", "ci/smoke", "--competitor", "qdrant", "--competitor-url", "http://127.0.0.1:1"}, "qdrant cannot express PatternCompletion, which the scenario sends"},
		{[]string{"--scenario", "ci/smoke", "--competitor-url", "http://127.0.0.1:1"}, "need --competitor NAME"},
		{[]string{"--scenario", "ci/smoke", "--competitor", "mysql", "--competitor-url", "http://127.0.0.1:1"}, `"mysql": no such adapter`},
		{[]string{"--scenario", "ci/smoke", "--competitor", "neo4j", "--config", cfg}, "no [target.neo4j] table (have: pg)"},
		{[]string{"--scenario", "ci/smoke", "--competitor", "postgres", "--competitor-url", "postgres://x", "--endpoint", "http://127.0.0.1:1"}, "drop --endpoint"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != exitInput || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestCompetitorsListed(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"competitors"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	out := stdout.String()
	for _, want := range []string{"postgres: plain SQL", "recursive CTE", "weaviate:", "qdrant:", "neo4j:", "cannot express: a scenario that sends it is refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if n := strings.Count(out, "cannot express"); n != 2 {
		t.Errorf("%d operations refused, want 2 (PatternCompletion by Weaviate and Qdrant)\n%s", n, out)
	}
}
