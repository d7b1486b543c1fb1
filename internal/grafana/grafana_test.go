package grafana

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite "+Path+" from the generator")

// TestCommittedDashboard fails when the committed JSON is not what the
// generator writes: change the Go code, then run go test -update.
func TestCommittedDashboard(t *testing.T) {
	got, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(testenv.ModuleRoot(t), filepath.FromSlash(Path))
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/grafana -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the generator writes: run go test ./internal/grafana -update and commit it", Path)
	}
	again, _ := JSON()
	if !bytes.Equal(got, again) {
		t.Errorf("the generator is not deterministic")
	}
}

// importedDashboard is what the tests read of the JSON a user imports.
type importedDashboard struct {
	UID    string `json:"uid"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Annotations struct {
		List []struct {
			Name   string `json:"name"`
			Expr   string `json:"expr"`
			Enable bool   `json:"enable"`
		} `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
}

// imported is the generated dashboard decoded as Grafana reads it.
func imported(t *testing.T) importedDashboard {
	t.Helper()
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var d importedDashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDashboardContents checks what the dashboard must show, on the JSON a
// user imports.
func TestDashboardContents(t *testing.T) {
	d := imported(t)
	if d.UID != UID {
		t.Errorf("uid %q", d.UID)
	}
	titles := map[string]string{}
	for _, p := range d.Panels {
		var exprs []string
		for _, q := range p.Targets {
			exprs = append(exprs, q.Expr)
		}
		titles[p.Title] = strings.Join(exprs, " ; ")
		if p.Type == "timeseries" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
	for title, expr := range map[string]string{
		"Latency p99 by operation":       "histogram_quantile(0.99, sum by (le, scenario, operation) (rate(m18_request_latency_seconds_bucket",
		"Throughput":                     `m18_requests_total{scenario=~"$scenario",outcome="ok"}`,
		"Error ratio":                    `outcome="error"`,
		"p99 per stored run":             "m18_run_latency_seconds",
		"p99 by target (overall)":        "m18_run_latency_seconds",
		"p99 relative to Engram":         "group_left",
		"In flight and schedule lag":     "m18_schedule_lag_seconds_bucket",
		"Change points":                  "m18_change_point",
		"Throughput by target (overall)": "m18_run_throughput_ops",
	} {
		if got, ok := titles[title]; !ok || !strings.Contains(got, expr) {
			t.Errorf("panel %q: queries %q, want one with %q", title, got, expr)
		}
	}
	var cp bool
	for _, a := range d.Annotations.List {
		if a.Name == "Change points" && a.Enable && strings.HasPrefix(a.Expr, "m18_change_point{") {
			cp = true
		}
	}
	if !cp {
		t.Errorf("no enabled change-point annotation: %+v", d.Annotations.List)
	}
	if len(d.Templating.List) != 2 {
		t.Errorf("variables %+v, want datasource and scenario", d.Templating.List)
	}
}
