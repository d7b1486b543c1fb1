package report

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// DefaultAPIURL is GitHub.com's REST API root; GITHUB_API_URL overrides it
// (GitHub Enterprise Server: https://HOST/api/v3).
const DefaultAPIURL = "https://api.github.com"

// NewClient returns a go-github client for the REST API at apiURL (the
// value of GITHUB_API_URL, used as the exact API root, so GitHub Enterprise
// Server's https://HOST/api/v3 works as given), authenticated with token and
// retrying per p. base is the underlying transport (nil: the default).
func NewClient(token, apiURL string, p RetryPolicy, base http.RoundTripper) (*gh.Client, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("GITHUB_API_URL %q is not an http(s) URL (want e.g. %s or https://HOST/api/v3)", apiURL, DefaultAPIURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	hc := &http.Client{Transport: newRetryTransport(base, p), Timeout: 90 * time.Second}
	c := gh.NewClient(hc)
	c.BaseURL = u
	c.UploadURL = u
	c.UserAgent = "m18-report"
	if token != "" {
		c = c.WithAuthToken(token)
	}
	return c, nil
}

// statusOf returns the HTTP status behind a go-github error, or 0.
func statusOf(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) && rl.Response != nil {
		return rl.Response.StatusCode
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	return 0
}

// isRateLimit reports whether err is go-github's rate-limit error: the
// transport gave up waiting.
func isRateLimit(err error) bool {
	var rl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	return errors.As(err, &rl) || errors.As(err, &ab)
}
