package fakegithub

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// PullRequest is the part of GitHub's pull request object the reporter
// reads.
type PullRequest struct {
	ID        int64     `json:"id"`
	Number    int       `json:"number"`
	State     string    `json:"state"`
	Title     string    `json:"title"`
	URL       string    `json:"url"`
	HTMLURL   string    `json:"html_url"`
	User      User      `json:"user"`
	Head      PullRef   `json:"head"`
	Base      PullRef   `json:"base"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// Location is the base repository.
	Location `json:"-"`
}

// PullRef is a pull request's head or base: "label" is OWNER:BRANCH.
type PullRef struct {
	Label string   `json:"label"`
	Ref   string   `json:"ref"`
	SHA   string   `json:"sha"`
	User  User     `json:"user"`
	Repo  PullRepo `json:"repo"`
}

// PullRepo is the repository of a PullRef.
type PullRepo struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Fork     bool   `json:"fork"`
	Owner    User   `json:"owner"`
}

// PullSpec describes a pull request to add: number Number of Owner/Repo,
// from HeadOwner's branch HeadBranch (HeadOwner differs from Owner for a
// fork) at HeadSHA, into BaseBranch (default "main").
type PullSpec struct {
	Owner, Repo           string
	Number                int
	HeadOwner, HeadBranch string
	HeadSHA               string
	BaseBranch            string
	// Closed makes the pull request closed rather than open.
	Closed bool
}

// AddPullRequest stores a pull request, replacing one with the same number,
// and returns it.
func (s *Server) AddPullRequest(p PullSpec) PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.HeadOwner == "" {
		p.HeadOwner = p.Owner
	}
	if p.BaseBranch == "" {
		p.BaseBranch = "main"
	}
	now := s.stamp()
	pr := &PullRequest{
		ID: s.newID(), Number: p.Number, State: "open", Title: fmt.Sprintf("Pull request %d", p.Number),
		URL:     fmt.Sprintf("%s/repos/%s/%s/pulls/%d", s.URL, p.Owner, p.Repo, p.Number),
		HTMLURL: fmt.Sprintf("https://github.com/%s/%s/pull/%d", p.Owner, p.Repo, p.Number),
		User:    s.user(p.HeadOwner), CreatedAt: now, UpdatedAt: now, Location: Location{p.Owner, p.Repo},
		Head: PullRef{Label: p.HeadOwner + ":" + p.HeadBranch, Ref: p.HeadBranch, SHA: p.HeadSHA, User: s.user(p.HeadOwner),
			Repo: PullRepo{Name: p.Repo, FullName: p.HeadOwner + "/" + p.Repo, Fork: !strings.EqualFold(p.HeadOwner, p.Owner), Owner: s.user(p.HeadOwner)}},
		Base: PullRef{Label: p.Owner + ":" + p.BaseBranch, Ref: p.BaseBranch, User: s.user(p.Owner),
			Repo: PullRepo{Name: p.Repo, FullName: p.Owner + "/" + p.Repo, Owner: s.user(p.Owner)}},
	}
	if p.Closed {
		pr.State = "closed"
	}
	for i, old := range s.pulls {
		if old.Number == p.Number && old.in(p.Owner, p.Repo) {
			s.pulls[i] = pr
			return *pr
		}
	}
	s.pulls = append(s.pulls, pr)
	return *pr
}

// getPull answers GET /repos/{owner}/{repo}/pulls/{pull_number}.
func (s *Server) getPull(c *ctxResponse, owner, repo string, number int64) {
	s.mu.Lock()
	var found *PullRequest
	for _, pr := range s.pulls {
		if int64(pr.Number) == number && pr.in(owner, repo) {
			cp := *pr
			found = &cp
		}
	}
	s.mu.Unlock()
	if c.notFound(found == nil, c.doc) {
		return
	}
	c.json(http.StatusOK, found)
}

// listPulls answers GET /repos/{owner}/{repo}/pulls with GitHub's filters
// state (open, closed, all; default open), head (USER:BRANCH, or USER alone)
// and base, paginated.
func (s *Server) listPulls(c *ctxResponse, owner, repo string, _ int64) {
	q := c.r.URL.Query()
	state := q.Get("state")
	switch state {
	case "":
		state = "open"
	case "open", "closed", "all":
	default:
		c.fail(http.StatusUnprocessableEntity, "Validation Failed", c.doc,
			FieldError{Resource: "Issue", Code: "invalid", Field: "state"})
		return
	}
	head, base := q.Get("head"), q.Get("base")
	s.mu.Lock()
	var all []PullRequest
	for _, pr := range s.pulls {
		if !pr.in(owner, repo) {
			continue
		}
		if state != "all" && pr.State != state {
			continue
		}
		if head != "" {
			user, branch, hasBranch := strings.Cut(head, ":")
			if !strings.EqualFold(pr.Head.User.Login, user) || (hasBranch && pr.Head.Ref != branch) {
				continue
			}
		}
		if base != "" && pr.Base.Ref != base {
			continue
		}
		all = append(all, *pr)
	}
	s.mu.Unlock()
	// GitHub's default sort is by creation, newest first.
	sortByID(all, func(p PullRequest) int64 { return -p.ID })
	lo, hi := s.paginate(c, len(all))
	c.json(http.StatusOK, append([]PullRequest{}, all[lo:hi]...))
}
