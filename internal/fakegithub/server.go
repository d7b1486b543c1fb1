// Package fakegithub is an in-process stand-in for the parts of GitHub's REST
// API that m18-report uses, built on net/http/httptest and written from
// GitHub's documentation: check runs (create, update, get, list annotations),
// issue comments (list with per_page/page and Link headers, create, update,
// delete), pull requests (get one; list with the state, head and base
// filters), and GET /user.
//
// It is opinionated about being strict where GitHub is strict, because the
// reporter must survive the real thing: every request needs an
// "Authorization: token X" or "Bearer X" header (401 otherwise); read-only
// tokens get 403 "Resource not accessible by integration" on writes;
// installation tokens (GITHUB_TOKEN) get 403 from GET /user; more than 50
// annotations in one request, or an output summary or text over 65 535
// characters, is 422; a comment body over 65 536 characters is 422; every
// response carries X-RateLimit-* headers and a token that spends its quota
// gets a primary rate-limit 403. Tests inject secondary rate limits (403/429
// with Retry-After), primary ones (X-RateLimit-Remaining: 0 with Reset) and
// 5xx with Inject, and inspect the resulting state with Comments and
// CheckRuns.
package fakegithub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Access is a token's permission on one area of a repository.
type Access string

// Access levels, as in a workflow's permissions: block.
const (
	None  Access = "none"
	Read  Access = "read"
	Write Access = "write"
)

// Identity is who a token belongs to and what it may do.
type Identity struct {
	// Login of the user or bot, e.g. "octocat" or "github-actions[bot]".
	Login string
	// Installation marks a GitHub App installation token such as
	// GITHUB_TOKEN: GET /user answers 403 for it, and only such tokens may
	// create check runs.
	Installation bool
	// Checks and PullRequests are the token's permissions ("checks" and
	// "pull-requests" in a workflow's permissions: block). Reading needs Read
	// or Write; writing needs Write.
	Checks, PullRequests Access
}

// BotLogin is the login of the identity behind GitHub Actions' GITHUB_TOKEN.
const BotLogin = "github-actions[bot]"

// ActionsToken returns the identity of a GITHUB_TOKEN with the given access to
// checks and pull requests.
func ActionsToken(checks, pullRequests Access) Identity {
	return Identity{Login: BotLogin, Installation: true, Checks: checks, PullRequests: pullRequests}
}

// UserToken returns the identity of a personal access token with write
// access to pull requests (comments) and read access to checks.
func UserToken(login string) Identity {
	return Identity{Login: login, Checks: Read, PullRequests: Write}
}

// RateLimit configures the primary (per-token, per-window) rate limit.
type RateLimit struct {
	Limit  int
	Window time.Duration
}

// Option configures a Server.
type Option func(*Server)

// WithToken accepts token as identity id.
func WithToken(token string, id Identity) Option {
	return func(s *Server) { s.tokens[token] = id }
}

// WithClock sets the server's clock, which stamps times and drives rate-limit
// windows; tests share it with the client's fake clock.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithPathPrefix serves the API under prefix, as GitHub Enterprise Server
// does under "/api/v3".
func WithPathPrefix(prefix string) Option {
	return func(s *Server) { s.prefix = strings.TrimSuffix(prefix, "/") }
}

// WithRateLimit sets the primary rate limit (default 5000 requests per hour).
func WithRateLimit(r RateLimit) Option {
	return func(s *Server) { s.rate = r }
}

// Request is one request the server answered, for assertions.
type Request struct {
	Method string
	// Path is the URL path without the prefix; Query is the raw query.
	Path, Query string
	Status      int
}

// Server is a running fake. The zero value is not usable; call New or Start.
type Server struct {
	// URL is the API base URL (including any path prefix), without a
	// trailing slash.
	URL string

	srv    *httptest.Server
	prefix string
	now    func() time.Time
	rate   RateLimit

	mu        sync.Mutex
	tokens    map[string]Identity
	buckets   map[string]*bucket
	nextID    int64
	comments  []*Comment
	checkRuns []*CheckRun
	pulls     []*PullRequest
	faults    []*Fault
	requests  []Request
	routes    map[string]endpoint
}

type bucket struct {
	remaining int
	reset     time.Time
}

// New starts a fake on a loopback port; Close stops it.
func New(opts ...Option) *Server {
	s := newServer(opts...)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL + s.prefix
	return s
}

func newServer(opts ...Option) *Server {
	s := &Server{
		now:     time.Now,
		rate:    RateLimit{Limit: 5000, Window: time.Hour},
		tokens:  map[string]Identity{},
		buckets: map[string]*bucket{},
		nextID:  1000,
	}
	for _, o := range opts {
		o(s)
	}
	s.routes = s.repoRoutes()
	return s
}

// NewHandler returns the fake as an http.Handler, for serving it on a
// listener of the caller's choosing (the fakegithub command does). Set the
// returned Server's URL to the address it is reachable at.
func NewHandler(opts ...Option) *Server { return newServer(opts...) }

// Close stops the server.
func (s *Server) Close() {
	if s.srv != nil {
		s.srv.Close()
	}
}

// AddToken accepts token as identity id from now on.
func (s *Server) AddToken(token string, id Identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = id
}

// Requests returns every request answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// errorBody is GitHub's error document.
type errorBody struct {
	Message          string       `json:"message"`
	Errors           []FieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
	Status           string       `json:"status"`
}

// FieldError is one entry of a 422 "Validation Failed" body.
type FieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	Message  string `json:"message,omitempty"`
}

const docs = "https://docs.github.com/rest"

type ctxResponse struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	id     Identity
	path   string
	status int
	// doc is the documentation URL of the endpoint answering.
	doc string
}

// writeHeader logs the request, then sends the status: logging first keeps
// the log in the order the client saw the answers.
func (c *ctxResponse) writeHeader(status int) {
	c.status = status
	c.s.mu.Lock()
	c.s.requests = append(c.s.requests, Request{Method: c.r.Method, Path: c.path, Query: c.r.URL.RawQuery, Status: status})
	c.s.mu.Unlock()
	c.w.WriteHeader(status)
}

func (c *ctxResponse) json(status int, v any) {
	c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.writeHeader(status)
	if v != nil {
		enc := json.NewEncoder(c.w)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	}
}

func (c *ctxResponse) fail(status int, msg, doc string, errs ...FieldError) {
	if doc == "" {
		doc = docs
	}
	c.json(status, errorBody{Message: msg, Errors: errs, DocumentationURL: doc, Status: strconv.Itoa(status)})
}

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_fake/state" {
		s.serveState(w)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok || (s.prefix != "" && path != "" && path[0] != '/') {
		http.NotFound(w, r)
		return
	}
	c := &ctxResponse{s: s, w: w, r: r, path: path}
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	s.mu.Lock()
	s.nextID++
	w.Header().Set("X-GitHub-Request-Id", fmt.Sprintf("FAKE:%d", s.nextID))
	s.mu.Unlock()

	token, scheme := authToken(r.Header.Get("Authorization"))
	if scheme == "" {
		c.fail(http.StatusUnauthorized, "Requires authentication", docs)
		return
	}
	s.mu.Lock()
	id, known := s.tokens[token]
	s.mu.Unlock()
	if !known {
		c.fail(http.StatusUnauthorized, "Bad credentials", docs)
		return
	}
	c.id = id
	if s.applyFault(c) {
		return
	}
	if !s.spend(c, token) {
		return
	}
	s.route(c)
}

// authToken parses "token X" or "Bearer X" (case-insensitive scheme).
func authToken(h string) (token, scheme string) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || token == "" {
		return "", ""
	}
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return strings.TrimSpace(token), scheme
	}
	return "", ""
}

// spend charges one request to token's primary rate limit, sets the
// X-RateLimit-* headers, and answers 403 when the quota is spent.
func (s *Server) spend(c *ctxResponse, token string) bool {
	s.mu.Lock()
	now := s.now()
	b := s.buckets[token]
	if b == nil || !now.Before(b.reset) {
		b = &bucket{remaining: s.rate.Limit, reset: now.Add(s.rate.Window)}
		s.buckets[token] = b
	}
	exceeded := b.remaining <= 0
	if !exceeded {
		b.remaining--
	}
	h := c.w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.rate.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(b.reset), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.rate.Limit-b.remaining))
	h.Set("X-RateLimit-Resource", "core")
	s.mu.Unlock()
	if exceeded {
		c.fail(http.StatusForbidden, "API rate limit exceeded for "+c.id.Login+".",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit")
		return false
	}
	return true
}

func ceilUnix(t time.Time) int64 {
	u := t.Unix()
	if t.After(time.Unix(u, 0)) {
		u++
	}
	return u
}

// repoHandler answers a request under /repos/OWNER/REPO/; id is the path's
// numeric segment (a check run, issue or comment number), 0 when it has none.
type repoHandler func(c *ctxResponse, owner, repo string, id int64)

// area is a token's permission area in a repository.
type area int

const (
	areaChecks       area = iota // "checks"
	areaPullRequests             // "pull-requests"
)

// access is what id may do on a.
func (id Identity) access(a area) Access {
	if a == areaChecks {
		return id.Checks
	}
	return id.PullRequests
}

// endpoint is one endpoint under /repos/OWNER/REPO/: what it serves, and
// what it asks of the token before that, answering 403 with doc when the
// token is not a GitHub App installation (appOnly) or lacks need on area.
type endpoint struct {
	area    area
	need    Access
	appOnly bool
	doc     string
	serve   repoHandler
}

// repoRoutes are the endpoints under /repos/OWNER/REPO/, keyed by method and
// the rest of the path with its numeric segment written {id}.
func (s *Server) repoRoutes() map[string]endpoint {
	return map[string]endpoint{
		"POST check-runs":                 {areaChecks, Write, true, docs + "/checks/runs#create-a-check-run", s.createCheckRun},
		"PATCH check-runs/{id}":           {areaChecks, Write, false, docs + "/checks/runs#update-a-check-run", s.updateCheckRun},
		"GET check-runs/{id}":             {areaChecks, Read, false, docs + "/checks/runs#get-a-check-run", s.getCheckRun},
		"GET check-runs/{id}/annotations": {areaChecks, Read, false, docs + "/checks/runs#list-check-run-annotations", s.listAnnotations},
		"GET issues/{id}/comments":        {areaPullRequests, Read, false, docs + "/issues/comments#list-issue-comments", s.listComments},
		"POST issues/{id}/comments":       {areaPullRequests, Write, false, docs + "/issues/comments#create-an-issue-comment", s.createComment},
		"GET issues/comments/{id}":        {areaPullRequests, Read, false, docs, s.getComment},
		"PATCH issues/comments/{id}":      {areaPullRequests, Write, false, docs + "/issues/comments#update-an-issue-comment", s.updateComment},
		"DELETE issues/comments/{id}":     {areaPullRequests, Write, false, docs + "/issues/comments#delete-an-issue-comment", s.deleteComment},
		"GET pulls":                       {areaPullRequests, Read, false, docs + "/pulls/pulls#list-pull-requests", s.listPulls},
		"GET pulls/{id}":                  {areaPullRequests, Read, false, docs + "/pulls/pulls#get-a-pull-request", s.getPull},
	}
}

func (s *Server) route(c *ctxResponse) {
	parts := strings.Split(strings.Trim(c.path, "/"), "/")
	m := c.r.Method
	if len(parts) == 1 && parts[0] == "user" && m == http.MethodGet {
		s.getUser(c)
		return
	}
	if len(parts) >= 3 && parts[0] == "repos" {
		rest := parts[3:]
		var id int64
		for i, p := range rest {
			if n, err := strconv.ParseInt(p, 10, 64); err == nil {
				id, rest[i] = n, "{id}"
			}
		}
		if e, ok := s.routes[m+" "+strings.Join(rest, "/")]; ok {
			c.doc = e.doc
			if e.appOnly && !c.id.Installation {
				c.fail(http.StatusForbidden, "You must authenticate via a GitHub App.", e.doc)
				return
			}
			if denied(c, c.id.access(e.area), e.need, e.doc) {
				return
			}
			e.serve(c, parts[1], parts[2], id)
			return
		}
	}
	c.fail(http.StatusNotFound, "Not Found", docs)
}

// Location is the repository owner/repo an object belongs to.
type Location struct {
	Owner, Repo string
}

// in reports whether l is owner/repo; GitHub compares both without regard
// to case.
func (l Location) in(owner, repo string) bool {
	return strings.EqualFold(l.Owner, owner) && strings.EqualFold(l.Repo, repo)
}

// User is GitHub's simple user object.
type User struct {
	Login     string `json:"login"`
	ID        int64  `json:"id"`
	NodeID    string `json:"node_id"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	Type      string `json:"type"`
	SiteAdmin bool   `json:"site_admin"`
}

func (s *Server) user(login string) User {
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	id := int64(0)
	for _, r := range login {
		id = id*31 + int64(r)
	}
	if id < 0 {
		id = -id
	}
	id = id%100000000 + 1
	return User{
		Login: login, ID: id, NodeID: fmt.Sprintf("U_fake%d", id), Type: typ,
		URL: s.URL + "/users/" + url.PathEscape(login), HTMLURL: "https://github.com/" + url.PathEscape(login),
	}
}

func (s *Server) getUser(c *ctxResponse) {
	if c.id.Installation {
		c.fail(http.StatusForbidden, "Resource not accessible by integration",
			"https://docs.github.com/rest/users/users#get-the-authenticated-user")
		return
	}
	c.json(http.StatusOK, s.user(c.id.Login))
}

// denied answers 403 when the token has access have where it needs need,
// with GitHub's wording for the token kind.
func denied(c *ctxResponse, have, need Access, doc string) bool {
	ok := have == Write || (need == Read && have == Read)
	if ok {
		return false
	}
	msg := "Resource not accessible by personal access token"
	if c.id.Installation {
		msg = "Resource not accessible by integration"
	}
	c.fail(http.StatusForbidden, msg, doc)
	return true
}

// notFound answers 404 Not Found (with doc) when missing, and reports
// whether it did.
func (c *ctxResponse) notFound(missing bool, doc string) bool {
	if missing {
		c.fail(http.StatusNotFound, "Not Found", doc)
	}
	return missing
}

// decode reads a JSON request body into v, answering 400 on bad JSON.
func decode(c *ctxResponse, v any) bool {
	if err := json.NewDecoder(c.r.Body).Decode(v); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON", docs)
		return false
	}
	return true
}

// paginate picks page of n items from the per_page and page query
// parameters (GitHub: per_page default 30, max 100; page from 1) and sets
// the Link header with first, prev, next and last.
func (s *Server) paginate(c *ctxResponse, n int) (lo, hi int) {
	q := c.r.URL.Query()
	per := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	page := 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max(1, (n+per-1)/per)
	link := func(p int, rel string) string {
		q2 := c.r.URL.Query()
		q2.Set("page", strconv.Itoa(p))
		q2.Set("per_page", strconv.Itoa(per))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, s.base(c), c.r.URL.Path, q2.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo = min((page-1)*per, n)
	hi = min(lo+per, n)
	return lo, hi
}

// base is the scheme and host the client used.
func (s *Server) base(c *ctxResponse) string {
	return "http://" + c.r.Host
}

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) stamp() time.Time {
	return s.now().UTC().Truncate(time.Second)
}

// State is everything the fake holds, as served at /_fake/state for tests
// that run the fakegithub command as a process.
type State struct {
	Comments  []Comment       `json:"comments"`
	CheckRuns []CheckRunState `json:"check_runs"`
}

// CheckRunState is a check run with every annotation it received.
type CheckRunState struct {
	CheckRun
	Annotations []Annotation `json:"annotations"`
}

func (s *Server) serveState(w http.ResponseWriter) {
	s.mu.Lock()
	var st State
	for _, c := range s.comments {
		st.Comments = append(st.Comments, *c)
	}
	for _, r := range s.checkRuns {
		st.CheckRuns = append(st.CheckRuns, r.state())
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

func sortByID[T any](xs []T, id func(T) int64) {
	sort.Slice(xs, func(i, j int) bool { return id(xs[i]) < id(xs[j]) })
}
