package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/series"
	"github.com/engram/m18-gate/gate/verdict"
)

// SlackMessage is a concise alert: the answer line, where, and links.
type SlackMessage struct {
	// Headline is the status and answer ("REGRESSION: 2 regressions · …").
	Headline string
	// Where names the repository, ref or pull request.
	Where string
	// Lines are extra lines (at most a few), such as change points found by
	// a nightly job.
	Lines []string
	// Links are shown as "label" links in order.
	Links []SlackLink
}

// SlackLink is one labelled URL.
type SlackLink struct{ Label, URL string }

// AlertMessage is the Slack alert for v.
func AlertMessage(v *verdict.Verdict, where string) SlackMessage {
	m := SlackMessage{Headline: render.Headline(v), Where: where}
	failed := 0
	for _, c := range render.SortedCriteria(v) {
		if c.Passed {
			break
		}
		failed++
		if len(m.Lines) < 5 {
			m.Lines = append(m.Lines, fmt.Sprintf("task %s · %s", render.Plain(c.Task), render.Plain(c.Message)))
		}
	}
	for _, c := range render.Sorted(v) {
		if c.Decision != verdict.Regressed || len(m.Lines) >= 5 {
			continue
		}
		m.Lines = append(m.Lines, fmt.Sprintf("%s · %s · %s %s", render.Plain(c.Scenario),
			render.Plain(c.Operation), render.Plain(c.Metric), render.ChangeOf(c)))
	}
	if extra := v.Summary.Regressed + failed - len(m.Lines); extra > 0 && len(m.Lines) > 0 {
		m.Lines = append(m.Lines, fmt.Sprintf("… and %d more", extra))
	}
	for _, l := range []SlackLink{{"Workflow run", v.Links.Run}, {"Dashboard", v.Links.Dashboard}, {"Full verdict", v.Links.Artifact}} {
		if render.SafeURL(l.URL) != "" {
			m.Links = append(m.Links, l)
		}
	}
	return m
}

// ChangePointMessage is the Slack alert for the new change points of a
// nightly job (series.Recent of m18-gate changepoints' analysis): one line
// per change point, at most five, with its series, the commit it starts at,
// the means either side and the change; runURL links the workflow run.
func ChangePointMessage(changes []series.Changes, where, runURL string) SlackMessage {
	n := 0
	for _, c := range changes {
		n += len(c.ChangePoints)
	}
	word := "change points"
	if n == 1 {
		word = "change point"
	}
	m := SlackMessage{Headline: fmt.Sprintf("CHANGE POINT: %d new %s in the nightly history", n, word), Where: where}
	for _, c := range changes {
		for _, cp := range c.ChangePoints {
			if len(m.Lines) == 5 {
				break
			}
			at := cp.Label
			if at == "" && !cp.Time.IsZero() {
				at = cp.Time.UTC().Format("2006-01-02 15:04Z")
			}
			unit := ""
			if c.Unit != "" {
				unit = " " + c.Unit
			}
			m.Lines = append(m.Lines, fmt.Sprintf("%s · %s · %s: %s → %s%s (%+.1f%%) from %s, p = %.3f",
				c.Scenario, c.Operation, c.Metric, render.Number(cp.Before), render.Number(cp.After), unit, 100*cp.Change, at, cp.PValue))
		}
	}
	if extra := n - len(m.Lines); extra > 0 {
		m.Lines = append(m.Lines, fmt.Sprintf("… and %d more", extra))
	}
	if render.SafeURL(runURL) != "" {
		m.Links = append(m.Links, SlackLink{"Workflow run", runURL})
	}
	return m
}

// slackEscape applies Slack's mrkdwn escaping (&, <, >), which also disarms
// <!channel> and <@U…> mentions, after Plain.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(render.Plain(s))
}

// Text is the message's mrkdwn text.
func (m SlackMessage) Text() string {
	var b strings.Builder
	b.WriteString("*m18-gate* " + slackEscape(m.Headline))
	if m.Where != "" {
		b.WriteString(" — " + slackEscape(m.Where))
	}
	for _, l := range m.Lines {
		b.WriteString("\n• " + slackEscape(l))
	}
	var links []string
	for _, l := range m.Links {
		if u := render.SafeURL(l.URL); u != "" {
			links = append(links, "<"+u+"|"+slackEscape(l.Label)+">")
		}
	}
	if len(links) > 0 {
		b.WriteString("\n" + strings.Join(links, " · "))
	}
	return b.String()
}

// errSlackURL is what an error says instead of the webhook URL.
const slackName = "Slack webhook ($" + SlackWebhookEnv + ")"

// PostSlack sends m to a Slack incoming webhook. Connection errors, 429
// (honouring Retry-After) and 5xx are retried with doubling backoff, per p's
// bounds. Errors never contain the webhook URL, which is a secret.
func PostSlack(ctx context.Context, hc *http.Client, webhook string, m SlackMessage, p RetryPolicy) error {
	p = p.withDefaults()
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	u, err := url.Parse(webhook)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s is not an http(s) URL", slackName)
	}
	payload, err := json.Marshal(map[string]any{"text": m.Text(), "unfurl_links": false})
	if err != nil {
		return err
	}
	var waited time.Duration
	var last error
	for attempt := 1; attempt <= p.MaxAttempts; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(payload))
		if err != nil {
			return fmt.Errorf("%s: cannot build the request", slackName)
		}
		req.Header.Set("Content-Type", "application/json")
		wait := p.Backoff << (attempt - 1)
		resp, err := hc.Do(req)
		switch {
		case err != nil:
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // *url.Error carries the URL; keep only the cause
			}
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", slackName, ctx.Err())
			}
			last = fmt.Errorf("%s: %v", slackName, scrub(err.Error(), webhook))
		default:
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			last = fmt.Errorf("%s answered %d %s", slackName, resp.StatusCode, scrub(strings.TrimSpace(string(body)), webhook))
			if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
				return last // 400 invalid_payload, 403, 404 no_service: final
			}
			if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), p.Now()); ok {
				wait = d
			}
		}
		if attempt == p.MaxAttempts || wait > p.MaxWait || waited+wait > p.MaxTotal {
			break
		}
		waited += wait
		if err := p.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", slackName, err)
		}
	}
	return last
}

// scrub removes secret from s.
func scrub(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}
