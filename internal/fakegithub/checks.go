package fakegithub

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits GitHub documents for check runs.
const (
	MaxAnnotationsPerRequest = 50
	MaxOutputChars           = 65535
)

// CheckRun is GitHub's check run object, as the API returns it.
type CheckRun struct {
	ID          int64      `json:"id"`
	NodeID      string     `json:"node_id"`
	HeadSHA     string     `json:"head_sha"`
	ExternalID  string     `json:"external_id"`
	URL         string     `json:"url"`
	HTMLURL     string     `json:"html_url"`
	DetailsURL  string     `json:"details_url"`
	Status      string     `json:"status"`
	Conclusion  *string    `json:"conclusion"`
	StartedAt   *time.Time `json:"started_at"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      Output     `json:"output"`
	Name        string     `json:"name"`
	CheckSuite  struct {
		ID int64 `json:"id"`
	} `json:"check_suite"`
	App struct {
		ID   int64  `json:"id"`
		Slug string `json:"slug"`
		Name string `json:"name"`
	} `json:"app"`
	PullRequests []any `json:"pull_requests"`

	Location `json:"-"`

	annotations []Annotation
}

// Output is a check run's output object.
type Output struct {
	Title            *string `json:"title"`
	Summary          *string `json:"summary"`
	Text             *string `json:"text"`
	AnnotationsCount int     `json:"annotations_count"`
	AnnotationsURL   string  `json:"annotations_url"`
}

// Annotation is one check-run annotation.
type Annotation struct {
	Path            string `json:"path"`
	StartLine       int    `json:"start_line"`
	EndLine         int    `json:"end_line"`
	StartColumn     *int   `json:"start_column,omitempty"`
	EndColumn       *int   `json:"end_column,omitempty"`
	AnnotationLevel string `json:"annotation_level"`
	Title           string `json:"title,omitempty"`
	Message         string `json:"message"`
	RawDetails      string `json:"raw_details,omitempty"`
	BlobHref        string `json:"blob_href,omitempty"`
}

// checkRunRequest is the body of create and update.
type checkRunRequest struct {
	Name        *string    `json:"name"`
	HeadSHA     *string    `json:"head_sha"`
	DetailsURL  *string    `json:"details_url"`
	ExternalID  *string    `json:"external_id"`
	Status      *string    `json:"status"`
	StartedAt   *time.Time `json:"started_at"`
	Conclusion  *string    `json:"conclusion"`
	CompletedAt *time.Time `json:"completed_at"`
	Output      *struct {
		Title       *string      `json:"title"`
		Summary     *string      `json:"summary"`
		Text        *string      `json:"text"`
		Annotations []Annotation `json:"annotations"`
	} `json:"output"`
}

var (
	statuses    = map[string]bool{"queued": true, "in_progress": true, "completed": true}
	conclusions = map[string]bool{
		"action_required": true, "cancelled": true, "failure": true, "neutral": true,
		"success": true, "skipped": true, "stale": true, "timed_out": true,
	}
	levels = map[string]bool{"notice": true, "warning": true, "failure": true}
)

// invalid answers 422 "Invalid request." with the message GitHub gives.
func invalid(c *ctxResponse, format string, args ...any) {
	c.fail(http.StatusUnprocessableEntity, "Invalid request.\n\n"+fmt.Sprintf(format, args...), c.doc)
}

// validate checks a create or update body as GitHub does; it answers and
// returns false when the body is invalid.
func validate(c *ctxResponse, req *checkRunRequest, create bool) bool {
	if create {
		var missing []string
		if req.Name == nil || *req.Name == "" {
			missing = append(missing, `"name"`)
		}
		if req.HeadSHA == nil || *req.HeadSHA == "" {
			missing = append(missing, `"head_sha"`)
		}
		if len(missing) > 0 {
			invalid(c, "%s wasn't supplied.", strings.Join(missing, ", "))
			return false
		}
	}
	if !create && req.Name != nil && *req.Name == "" {
		c.fail(http.StatusUnprocessableEntity, "Validation Failed", c.doc,
			FieldError{Resource: "CheckRun", Code: "missing_field", Field: "name"})
		return false
	}
	if req.Status != nil && !statuses[*req.Status] {
		invalid(c, "%q is not a member of [\"queued\", \"in_progress\", \"completed\"].", *req.Status)
		return false
	}
	if req.Conclusion != nil && !conclusions[*req.Conclusion] {
		invalid(c, "%q is not a valid conclusion.", *req.Conclusion)
		return false
	}
	if create && req.Status != nil && *req.Status == "completed" && req.Conclusion == nil {
		invalid(c, "\"conclusion\" wasn't supplied (required when status is completed).")
		return false
	}
	if o := req.Output; o != nil {
		var missing []string
		if o.Title == nil {
			missing = append(missing, `"title"`)
		}
		if o.Summary == nil {
			missing = append(missing, `"summary"`)
		}
		if len(missing) > 0 {
			invalid(c, "%s wasn't supplied.", strings.Join(missing, ", "))
			return false
		}
		for _, f := range []struct {
			name string
			s    *string
		}{{"summary", o.Summary}, {"text", o.Text}} {
			if f.s != nil {
				if n := utf8.RuneCountInString(*f.s); n > MaxOutputChars {
					invalid(c, "Only %d characters are allowed in %q; %d were supplied.", MaxOutputChars, f.name, n)
					return false
				}
			}
		}
		if n := len(o.Annotations); n > MaxAnnotationsPerRequest {
			invalid(c, "No more than %d items are allowed; %d were supplied.", MaxAnnotationsPerRequest, n)
			return false
		}
		for _, a := range o.Annotations {
			if a.Path == "" || a.StartLine < 1 || a.EndLine < a.StartLine || !levels[a.AnnotationLevel] || a.Message == "" {
				c.fail(http.StatusUnprocessableEntity, "Validation Failed", c.doc,
					FieldError{Resource: "CheckRun", Code: "invalid", Field: "annotations"})
				return false
			}
		}
	}
	return true
}

func (s *Server) createCheckRun(c *ctxResponse, owner, repo string, _ int64) {
	var req checkRunRequest
	if !decode(c, &req) || !validate(c, &req, true) {
		return
	}
	s.mu.Lock()
	run := &CheckRun{ID: s.newID(), Location: Location{owner, repo}, Name: *req.Name, HeadSHA: *req.HeadSHA, Status: "queued", PullRequests: []any{}}
	run.NodeID = fmt.Sprintf("CR_fake%d", run.ID)
	run.URL = fmt.Sprintf("%s/repos/%s/%s/check-runs/%d", s.URL, owner, repo, run.ID)
	run.HTMLURL = fmt.Sprintf("https://github.com/%s/%s/runs/%d", owner, repo, run.ID)
	run.DetailsURL = run.HTMLURL
	run.CheckSuite.ID = run.ID + 1
	run.App.ID, run.App.Slug, run.App.Name = 15368, "github-actions", "GitHub Actions"
	run.Output.AnnotationsURL = run.URL + "/annotations"
	s.apply(run, &req)
	s.checkRuns = append(s.checkRuns, run)
	out := *run
	s.mu.Unlock()
	c.json(http.StatusCreated, out)
}

// apply sets the fields of req on run; GitHub appends annotations and
// replaces title, summary and text when given.
func (s *Server) apply(run *CheckRun, req *checkRunRequest) {
	now := s.stamp()
	if req.Name != nil {
		run.Name = *req.Name
	}
	if req.DetailsURL != nil {
		run.DetailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		run.ExternalID = *req.ExternalID
	}
	if req.StartedAt != nil {
		t := req.StartedAt.UTC()
		run.StartedAt = &t
	}
	if req.Status != nil {
		run.Status = *req.Status
	}
	if run.StartedAt == nil && run.Status != "queued" {
		run.StartedAt = &now
	}
	if req.Conclusion != nil {
		// "Providing conclusion will automatically set the status parameter
		// to completed."
		cl := *req.Conclusion
		run.Conclusion = &cl
		run.Status = "completed"
	}
	if run.Status == "completed" && run.CompletedAt == nil {
		t := now
		if req.CompletedAt != nil {
			t = req.CompletedAt.UTC()
		}
		run.CompletedAt = &t
	}
	if o := req.Output; o != nil {
		run.Output.Title, run.Output.Summary = o.Title, o.Summary
		if o.Text != nil {
			run.Output.Text = o.Text
		}
		run.annotations = append(run.annotations, o.Annotations...)
		run.Output.AnnotationsCount = len(run.annotations)
	}
}

func (s *Server) findRun(owner, repo string, id int64) *CheckRun {
	for _, r := range s.checkRuns {
		if r.ID == id && r.in(owner, repo) {
			return r
		}
	}
	return nil
}

// withRun calls f (when not nil) under the lock with check run id of
// owner/repo, and returns a copy of the run and its annotations as f left
// them; false when there is no such run.
func (s *Server) withRun(owner, repo string, id int64, f func(*CheckRun)) (CheckRunState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.findRun(owner, repo, id)
	if r == nil {
		return CheckRunState{}, false
	}
	if f != nil {
		f(r)
	}
	return r.state(), true
}

// state copies the run and its annotations; the caller holds s.mu.
func (r *CheckRun) state() CheckRunState {
	return CheckRunState{CheckRun: *r, Annotations: append([]Annotation(nil), r.annotations...)}
}

func (s *Server) updateCheckRun(c *ctxResponse, owner, repo string, id int64) {
	var req checkRunRequest
	if !decode(c, &req) || !validate(c, &req, false) {
		return
	}
	run, ok := s.withRun(owner, repo, id, func(r *CheckRun) { s.apply(r, &req) })
	if c.notFound(!ok, c.doc) {
		return
	}
	c.json(http.StatusOK, run.CheckRun)
}

func (s *Server) getCheckRun(c *ctxResponse, owner, repo string, id int64) {
	run, ok := s.withRun(owner, repo, id, nil)
	if c.notFound(!ok, docs) {
		return
	}
	c.json(http.StatusOK, run.CheckRun)
}

func (s *Server) listAnnotations(c *ctxResponse, owner, repo string, id int64) {
	run, ok := s.withRun(owner, repo, id, nil)
	if c.notFound(!ok, docs) {
		return
	}
	lo, hi := s.paginate(c, len(run.Annotations))
	c.json(http.StatusOK, append([]Annotation{}, run.Annotations[lo:hi]...))
}

// CheckRuns returns the check runs of owner/repo, oldest first.
func (s *Server) CheckRuns(owner, repo string) []CheckRunState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRunState
	for _, r := range s.checkRuns {
		if r.in(owner, repo) {
			out = append(out, r.state())
		}
	}
	return out
}
