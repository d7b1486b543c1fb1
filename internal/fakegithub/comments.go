package fakegithub

import (
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

// MaxCommentChars is GitHub's limit on an issue comment's body.
const MaxCommentChars = 65536

// Comment is GitHub's issue comment object.
type Comment struct {
	ID                int64     `json:"id"`
	NodeID            string    `json:"node_id"`
	URL               string    `json:"url"`
	HTMLURL           string    `json:"html_url"`
	IssueURL          string    `json:"issue_url"`
	Body              string    `json:"body"`
	User              User      `json:"user"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	AuthorAssociation string    `json:"author_association"`

	Location `json:"-"`
	// Issue is the number the comment is on; not part of GitHub's JSON.
	Issue int `json:"-"`
}

// AddComment stores a comment by login on issue or pull request number
// issue of owner/repo, as if that user had posted it, and returns it.
func (s *Server) AddComment(owner, repo string, issue int, login, body string) Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addComment(owner, repo, issue, login, body)
}

func (s *Server) addComment(owner, repo string, issue int, login, body string) *Comment {
	now := s.stamp()
	cm := &Comment{
		ID: s.newID(), Location: Location{owner, repo}, Issue: issue, Body: body,
		User: s.user(login), CreatedAt: now, UpdatedAt: now, AuthorAssociation: "NONE",
	}
	cm.NodeID = fmt.Sprintf("IC_fake%d", cm.ID)
	cm.URL = fmt.Sprintf("%s/repos/%s/%s/issues/comments/%d", s.URL, owner, repo, cm.ID)
	cm.HTMLURL = fmt.Sprintf("https://github.com/%s/%s/pull/%d#issuecomment-%d", owner, repo, issue, cm.ID)
	cm.IssueURL = fmt.Sprintf("%s/repos/%s/%s/issues/%d", s.URL, owner, repo, issue)
	s.comments = append(s.comments, cm)
	return cm
}

// Comments returns the comments on issue number issue of owner/repo,
// oldest first.
func (s *Server) Comments(owner, repo string, issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == issue && c.in(owner, repo) {
			out = append(out, *c)
		}
	}
	sortByID(out, func(c Comment) int64 { return c.ID })
	return out
}

func (s *Server) listComments(c *ctxResponse, owner, repo string, issue int64) {
	all := s.Comments(owner, repo, int(issue))
	lo, hi := s.paginate(c, len(all))
	c.json(http.StatusOK, append([]Comment{}, all[lo:hi]...))
}

type commentRequest struct {
	Body *string `json:"body"`
}

// validBody answers 422 as GitHub does for a missing or too long body.
func validBody(c *ctxResponse, req commentRequest) bool {
	if req.Body == nil {
		c.fail(http.StatusUnprocessableEntity, "Validation Failed", c.doc,
			FieldError{Resource: "IssueComment", Code: "missing_field", Field: "body"})
		return false
	}
	if utf8.RuneCountInString(*req.Body) > MaxCommentChars {
		c.fail(http.StatusUnprocessableEntity, "Validation Failed", c.doc,
			FieldError{Resource: "IssueComment", Code: "unprocessable", Field: "data",
				Message: fmt.Sprintf("Body is too long (maximum is %d characters)", MaxCommentChars)})
		return false
	}
	return true
}

func (s *Server) createComment(c *ctxResponse, owner, repo string, issue int64) {
	var req commentRequest
	if !decode(c, &req) || !validBody(c, req) {
		return
	}
	s.mu.Lock()
	cm := *s.addComment(owner, repo, int(issue), c.id.Login, *req.Body)
	s.mu.Unlock()
	c.w.Header().Set("Location", cm.URL)
	c.json(http.StatusCreated, cm)
}

func (s *Server) findComment(owner, repo string, id int64) (int, *Comment) {
	for i, cm := range s.comments {
		if cm.ID == id && cm.in(owner, repo) {
			return i, cm
		}
	}
	return -1, nil
}

// withComment calls f (when not nil) under the lock with comment id of
// owner/repo and its index in s.comments, and returns a copy of the comment
// as f left it; false when there is no such comment.
func (s *Server) withComment(owner, repo string, id int64, f func(i int, cm *Comment)) (Comment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, cm := s.findComment(owner, repo, id)
	if cm == nil {
		return Comment{}, false
	}
	if f != nil {
		f(i, cm)
	}
	return *cm, true
}

func (s *Server) getComment(c *ctxResponse, owner, repo string, id int64) {
	cm, ok := s.withComment(owner, repo, id, nil)
	if c.notFound(!ok, docs) {
		return
	}
	c.json(http.StatusOK, cm)
}

func (s *Server) updateComment(c *ctxResponse, owner, repo string, id int64) {
	var req commentRequest
	if !decode(c, &req) || !validBody(c, req) {
		return
	}
	cm, ok := s.withComment(owner, repo, id, func(_ int, cm *Comment) {
		cm.Body = *req.Body
		cm.UpdatedAt = s.stamp()
	})
	if c.notFound(!ok, c.doc) {
		return
	}
	c.json(http.StatusOK, cm)
}

func (s *Server) deleteComment(c *ctxResponse, owner, repo string, id int64) {
	_, ok := s.withComment(owner, repo, id, func(i int, _ *Comment) {
		s.comments = append(s.comments[:i], s.comments[i+1:]...)
	})
	if c.notFound(!ok, c.doc) {
		return
	}
	c.writeHeader(http.StatusNoContent)
}
