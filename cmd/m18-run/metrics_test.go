package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

// promQuery runs an instant query against Prometheus's HTTP API and returns
// the first sample's value, ok false when the result is empty.
func promQuery(t *testing.T, base, q string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %s", q, b)
	}
	if len(r.Data.Result) == 0 {
		return 0, false
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// TestPrometheusScrapesLiveMetrics runs a real Prometheus server scraping
// m18-run --metrics-addr on loopback while a run lasts, then reads the
// series back through Prometheus's query API and checks them against the
// result document.
func TestPrometheusScrapesLiveMetrics(t *testing.T) {
	prometheusBin := testenv.Tool(t, "prometheus")
	dir := t.TempDir()
	mport, pport := competitortest.FreePort(t), competitortest.FreePort(t)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: m18-run\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n", mport)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var plog bytes.Buffer
	prom := exec.Command(prometheusBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", pport))
	prom.Stdout, prom.Stderr = &plog, &plog
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = prom.Process.Kill(); _ = prom.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", pport)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready:\n%s", plog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	out := filepath.Join(dir, "r.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--scenario", "ci/smoke", "--duration", "6s", "--warmup", "0s", "--rate", "200", "--nodes", "50",
		"--output", out, "--metrics-addr", fmt.Sprintf("127.0.0.1:%d", mport)}, &stdout, &stderr)
	if code != exitOK && code != exitGenerator {
		t.Fatalf("m18-run: exit %d\n%s", code, stderr.String())
	}
	d, err := result.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// What Prometheus holds: the last scraped count of Store requests is at
	// most what the run recorded and, with a scrape a second over six
	// seconds, at least half of it.
	const q = `max_over_time(m18_requests_total{scenario="ci/smoke",operation="Store",outcome="ok"}[5m])`
	var got float64
	for deadline := time.Now().Add(20 * time.Second); ; {
		if v, ok := promQuery(t, base, q); ok && v > 0 {
			got = v
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no m18_requests_total in Prometheus:\n%s\nm18-run: %s", plog.String(), stderr.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	store := float64(d.Repetitions[0].Operations[result.OpStore].Count)
	if got > store || got < store/2 {
		t.Errorf("Prometheus has %g Store requests, the run recorded %g", got, store)
	}
	p99, ok := promQuery(t, base, `histogram_quantile(0.99, sum by (le) (max_over_time(m18_request_latency_seconds_bucket{scenario="ci/smoke"}[5m])))`)
	if !ok || p99 <= 0 || p99 > 10 {
		t.Errorf("p99 from the scraped histogram: %g (ok %v)", p99, ok)
	}
	if _, ok := promQuery(t, base, `m18_requests_in_flight{scenario="ci/smoke"}`); !ok {
		t.Errorf("no in-flight gauge scraped")
	}
	t.Logf("Prometheus scraped %g Store requests of %g; p99 %.2f ms (run's own: %.2f ms)", got, store, p99*1000, d.Repetitions[0].Operations[result.OpStore].Latency.P99)
	// The run recorded its own process's resources (the built-in target).
	var sec struct {
		Target struct {
			Samples int     `json:"samples"`
			RSSMiB  float64 `json:"rss_mib"`
		} `json:"target"`
	}
	b, _ := json.Marshal(d.Tasks["016"])
	if err := json.Unmarshal(b, &sec); err != nil || sec.Target.Samples < 2 || sec.Target.RSSMiB <= 0 {
		t.Errorf("target resources in the result: %s", b)
	}
}
