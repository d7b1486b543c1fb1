package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RetryPolicy bounds how m18-report waits for GitHub. go-github v60 returns
// *github.RateLimitError and *github.AbuseRateLimitError without waiting;
// this policy waits below it, in the HTTP transport, so go-github only sees
// the final answer.
//
//   - A rate-limited answer (429, or 403 with Retry-After, with
//     X-RateLimit-Remaining: 0, or naming the secondary rate limit) is
//     retried after Retry-After (seconds or an HTTP date), else after
//     X-RateLimit-Reset, else after a minute doubling per attempt, as GitHub
//     documents.
//   - 500, 502, 503 and 504 are retried after Backoff, doubling per attempt.
//   - A connection error is retried for GET only (a POST may have landed).
//   - No single wait exceeds MaxWait and all waits of one client together do
//     not exceed MaxTotal; past either the answer is returned as is, so the
//     caller reports a problem instead of hanging the job.
type RetryPolicy struct {
	// MaxAttempts per request, including the first (default 5).
	MaxAttempts int
	// MaxWait is the longest single wait (default 2m).
	MaxWait time.Duration
	// MaxTotal bounds all waits of one client (default 5m).
	MaxTotal time.Duration
	// Backoff is the first wait after a 5xx (default 1s).
	Backoff time.Duration
	// Now and Sleep are the clock; tests pass fakes (default time.Now and a
	// context-aware sleep).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Notify, when set, is told about every wait.
	Notify func(msg string)
}

// DefaultRetryPolicy is the policy m18-report uses.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, MaxWait: 2 * time.Minute, MaxTotal: 5 * time.Minute, Backoff: time.Second}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.MaxWait <= 0 {
		p.MaxWait = d.MaxWait
	}
	if p.MaxTotal <= 0 {
		p.MaxTotal = d.MaxTotal
	}
	if p.Backoff <= 0 {
		p.Backoff = d.Backoff
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	return p
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryTransport applies a RetryPolicy to every request.
type retryTransport struct {
	base   http.RoundTripper
	policy RetryPolicy

	mu     sync.Mutex
	waited time.Duration
	// spentUntil is when the quota comes back after a successful answer
	// said none is left; the next request waits for it.
	spentUntil time.Time
}

func newRetryTransport(base http.RoundTripper, p RetryPolicy) *retryTransport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &retryTransport{base: base, policy: p.withDefaults()}
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := t.awaitQuota(req); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(ctx)
			if req.Body != nil && req.Body != http.NoBody {
				if req.GetBody == nil {
					return nil, fmt.Errorf("%s %s: cannot resend the request body", req.Method, req.URL.Path)
				}
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.base.RoundTrip(r)
		wait, why := t.classify(req, resp, err, attempt)
		if why == "" {
			t.noteQuota(resp)
			return resp, err
		}
		if attempt >= t.policy.MaxAttempts || !t.spend(wait) {
			return resp, err
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
		}
		if t.policy.Notify != nil {
			t.policy.Notify(fmt.Sprintf("%s %s: %s; retrying in %s (attempt %d of %d)",
				req.Method, req.URL.Path, why, wait.Round(time.Second), attempt+1, t.policy.MaxAttempts))
		}
		if err := t.policy.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// noteQuota remembers a successful answer's "no quota left" and hides it
// from go-github, which would otherwise refuse further requests until the
// reset by the wall clock without asking; awaitQuota waits instead, within
// the policy's bounds.
func (t *retryTransport) noteQuota(resp *http.Response) {
	if resp == nil || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		return
	}
	t.mu.Lock()
	t.spentUntil = time.Unix(reset, 0).Add(time.Second)
	t.mu.Unlock()
	resp.Header.Del("X-RateLimit-Remaining")
	resp.Header.Del("X-RateLimit-Reset")
}

// awaitQuota waits until a spent quota is back, if the wait fits the
// budget; otherwise the request goes out and meets GitHub's answer.
func (t *retryTransport) awaitQuota(req *http.Request) error {
	t.mu.Lock()
	until := t.spentUntil
	t.spentUntil = time.Time{}
	t.mu.Unlock()
	wait := until.Sub(t.policy.Now())
	if until.IsZero() || wait <= 0 || !t.spend(wait) {
		return nil
	}
	if t.policy.Notify != nil {
		t.policy.Notify(fmt.Sprintf("%s %s: rate limit spent; waiting %s for it to reset", req.Method, req.URL.Path, wait.Round(time.Second)))
	}
	return t.policy.Sleep(req.Context(), wait)
}

// spend takes wait from the budget, or reports that it does not fit.
func (t *retryTransport) spend(wait time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait > t.policy.MaxWait || t.waited+wait > t.policy.MaxTotal {
		return false
	}
	t.waited += wait
	return true
}

// classify says how long to wait before retrying, and why; why is "" when
// the answer is final.
func (t *retryTransport) classify(req *http.Request, resp *http.Response, err error, attempt int) (time.Duration, string) {
	backoff := t.policy.Backoff << (attempt - 1)
	if err != nil {
		if req.Method == http.MethodGet && req.Context().Err() == nil {
			return backoff, "connection error"
		}
		return 0, ""
	}
	h := resp.Header
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return backoff, fmt.Sprintf("GitHub answered %d", resp.StatusCode)
	case http.StatusTooManyRequests, http.StatusForbidden:
	default:
		return 0, ""
	}
	if ra := h.Get("Retry-After"); ra != "" {
		if d, ok := parseRetryAfter(ra, t.policy.Now()); ok {
			return d, fmt.Sprintf("rate limited (%d, Retry-After: %s)", resp.StatusCode, ra)
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			// One second past the reset: the header is whole seconds and
			// clocks differ.
			d := time.Unix(reset, 0).Sub(t.policy.Now()) + time.Second
			return max(d, time.Second), fmt.Sprintf("rate limit spent (%d, X-RateLimit-Reset: %s)", resp.StatusCode, h.Get("X-RateLimit-Reset"))
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || secondaryLimit(resp) {
		// "wait for at least one minute before retrying", increasing
		// exponentially per GitHub's guidance.
		return time.Minute << (attempt - 1), fmt.Sprintf("secondary rate limit (%d)", resp.StatusCode)
	}
	return 0, ""
}

// secondaryLimit reports whether a 403 body names the secondary rate limit;
// it restores the body for the caller.
func secondaryLimit(resp *http.Response) bool {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return false
	}
	s := strings.ToLower(string(b))
	return strings.Contains(s, "secondary rate limit") || strings.Contains(s, "abuse")
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
