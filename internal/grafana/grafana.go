// Package grafana generates the Grafana dashboard for m18's Prometheus
// metrics with the Grafana Foundation SDK: live load from m18-run
// --metrics-addr (latency percentiles, throughput, errors, in-flight,
// schedule lag), the stored history backfilled with m18-history export
// --openmetrics, competitor positioning, and the dashboard's change points
// as annotations. The JSON is committed at .github/grafana/m18-dashboard.json
// and importable as is; its test fails when regenerating gives other bytes
// (go test ./internal/grafana -update rewrites it).
package grafana

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	m18dash "github.com/engram/m18-gate/gate/dashboard"
	"github.com/engram/m18-gate/history/openmetrics"
	"github.com/engram/m18-gate/runners/live"
)

// UID is the dashboard's uid: importing it again replaces it.
const UID = "m18-performance"

// Path is where the generated JSON is committed, from the module root.
const Path = ".github/grafana/m18-dashboard.json"

func ds() common.DataSourceRef {
	t, uid := "prometheus", "${datasource}"
	return common.DataSourceRef{Type: &t, Uid: &uid}
}

func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(ds()).Expr(expr).LegendFormat(legend)
}

// panel is a time series panel; its id is its rank among the panels, so
// links to it stay stable.
func panel(id uint32, title, unit, desc string, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Id(id).Title(title).Description(desc).Unit(unit).Datasource(ds()).
		Height(8).Span(12).ShowPoints(common.VisibilityModeAuto)
	for _, q := range qs {
		p = p.WithTarget(q)
	}
	return p
}

// sel is the label selector of the dashboard's variables.
const sel = `scenario=~"$scenario"`

// Dashboard builds the dashboard.
func Dashboard() (dashboard.Dashboard, error) {
	scen := "label_values(" + live.MetricRequests + ", scenario)"
	b := dashboard.NewDashboardBuilder("m18 performance").
		Uid(UID).
		Description("Live load from m18-run --metrics-addr, stored history from m18-history export --openmetrics, change points from m18-dash (changepoints.om).").
		Tags([]string{"m18", "performance", "engram"}).
		Refresh("10s").
		Time("now-6h", "now").
		Timezone(common.TimeZoneUtc).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Prometheus").Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("scenario").Label("Scenario").Datasource(ds()).
			Query(dashboard.StringOrMap{String: &scen}).Multi(true).IncludeAll(true).AllValue(".*")).
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("Change points").Datasource(ds()).Enable(true).IconColor("red").
			Expr(m18dash.MetricChangePoint + `{` + sel + `}`).
			TitleFormat("{{operation}} {{metric}}: change point ({{direction}})").
			TextFormat("first run after it: commit {{commit}} on {{fingerprint}}").
			TagKeys("scenario,operation,metric,direction").Step("60s")).
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("Stored runs").Datasource(ds()).Enable(false).IconColor("blue").
			Expr(openmetrics.MetricInfo + `{` + sel + `}`).
			TitleFormat("run {{run_id}}").TextFormat("commit {{commit}} ({{ref}}) on {{fingerprint}}, target {{target}}").
			TagKeys("scenario,target").Step("60s"))

	rate := "[$__rate_interval]"
	b = b.WithRow(dashboard.NewRowBuilder("Live load (m18-run --metrics-addr)").Id(100))
	for i, q := range []struct{ name, phi string }{{"p50", "0.5"}, {"p99", "0.99"}, {"p99.9", "0.999"}} {
		b = b.WithPanel(panel(uint32(1+i), "Latency "+q.name+" by operation", "s",
			"From the intended send time (no coordinated omission), over the rate interval.",
			query(fmt.Sprintf(`histogram_quantile(%s, sum by (le, scenario, operation) (rate(%s_bucket{%s}%s)))`, q.phi, live.MetricLatency, sel, rate),
				"{{scenario}} {{operation}}")))
	}
	b = b.WithPanel(panel(4, "Throughput", "reqps", "Completed requests per second, by operation.",
		query(fmt.Sprintf(`sum by (scenario, operation) (rate(%s{%s,outcome="ok"}%s))`, live.MetricRequests, sel, rate), "{{scenario}} {{operation}}"))).
		WithPanel(panel(5, "Error ratio", "percentunit", "Failed over all completed requests; by kind below.",
			query(fmt.Sprintf(`sum by (scenario, operation) (rate(%s{%s,outcome="error"}%s)) / sum by (scenario, operation) (rate(%s{%s}%s))`,
				live.MetricRequests, sel, rate, live.MetricRequests, sel, rate), "{{scenario}} {{operation}}"),
			query(fmt.Sprintf(`sum by (scenario, kind) (rate(%s{%s}%s))`, live.MetricErrors, sel, rate), "{{scenario}} {{kind}} /s"))).
		WithPanel(panel(6, "In flight and schedule lag", "s", "Requests in flight (right) and the generator's p99 lag behind its schedule: a lag that grows means the generator, not the target, is the bottleneck.",
			query(fmt.Sprintf(`histogram_quantile(0.99, sum by (le, scenario) (rate(%s_bucket{%s}%s)))`, live.MetricLag, sel, rate), "{{scenario}} lag p99"),
			query(fmt.Sprintf(`%s{%s}`, live.MetricInFlight, sel), "{{scenario}} in flight")).
			OverrideByRegexp(".*in flight", []dashboard.DynamicConfigValue{{Id: "custom.axisPlacement", Value: "right"}, {Id: "unit", Value: "short"}}))

	b = b.WithRow(dashboard.NewRowBuilder("History (m18-history export --openmetrics)").Id(200))
	own := `target=~"builtin|external|engram"`
	b = b.WithPanel(panel(7, "p99 per stored run", "s", "Median over each run's repetitions; red marks are change points.",
		query(fmt.Sprintf(`%s{%s,%s,quantile="0.99"}`, openmetrics.MetricLatency, sel, own), "{{scenario}} {{operation}} {{fingerprint}}"))).
		WithPanel(panel(8, "Throughput per stored run", "reqps", "",
			query(fmt.Sprintf(`%s{%s,%s}`, openmetrics.MetricThroughput, sel, own), "{{scenario}} {{operation}} {{fingerprint}}"))).
		WithPanel(panel(9, "Error ratio per stored run", "percentunit", "",
			query(fmt.Sprintf(`%s{%s,%s}`, openmetrics.MetricErrorRatio, sel, own), "{{scenario}} {{operation}} {{fingerprint}}"))).
		WithPanel(panel(10, "Change points", "percentunit", "Relative change of the segment means at each change point E-divisive found (m18-dash).",
			query(fmt.Sprintf(`%s{%s}`, m18dash.MetricChangePoint, sel), "{{scenario}} {{operation}} {{metric}} {{direction}}")).
			DrawStyle(common.GraphDrawStylePoints).PointSize(8))

	b = b.WithRow(dashboard.NewRowBuilder("Competitive positioning").Id(300))
	b = b.WithPanel(panel(11, "p99 by target (overall)", "s", "Engram (builtin/external) against the competitors that ran the same scenario on the same hardware.",
		query(fmt.Sprintf(`%s{%s,operation="overall",quantile="0.99"}`, openmetrics.MetricLatency, sel), "{{target}} {{scenario}} {{fingerprint}}"))).
		WithPanel(panel(12, "Throughput by target (overall)", "reqps", "",
			query(fmt.Sprintf(`%s{%s,operation="overall"}`, openmetrics.MetricThroughput, sel), "{{target}} {{scenario}} {{fingerprint}}"))).
		WithPanel(panel(13, "p99 relative to Engram", "percentunit", "Each competitor's newest p99 over Engram's (1 = same; lower is better for the competitor).",
			query(fmt.Sprintf(`last_over_time(%s{%s,operation="overall",quantile="0.99",%s}[30d]) / ignoring(target) group_left last_over_time(%s{%s,operation="overall",quantile="0.99",target=~"builtin|external|engram"}[30d])`,
				openmetrics.MetricLatency, sel, `target!~"builtin|external|engram"`, openmetrics.MetricLatency, sel), "{{target}} / engram {{scenario}}")))
	return b.Build()
}

// JSON is the dashboard as committed: indented, ending in a newline.
func JSON() ([]byte, error) {
	d, err := Dashboard()
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
