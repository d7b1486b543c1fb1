package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

var screenshot = flag.String("screenshot", "", "also save the regressed chart's screenshot to `FILE` (the README's docs/dashboard.png)")

// webdriver is the little of the W3C WebDriver protocol the test needs,
// spoken to chromedriver over HTTP on loopback.
type webdriver struct {
	t       *testing.T
	base    string
	session string
}

func (w *webdriver) call(method, path string, body any) json.RawMessage {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	url := w.base + path
	if w.session != "" && !strings.HasPrefix(path, "/session ") {
		url = w.base + "/session/" + w.session + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		w.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 {
		w.t.Fatalf("webdriver %s %s: %s: %s", method, path, resp.Status, b)
	}
	return out.Value
}

func (w *webdriver) open(url string) { w.call("POST", "/url", map[string]string{"url": url}) }

func (w *webdriver) script(js string, out any) {
	w.t.Helper()
	v := w.call("POST", "/execute/sync", map[string]any{"script": js, "args": []any{}})
	if err := json.Unmarshal(v, out); err != nil {
		w.t.Fatalf("script %q: %v (%s)", js, err, v)
	}
}

func (w *webdriver) text(css string) string {
	var s string
	w.script(fmt.Sprintf("var e = document.querySelector(%q); return e ? e.innerText : '';", css), &s)
	return s
}

func (w *webdriver) clickLink(text string) {
	w.t.Helper()
	v := w.call("POST", "/element", map[string]string{"using": "link text", "value": text})
	var el map[string]string
	if err := json.Unmarshal(v, &el); err != nil || len(el) != 1 {
		w.t.Fatalf("link %q: %s", text, v)
	}
	for _, id := range el {
		w.call("POST", "/element/"+id+"/click", map[string]any{})
	}
}

func (w *webdriver) screenshot(path string) {
	w.t.Helper()
	var b64 string
	if err := json.Unmarshal(w.call("GET", "/screenshot", nil), &b64); err != nil {
		w.t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		w.t.Fatalf("screenshot is not a PNG (%v)", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// startBrowser starts chromedriver on a free loopback port and a headless
// Chromium session; both end with the test.
func startBrowser(t *testing.T) *webdriver {
	chromiumBin, chromedriverBin := testenv.Tool(t, "chromium"), testenv.Tool(t, "chromedriver")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(chromedriverBin, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	w := &webdriver{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(w.base + "/status")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not answer on port %d: %v", port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{"binary": chromiumBin, "args": []string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--window-size=1200,1700",
		}},
	}}}
	var s struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.Unmarshal(w.call("POST", "/session", caps), &s); err != nil || s.SessionID == "" {
		t.Fatalf("no webdriver session: %v", err)
	}
	w.session = s.SessionID
	t.Cleanup(func() { // ends Chromium; chromedriver is killed after
		req, _ := http.NewRequest("DELETE", w.base+"/session/"+w.session, nil)
		if resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req); err == nil {
			resp.Body.Close()
		}
	})
	return w
}

var mdLink = regexp.MustCompile(`\[([^\]]+)\]\((https?://[^)\s]+)\)`)

// commentHTML stands in for GitHub's rendering of the PR comment: the
// Markdown as text, its links as links.
func commentHTML(md string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><body><pre>")
	last := 0
	for _, m := range mdLink.FindAllStringSubmatchIndex(md, -1) {
		b.WriteString(html.EscapeString(md[last:m[0]]))
		b.WriteString(`<a href="` + html.EscapeString(md[m[4]:m[5]]) + `">` + html.EscapeString(md[m[2]:m[3]]) + "</a>")
		last = m[1]
	}
	b.WriteString(html.EscapeString(md[last:]) + "</pre></body></html>")
	return b.String()
}

// TestBrowserRootCause opens the dashboard built from a history with a
// planted regression in headless Chromium, checks that every chart image
// loads and every link resolves, then takes the path a person takes from
// a red check: the PR comment's "regressed" link → the metric's chart page
// → last good, first bad, the commits between them, what moved, the
// target's resources. It times that path.
func TestBrowserRootCause(t *testing.T) {
	p, bare := plantedHistory(t)
	out := filepath.Join(t.TempDir(), "site")
	if code, o, e := testenv.Run(run, "build", "--repo", "file://"+bare, "--source-repo", p.SourceDir, "--repo-url", repoURL, "--out", out); code != 0 {
		t.Fatalf("build: exit %d\n%s%s", code, o, e)
	}
	var comment string
	mux := http.NewServeMux()
	mux.Handle("/m18/", http.StripPrefix("/m18/", http.FileServer(http.Dir(out))))
	mux.HandleFunc("/pr/42", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, commentHTML(comment))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dash := srv.URL + "/m18/"

	// The comment m18-report writes for this regression.
	reg := verdict.Comparison{Scenario: p.Scenario, Operation: result.OpStore, Metric: result.MetricP99, Unit: "ms",
		NBase: 10, NHead: 10, BaseMedian: 2, HeadMedian: 2.8, Change: 0.4, CILow: 0.35, CIHigh: 0.45, PValue: 0.001, PAdjusted: 0.001,
		Threshold: 0.05, Decision: verdict.Regressed, Reason: "p99 rose +40%"}
	v := &verdict.Verdict{Schema: verdict.SchemaVersion, Alpha: 0.01, Threshold: 0.05,
		Base:        verdict.Side{Commit: p.Commits[p.Bad-1], Fingerprint: p.Fingerprint},
		Head:        verdict.Side{Commit: p.Commits[p.Bad+p.Extra], Fingerprint: p.Fingerprint},
		Comparisons: []verdict.Comparison{reg}, Links: verdict.Links{Dashboard: dash}}
	v.Summary = verdict.Summarize(v.Comparisons, nil)
	comment = render.Markdown(v, render.Options{})
	chartURL := dash + render.ChartPath(p.Scenario, p.Fingerprint, result.OpStore, result.MetricP99)
	if !strings.Contains(comment, "[regressed]("+render.SafeURL(chartURL)+")") {
		t.Fatalf("the comment does not link the regression to %s:\n%s", chartURL, comment)
	}

	w := startBrowser(t)

	// 1. The dashboard: every page's images load and every link resolves.
	w.open(dash + "index.html")
	var pages []string
	w.script(`return Array.from(document.links).map(a => a.href);`, &pages)
	if len(pages) < 2 {
		t.Fatalf("index links %d pages", len(pages))
	}
	checked := map[string]bool{}
	charts := 0
	for i := 0; i < len(pages) && len(checked) < 80; i++ {
		u := strings.SplitN(pages[i], "#", 2)[0]
		if checked[u] || !strings.HasPrefix(u, dash) {
			continue
		}
		checked[u] = true
		if !strings.HasSuffix(u, ".html") && !strings.HasSuffix(u, "/") {
			// A file, not a page (the change points' OpenMetrics).
			resp, err := http.Get(u)
			if err != nil {
				t.Errorf("%s: %v", u, err)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: %s", u, resp.Status)
			}
			continue
		}
		w.open(u)
		var broken []string
		w.script(`return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);`, &broken)
		if len(broken) > 0 {
			t.Errorf("%s: images that did not load: %v", u, broken)
		}
		var n int
		w.script(`return document.querySelectorAll('img.chart').length;`, &n)
		charts += n
		var more []string
		w.script(`return Array.from(document.links).map(a => a.href);`, &more)
		pages = append(pages, more...)
		var title string
		w.script(`return document.title;`, &title)
		if title == "" || strings.Contains(title, "404") {
			t.Errorf("%s: no page (title %q)", u, title)
		}
	}
	if charts < 20 {
		t.Errorf("%d charts seen over %d pages, want the trend charts of every operation and metric", charts, len(checked))
	}
	t.Logf("browsed %d dashboard pages, %d charts, all images loaded", len(checked), charts)

	// 2. From the red check's comment to the cause.
	start := time.Now()
	w.open(srv.URL + "/pr/42")
	w.clickLink("regressed")
	var here string
	if err := json.Unmarshal(w.call("GET", "/url", nil), &here); err != nil || here != render.SafeURL(chartURL) {
		t.Fatalf("the comment's link led to %q, want %s", here, chartURL)
	}
	rc := w.text("#root-cause")
	lastGood, firstBad := p.Commits[p.Bad-1][:12], p.Commits[p.Bad+p.Extra][:12]
	for _, want := range []string{"Regression", "+40"} {
		if !strings.Contains(rc, want) {
			t.Errorf("root cause section lacks %q:\n%s", want, rc)
		}
	}
	if got := w.text("#last-good"); got != lastGood {
		t.Errorf("last good %q, want %s", got, lastGood)
	}
	if got := w.text("#first-bad"); got != firstBad {
		t.Errorf("first bad %q, want %s", got, firstBad)
	}
	commits := w.text("#commits")
	for _, s := range []string{"store: fsync every write", "engine: refactor 0", "engine: refactor 1"} {
		if !strings.Contains(commits, s) {
			t.Errorf("commits between last good and first bad lack %q:\n%s", s, commits)
		}
	}
	var commitLinks []string
	w.script(`return Array.from(document.querySelectorAll('#commits a')).map(a => a.href);`, &commitLinks)
	if len(commitLinks) != p.Extra+1 || !strings.HasPrefix(commitLinks[0], repoURL+"/commit/") {
		t.Errorf("commit links %v", commitLinks)
	}
	if moved := w.text("#moved"); !strings.Contains(moved, "Store · p50") || strings.Contains(moved, "Recall · p99") {
		t.Errorf("what moved together:\n%s", moved)
	}
	if res := w.text("#resources"); !strings.Contains(res, "0.60") || !strings.Contains(res, "0.84") {
		t.Errorf("target resources before/after:\n%s", res)
	}
	elapsed := time.Since(start)
	t.Logf("time to root cause (comment → chart page → last good, first bad, %d commits, what moved, CPU/RSS): %s, one click", p.Extra+1, elapsed.Round(time.Millisecond))
	if elapsed > 5*time.Minute {
		t.Errorf("the path took %s, over the 5 minutes the milestone allows", elapsed)
	}
	shot := filepath.Join(t.TempDir(), "chart.png")
	w.screenshot(shot)
	if *screenshot != "" {
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile(*screenshot, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
