package fakegithub

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is an error response the server gives instead of the real answer,
// for the next Times requests that match Method and Path.
type Fault struct {
	// Method and Path (without the prefix, e.g. "/repos/o/r/check-runs")
	// select requests; "" matches any. Path may end in "*" to match a prefix.
	Method, Path string
	// Times is how many matching requests get the fault (at least 1).
	Times int
	// Status, Header and Body make up the response; Body is sent as JSON.
	Status int
	Header http.Header
	Body   any
}

const (
	docPrimary   = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit"
	docSecondary = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)

// SecondaryRateLimit is GitHub's answer to too many concurrent or too fast
// requests: status 403 (or 429) with a Retry-After header in seconds.
func SecondaryRateLimit(status int, retryAfter time.Duration) Fault {
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
	return Fault{Status: status, Header: h, Body: errorBody{
		Message:          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
		DocumentationURL: docSecondary, Status: strconv.Itoa(status),
	}}
}

// PrimaryRateLimit is GitHub's answer when the token's hourly quota is spent:
// status 403 (or 429) with X-RateLimit-Remaining: 0 and X-RateLimit-Reset,
// the epoch second the quota comes back.
func PrimaryRateLimit(status int, reset time.Time) Fault {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Used", "5000")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
	h.Set("X-RateLimit-Resource", "core")
	return Fault{Status: status, Header: h, Body: errorBody{
		Message:          "API rate limit exceeded for installation ID 4242.",
		DocumentationURL: docPrimary, Status: strconv.Itoa(status),
	}}
}

// ServerError is a 5xx answer.
func ServerError(status int) Fault {
	return Fault{Status: status, Body: errorBody{Message: http.StatusText(status), DocumentationURL: docs, Status: strconv.Itoa(status)}}
}

// On returns f restricted to method and path, for times requests.
func (f Fault) On(method, path string, times int) Fault {
	f.Method, f.Path, f.Times = method, path, times
	return f
}

// Inject queues f: matching requests get it, in the order faults were
// injected, until its Times are used up.
func (s *Server) Inject(f Fault) {
	if f.Times < 1 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// applyFault answers c with the first matching fault, if any.
func (s *Server) applyFault(c *ctxResponse) bool {
	s.mu.Lock()
	var f *Fault
	for _, x := range s.faults {
		if x.Times > 0 && (x.Method == "" || x.Method == c.r.Method) && pathMatch(x.Path, c.path) {
			f = x
			f.Times--
			break
		}
	}
	s.mu.Unlock()
	if f == nil {
		return false
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			c.w.Header().Set(k, v)
		}
	}
	c.json(f.Status, f.Body)
	return true
}

func pathMatch(pattern, path string) bool {
	if pattern == "" {
		return true
	}
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, p)
	}
	return pattern == path
}
