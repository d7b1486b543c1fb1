package config

import (
	"strings"
	"testing"
)

func TestTargetsAndMilestones(t *testing.T) {
	c, err := Parse("p.toml", []byte(`
[target.pg]
adapter = "postgres"
url = "postgres://postgres@127.0.0.1:5432/postgres"

[target.neo4j]
url = "http://127.0.0.1:7474"
user = "neo4j"
password_env = "M18_TEST_NEO4J_PASSWORD"

[milestone."competitive/neo4j_traversal_100k"]
competitor = "neo4j"
p99_ms = 15
note = "Neo4j measured 27.96 ms"
`))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := c.TargetNamed("pg")
	if err != nil || pg.Adapter != "postgres" || pg.URL == "" {
		t.Fatalf("%+v %v", pg, err)
	}
	t.Setenv("M18_TEST_NEO4J_PASSWORD", "s3cret")
	n, _ := c.TargetNamed("neo4j")
	if n.Adapter != "neo4j" || n.User != "neo4j" || n.Password() != "s3cret" {
		t.Fatalf("%+v", n)
	}
	if _, err := c.TargetNamed("qdrant"); err == nil || !strings.Contains(err.Error(), "have: neo4j, pg") {
		t.Fatalf("err = %v", err)
	}
	m := c.Milestones["competitive/neo4j_traversal_100k"]
	if m == nil || *m.P99Ms != 15 || m.P50Ms != nil || m.Competitor != "neo4j" {
		t.Fatalf("%+v", m)
	}
}

func TestTargetsAndMilestonesErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"[target.x]\nurl = \"http://a\"\n", `p.toml:1: [target.x] adapter "x" is not one of postgres, weaviate, qdrant, neo4j`},
		{"[target.qdrant]\nadapter = \"qdrant\"\n", `needs url`},
		{"[target.neo4j]\nurl = \"http://a\"\npassword = \"x\"\n", `p.toml:3: [target.neo4j] passwords do not belong in the policy file`},
		{"[target.neo4j]\nurl = \"http://a\"\nusr = \"x\"\n", `unknown key "usr" (did you mean "user"?)`},
		{"[milestone.\"s\"]\ncompetitor = \"neo4j\"\n", `sets no target`},
		{"[milestone.\"s\"]\np99_ms = -1\n", `p.toml:2: [milestone.s] p99_ms must be a positive number`},
		{"[milestone.\"s\"]\np99_ms = 15\nnote = 3\n", `p.toml:3: [milestone.s] note must be a string, got 3`},
		{"[milestone.\"s\"]\np99ms = 15\n", `p.toml:2: [milestone.s] unknown key "p99ms" (did you mean "p99_ms"?)`},
	}
	for _, tt := range tests {
		_, err := Parse("p.toml", []byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.src, err, tt.want)
		}
	}
}
