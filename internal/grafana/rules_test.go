package grafana

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
)

// RulesPath is the committed Prometheus rules file, from the module root.
const RulesPath = ".github/prometheus/m18-rules.yml"

// TestAlertRules runs promtool check rules on the committed rules, and
// promtool test rules on their unit tests (planted degradations that must
// fire and quiet stretches that must not).
func TestAlertRules(t *testing.T) {
	promtool := testenv.Tool(t, "promtool")
	root := testenv.ModuleRoot(t)
	rules := filepath.Join(root, filepath.FromSlash(RulesPath))
	if out, err := exec.Command(promtool, "check", "rules", rules).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	tests := strings.TrimSuffix(rules, ".yml") + ".test.yml"
	cmd := exec.Command(promtool, "test", "rules", filepath.Base(tests))
	cmd.Dir = filepath.Dir(tests)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// TestDashboardQueriesParse has Prometheus parse every query of the
// Grafana dashboard (panels and annotations), with the dashboard's
// variables filled in, by checking them as recording rules.
func TestDashboardQueriesParse(t *testing.T) {
	promtool := testenv.Tool(t, "promtool")
	d := imported(t)
	var exprs []string
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			exprs = append(exprs, a.Expr)
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("%d queries in the dashboard", len(exprs))
	}
	fill := strings.NewReplacer("$__rate_interval", "2m", "$scenario", ".*")
	var y strings.Builder
	y.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, e := range exprs {
		q, _ := json.Marshal(fill.Replace(e))
		fmt.Fprintf(&y, "      - record: dashboard:query%d\n        expr: %s\n", i, q)
	}
	file := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(file, []byte(y.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Fatalf("a dashboard query does not parse: %v\n%s\n%s", err, out, y.String())
	}
}
