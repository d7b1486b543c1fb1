package dashboard

import (
	"bytes"
	"html"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/internal/dashtest"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

const repoURL = "https://github.com/engram/engram"

func planted(t *testing.T) (dashtest.Planted, *Site) {
	t.Helper()
	p, docs := dashtest.Make(t, dashtest.Default())
	site, err := Build(docs, nil, Options{Source: p.Source, RepoURL: repoURL})
	if err != nil {
		t.Fatal(err)
	}
	if len(site.Groups) != 1 {
		t.Fatalf("%d groups, want 1", len(site.Groups))
	}
	return p, site
}

func chart(t *testing.T, g *Group, op, metric string) *Chart {
	t.Helper()
	for _, c := range g.Charts {
		if c.Operation == op && c.Metric == metric {
			return c
		}
	}
	t.Fatalf("no chart %s %s", op, metric)
	return nil
}

// runCommit is the commit of run i in the planted history: the commits
// without runs come just before the first bad run.
func runCommit(p dashtest.Planted, i int) string {
	if i >= p.Bad {
		return p.Commits[i+p.Extra]
	}
	return p.Commits[i]
}

func TestPlantedRegressionRootCause(t *testing.T) {
	p, site := planted(t)
	g := site.Groups[0]
	c := chart(t, g, result.OpStore, result.MetricP99)
	if len(c.Points) != p.Runs {
		t.Fatalf("%d points, want %d", len(c.Points), p.Runs)
	}
	rc := c.RootCause
	if rc == nil || !rc.Regression {
		t.Fatalf("Store p99: no regression found; changes %+v", c.Changes)
	}
	if rc.Change.Index != p.Bad {
		t.Errorf("change point at run %d, want %d", rc.Change.Index, p.Bad)
	}
	// The segment means, computed independently from the planted values:
	// 2 ms before, 2.8 ms after (±1 % noise).
	if math.Abs(rc.Change.Before-2.0) > 0.03 || math.Abs(rc.Change.After-2.8) > 0.04 || math.Abs(rc.Change.Change-0.4) > 0.03 {
		t.Errorf("change %.3f → %.3f (%+.3f), want 2 → 2.8 (+0.4)", rc.Change.Before, rc.Change.After, rc.Change.Change)
	}
	if rc.LastGood.Commit != runCommit(p, p.Bad-1) || rc.FirstBad.Commit != runCommit(p, p.Bad) {
		t.Errorf("last good %s first bad %s, want %s and %s", rc.LastGood.Commit, rc.FirstBad.Commit, runCommit(p, p.Bad-1), runCommit(p, p.Bad))
	}
	// Between them: the commits without runs and the first bad one, newest first.
	var subjects []string
	for _, cm := range rc.Commits {
		subjects = append(subjects, cm.Subject)
		if cm.URL != repoURL+"/commit/"+cm.Hash {
			t.Errorf("commit URL %q", cm.URL)
		}
	}
	if want := "store: fsync every write|engine: refactor 1|engine: refactor 0"; strings.Join(subjects, "|") != want {
		t.Errorf("commits between: %q, want %q (note %q)", strings.Join(subjects, "|"), want, rc.CommitsNote)
	}
	if rc.CompareURL != repoURL+"/compare/"+rc.LastGood.Commit+"..."+rc.FirstBad.Commit {
		t.Errorf("compare URL %q", rc.CompareURL)
	}
	// Store's other latencies moved with it; Recall did not.
	moved := map[string]Moved{}
	for _, m := range rc.Moved {
		moved[m.Chart.Operation+" "+m.Chart.Metric] = m
	}
	for _, k := range []string{"Store p50", "Store p99.9", "overall p99"} {
		if m := moved[k]; !m.Moved || !m.Worse {
			t.Errorf("%s: %+v, want moved and worse", k, m)
		}
	}
	if m, ok := moved["Recall p99"]; !ok || m.Moved || math.Abs(m.Change) > 0.02 {
		t.Errorf("Recall p99: %+v (present %v), want present and unmoved", m, ok)
	}
	if !moved["Store p50"].ChangePoint {
		t.Errorf("Store p50 should have a change point of its own at the boundary")
	}
	// The target's CPU rose with the regression; RSS did not.
	if rc.Before == nil || rc.After == nil {
		t.Fatalf("no resources before/after")
	}
	if math.Abs(rc.Before.CPUCores-0.6) > 1e-9 || math.Abs(rc.After.CPUCores-0.84) > 1e-9 || rc.Before.RSSMiB != 120 || rc.After.RSSMiB != 120 {
		t.Errorf("resources before %+v after %+v", rc.Before, rc.After)
	}
	for _, c := range g.Charts {
		if c.Operation == "Recall" && c.RootCause != nil && math.Abs(c.RootCause.Change.Change) > 0.05 {
			t.Errorf("Recall %s: change point %+v in a flat series", c.Metric, c.RootCause.Change)
		}
	}
}

func TestBetweenWithoutSource(t *testing.T) {
	p, docs := dashtest.Make(t, dashtest.Default())
	site, err := Build(docs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rc := chart(t, site.Groups[0], result.OpStore, result.MetricP99).RootCause
	if rc == nil || len(rc.Commits) != 0 || !strings.Contains(rc.CommitsNote, "--source-repo") {
		t.Fatalf("without a source repository: %+v", rc)
	}
	_ = p
}

func TestSiteFiles(t *testing.T) {
	_, site := planted(t)
	files, err := site.Files()
	if err != nil {
		t.Fatal(err)
	}
	c := chart(t, site.Groups[0], result.OpStore, result.MetricP99)
	page := html.UnescapeString(string(files[c.Path()]))
	if c.Path() != render.ChartPath("ci/fast_regression_check", "fp-test-0001", "Store", "p99") {
		t.Errorf("chart path %s", c.Path())
	}
	for _, want := range []string{`id="root-cause"`, `id="last-good"`, `id="first-bad"`, `id="commits"`, `store: fsync every write`,
		`id="moved"`, `id="resources"`, `src="../../../` + c.SVGPath() + `"`, repoURL + "/commit/"} {
		if !strings.Contains(page, want) {
			t.Errorf("chart page lacks %q", want)
		}
	}
	svg := files[c.SVGPath()]
	if !bytes.Contains(svg, []byte("<svg")) || bytes.Contains(svg, []byte("http://cdn")) {
		t.Errorf("chart image is not a self-contained SVG (%d bytes)", len(svg))
	}
	index := html.UnescapeString(string(files["index.html"]))
	if !strings.Contains(index, `href="`+c.Path()+`"`) {
		t.Errorf("index does not link the regressed chart %s", c.Path())
	}
	for p, b := range files {
		if strings.HasSuffix(p, ".html") && (bytes.Contains(b, []byte("<script")) || bytes.Contains(b, []byte("https://cdn"))) {
			t.Errorf("%s loads scripts or remote assets", p)
		}
	}
	// Every chart and page of the group is there.
	for _, ch := range site.Groups[0].Charts {
		if files[ch.Path()] == nil || files[ch.SVGPath()] == nil {
			t.Errorf("missing %s or its image", ch.Path())
		}
	}
}

func TestWriteReplacesOnlyADashboard(t *testing.T) {
	_, site := planted(t)
	dir := dashtest.Dir(t)
	if err := site.Write(dir); err != nil {
		t.Fatal(err)
	}
	stale := testenv.WriteFile(t, dir, "stale.html", "x")
	if err := site.Write(dir); err != nil {
		t.Fatalf("rewriting a dashboard: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a rebuild kept a stale file")
	}
	other := t.TempDir()
	keep := testenv.WriteFile(t, other, "notes.txt", "mine")
	err := site.Write(other)
	if err == nil || !strings.Contains(err.Error(), Marker) {
		t.Fatalf("writing over a foreign directory: %v", err)
	}
	if b, _ := os.ReadFile(keep); string(b) != "mine" {
		t.Errorf("a refused write touched the directory")
	}
}

func TestCompetitorsAndTasks(t *testing.T) {
	_, docs := dashtest.Make(t, dashtest.Default())
	var all []*result.Document
	for i, d := range docs[:6] {
		all = append(all, d)
		q := *d
		q.Run.Target, q.Run.RunID = "qdrant", d.Run.RunID+"-q"
		q.Repetitions = nil
		for _, r := range d.Repetitions {
			r.Overall.Latency.P99 *= 2
			q.Repetitions = append(q.Repetitions, r)
		}
		all = append(all, &q)
		d.Tasks["002"] = map[string]any{"checks": []result.Check{{Name: "002/leak_mb_per_hour", Expected: 10, Measured: float64(i * 3), Passed: i*3 < 10}}}
	}
	site, err := Build(all, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := site.Groups[0]
	if g.Runs != 6 {
		t.Errorf("%d Engram runs, want 6 (competitor runs are not Engram's trend)", g.Runs)
	}
	var p99 *CompetitorChart
	for _, c := range g.Competitors {
		if c.Metric == result.MetricP99 {
			p99 = c
		}
	}
	if p99 == nil || len(p99.Lines) != 2 || p99.Lines[0].Target != "engram" || p99.Lines[1].Target != "qdrant" {
		t.Fatalf("competitor p99 chart: %+v", p99)
	}
	if r := p99.Lines[1].Ratio; math.Abs(r-2) > 1e-9 {
		t.Errorf("qdrant / engram p99 = %g, want 2", r)
	}
	if len(g.Tasks) != 1 || g.Tasks[0].Name != "002/leak_mb_per_hour" || len(g.Tasks[0].Points) != 6 {
		t.Fatalf("task charts: %+v", g.Tasks)
	}
	if pt := g.Tasks[0].Points[4]; pt.Measured != 12 || pt.Passed {
		t.Errorf("run 4's leak: %+v, want 12 and failed", pt)
	}
	files, err := site.Files()
	if err != nil {
		t.Fatal(err)
	}
	gp := html.UnescapeString(string(files[g.Path()]))
	for _, want := range []string{`id="competitors"`, `id="vs.p99"`, "qdrant", `id="task-002+leak_mb_per_hour"`, "FAILED"} {
		if !strings.Contains(gp, want) {
			t.Errorf("group page lacks %q", want)
		}
	}
	if files[g.Tasks[0].SVGPath()] == nil || files[p99.SVGPath()] == nil {
		t.Errorf("task or competitor image missing")
	}
}

func TestChangePointsExport(t *testing.T) {
	p, site := planted(t)
	files, err := site.Files()
	if err != nil {
		t.Fatal(err)
	}
	om := string(files[ChangePointsFile])
	want := `m18_change_point{scenario="ci/fast_regression_check",fingerprint="fp-test-0001",operation="Store",metric="p99",commit="` +
		runCommit(p, p.Bad) + `",direction="worse"} 0.4`
	if !strings.Contains(om, want) || !strings.HasSuffix(om, "# EOF\n") {
		t.Errorf("change points export lacks %s:\n%s", want, om)
	}
}

func TestMaxRuns(t *testing.T) {
	p, docs := dashtest.Make(t, dashtest.Default())
	site, err := Build(docs, nil, Options{MaxRuns: 10})
	if err != nil {
		t.Fatal(err)
	}
	c := chart(t, site.Groups[0], result.OpStore, result.MetricP99)
	if len(c.Points) != 10 || c.Points[9].RunID != docs[p.Runs-1].Run.RunID || len(site.Warnings) != 1 {
		t.Errorf("%d points (last %s), warnings %q; want the newest 10 and a warning", len(c.Points), c.Points[len(c.Points)-1].RunID, site.Warnings)
	}
}
