package report

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/gate/verdict"
	"github.com/engram/m18-gate/internal/fakeslack"
	"github.com/engram/m18-gate/internal/testenv"
)

func TestSlackRetriesAndSucceeds(t *testing.T) {
	hook := fakeslack.Start(t, 500, 429)
	clock := &fakeClock{t: time.Unix(1_760_000_000, 0)}
	v := mkVerdict(8, 7)
	v.Comparisons[0].Scenario = "<!channel> & <@U123>"
	v.Links.Run = "https://github.com/o/r/actions/runs/9"
	err := PostSlack(context.Background(), nil, hook.URL, AlertMessage(v, "o/r PR 1"),
		RetryPolicy{Now: clock.Now, Sleep: clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	if got := clock.Slept(); len(got) != 2 || got[0] != time.Second || got[1] != 3*time.Second {
		t.Errorf("slept %v, want [1s 3s] (backoff, then Retry-After)", got)
	}
	texts := hook.Texts()
	text := texts[len(texts)-1]
	for _, want := range []string{"REGRESSION: 7 regressions · 1 unchanged", "o/r PR 1", "<https://github.com/o/r/actions/runs/9|Workflow run>", "… and 2 more", "&lt;!channel&gt; &amp; &lt;@U123&gt;"} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "<!channel>") {
		t.Errorf("message can ping the channel")
	}
}

func TestSlackErrorsHideTheURL(t *testing.T) {
	// A closed port: the connection error must not name the URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	webhook := "http://" + addr + "/services/T000/B000/XXXXSECRET"
	clock := &fakeClock{}
	err = PostSlack(context.Background(), nil, webhook, SlackMessage{Headline: "x"}, RetryPolicy{Now: clock.Now, Sleep: clock.Sleep, MaxAttempts: 3})
	if err == nil || strings.Contains(err.Error(), "XXXXSECRET") {
		t.Errorf("error %v, want one that hides the webhook", err)
	}
	if n := len(clock.Slept()); n != 2 {
		t.Errorf("%d waits, want 2 (3 attempts)", n)
	}

	// A 404 is final and its body, were it to echo the URL, is scrubbed.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		w.Write([]byte("no_service for http://" + r.Host + r.URL.Path))
	}))
	defer srv.Close()
	webhook = srv.URL + "/services/T/B/XXXXSECRET"
	clock = &fakeClock{}
	err = PostSlack(context.Background(), nil, webhook, SlackMessage{Headline: "x"}, RetryPolicy{Now: clock.Now, Sleep: clock.Sleep})
	if err == nil || strings.Contains(err.Error(), "XXXXSECRET") || len(clock.Slept()) != 0 {
		t.Errorf("404: error %v after %d waits", err, len(clock.Slept()))
	}
}

func TestReporterSendsSlackOnRegression(t *testing.T) {
	hook := fakeslack.Start(t)
	h := newHarness(t)
	cfg := h.config("ghs_rw")
	cfg.Slack, cfg.SlackWebhook = true, hook.URL
	if o := h.run(cfg, mkVerdict(3, 0)); o.SlackSent || len(hook.Texts()) != 0 {
		t.Errorf("alert sent for a passing verdict")
	}
	o := h.run(cfg, mkVerdict(3, 1))
	noProblems(t, o)
	if !o.SlackSent || len(hook.Texts()) != 1 {
		t.Errorf("no alert for a regression")
	}
	if !strings.Contains(h.stdout.String(), "::add-mask::"+cfg.SlackWebhook) {
		t.Errorf("webhook not masked")
	}
	cfg.SlackWebhook = ""
	if o := h.run(cfg, mkVerdict(3, 1)); len(o.Problems) != 1 || !strings.Contains(o.Problems[0].String(), SlackWebhookEnv) {
		t.Errorf("missing webhook: %v", o.Problems)
	}
}

func TestConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string { return testenv.WriteFile(t, dir, name, body) }
	pr := write("pr.json", `{"action":"synchronize","pull_request":{"number":17,"head":{"sha":"abc1230"}}}`)
	wr := write("wr.json", `{"workflow_run":{"id":5,"head_sha":"bbb222","html_url":"https://github.com/o/r/actions/runs/5","pull_requests":[{"number":23}]}}`)
	fork := write("fork.json", `{"workflow_run":{"head_sha":"ccc333","pull_requests":[]}}`)
	bad := write("bad.json", `{`)
	tests := []struct {
		name    string
		env     map[string]string
		pr      int
		sha     string
		run     string
		wantErr bool
	}{
		{"pull_request", map[string]string{"GITHUB_EVENT_PATH": pr}, 17, "abc1230", "https://github.com/o/r/actions/runs/99", false},
		{"workflow_run", map[string]string{"GITHUB_EVENT_PATH": wr}, 23, "bbb222", "https://github.com/o/r/actions/runs/5", false},
		{"fork workflow_run", map[string]string{"GITHUB_EVENT_PATH": fork}, 0, "ccc333", "https://github.com/o/r/actions/runs/99", false},
		{"push", map[string]string{}, 0, "eee555", "https://github.com/o/r/actions/runs/99", false},
		{"bad payload", map[string]string{"GITHUB_EVENT_PATH": bad}, 0, "", "", true},
		{"missing payload", map[string]string{"GITHUB_EVENT_PATH": filepath.Join(dir, "nope")}, 0, "", "", true},
	}
	for _, tt := range tests {
		env := map[string]string{"GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": "eee555", "GITHUB_RUN_ID": "99", "GITHUB_TOKEN": "t"}
		for k, v := range tt.env {
			env[k] = v
		}
		c, err := ConfigFromEnv(func(k string) string { return env[k] })
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v", tt.name, err)
			continue
		}
		if tt.wantErr {
			continue
		}
		if c.PR != tt.pr || c.SHA != tt.sha || c.RunURL != tt.run || c.Owner != "o" || c.Repo != "r" || c.Token != "t" {
			t.Errorf("%s: %+v", tt.name, c)
		}
	}
	if _, err := ConfigFromEnv(func(k string) string { return map[string]string{"GITHUB_REPOSITORY": "noslash"}[k] }); err == nil {
		t.Errorf("GITHUB_REPOSITORY without a slash accepted")
	}
}

func TestParseCommentMode(t *testing.T) {
	for in, want := range map[string]CommentMode{"": CommentAlways, "always": CommentAlways, "On-Change": CommentOnChange, "never": CommentNever} {
		if got, err := ParseCommentMode(in); err != nil || got != want {
			t.Errorf("ParseCommentMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCommentMode("sometimes"); err == nil {
		t.Errorf("sometimes accepted")
	}
	_ = verdict.SchemaVersion
}

func TestChangePointAlert(t *testing.T) {
	hook := fakeslack.Start(t, 503)
	clock := &fakeClock{t: time.Unix(1_760_000_000, 0)}
	changes := []series.Changes{{
		Scenario: "tasks/006_tails_pr <!channel>", Operation: "overall", Metric: "p99", Unit: "ms", Points: 18,
		ChangePoints: []series.ChangePointAt{{Index: 12, Label: "0123456789ab", PValue: 0.005, Before: 2, After: 4, Change: 1, Recent: true}},
	}}
	m := ChangePointMessage(changes, "acme/engram @ 0123456789ab", "https://github.com/acme/engram/actions/runs/7")
	if err := PostSlack(context.Background(), nil, hook.URL, m, RetryPolicy{Now: clock.Now, Sleep: clock.Sleep}); err != nil {
		t.Fatal(err)
	}
	texts := hook.Texts()
	if len(texts) != 2 || texts[0] != texts[1] {
		t.Fatalf("want one retry of the same text after a 503, got %q", texts)
	}
	want := "*m18-gate* CHANGE POINT: 1 new change point in the nightly history — acme/engram @ 0123456789ab\n" +
		"• tasks/006_tails_pr &lt;!channel&gt; · overall · p99: 2 → 4 ms (+100.0%) from 0123456789ab, p = 0.005\n" +
		"<https://github.com/acme/engram/actions/runs/7|Workflow run>"
	if texts[0] != want {
		t.Errorf("text\n%s\nwant\n%s", texts[0], want)
	}
}

// TestCriteriaInReport: a failed task criterion fails the check run, gets a
// failure annotation with its measured value and limit, and leads the
// Slack alert, though no comparison regressed.
func TestCriteriaInReport(t *testing.T) {
	v := mkVerdict(2, 0)
	v.Criteria = []verdict.Criterion{
		{Task: "002", Scenario: "tasks/002_soak_pr", Name: "002/error_rate", Measured: 0, Limit: 0.01, Passed: true, Message: "002/error_rate ok: measured 0, expected ≤ 0.01"},
		{Task: "002", Scenario: "tasks/002_soak_pr", Name: "002/rss_slope_mib_per_h", Measured: 42.5, Limit: 10, Passed: false,
			Message: "002/rss_slope_mib_per_h FAILED: measured 42.5 MiB/h, expected ≤ 10 MiB/h"},
	}
	v = v.Trusted(verdict.Links{})
	o := Output(v, ".github/m18-gate.toml", "")
	if o.Conclusion != "failure" || !strings.HasPrefix(o.Title, "REGRESSION: 1 criterion failed") {
		t.Errorf("check run %q %q, want failure and the criterion in the title", o.Conclusion, o.Title)
	}
	if len(o.Annotations) != 1 || o.Annotations[0].GetAnnotationLevel() != "failure" ||
		o.Annotations[0].GetTitle() != "task 002: 002/rss_slope_mib_per_h failed" ||
		!strings.Contains(o.Annotations[0].GetMessage(), "measured 42.5, limit 10") {
		t.Errorf("annotations %+v, want one failure for the RSS slope with its measured value and limit", o.Annotations)
	}
	if !strings.Contains(o.Summary, "| 002 | 002/rss\\_slope\\_mib\\_per\\_h | 42.5 | 10 | **failed** |") {
		t.Errorf("check run summary lacks the criterion row:\n%s", o.Summary)
	}
	// A comment in on-change mode is written for a failed criterion, and
	// its decision set changes when a criterion flips.
	if !notable(v) {
		t.Error("a failed criterion is not notable for comment: on-change")
	}
	failing := DecisionSet(v)
	v.Criteria[1].Passed = true
	if DecisionSet(v) == failing {
		t.Error("the decision set does not change when a criterion flips")
	}
	v.Criteria[1].Passed = false
	m := AlertMessage(v, "acme/engram @ abc")
	if len(m.Lines) != 1 || m.Lines[0] != "task 002 · 002/rss_slope_mib_per_h FAILED: measured 42.5 MiB/h, expected ≤ 10 MiB/h" {
		t.Errorf("Slack lines %q", m.Lines)
	}
}
