package github

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
)

// MaxCommentChars is GitHub's limit on a comment body.
const MaxCommentChars = 65536

// maxCommentPages bounds the search for our comment (100 per page).
const maxCommentPages = 100

// Identity returns the login the token belongs to: GET /user when the token
// may call it (personal access tokens), else fallback. GitHub answers 403
// "Resource not accessible by integration" to GET /user for installation
// tokens, GITHUB_TOKEN included, whose comments are authored by
// "github-actions[bot]" (a GitHub App's by "SLUG[bot]"); so a 403 means
// "we are a bot", and fallback names which one. Other errors are returned.
func Identity(ctx context.Context, c *gh.Client, fallback string) (login string, fromAPI bool, err error) {
	u, _, err := c.Users.Get(ctx, "")
	if err == nil && u.GetLogin() != "" {
		return u.GetLogin(), true, nil
	}
	if statusOf(err) == 403 && !isRateLimit(err) {
		return fallback, false, nil
	}
	if err == nil {
		err = fmt.Errorf("GET /user returned no login")
	}
	return "", false, err
}

// Marker is the hidden marker of the sticky comment for one (workflow,
// job, key). Anyone can paste it into a comment, so a comment is ours only
// if it also has our author.
func Marker(workflow, job, key string) string {
	return fmt.Sprintf("m18-gate:sticky workflow=%q job=%q key=%q", workflow, job, key)
}

// DecisionSet is a digest of every comparison's (scenario, operation, metric,
// decision) and every skip, order-free. The comment records it so that
// CommentOnChange can tell whether anything changed.
func DecisionSet(v *verdict.Verdict) string {
	var lines []string
	for _, c := range v.Comparisons {
		lines = append(lines, strings.Join([]string{"c", c.Scenario, c.Operation, c.Metric, c.Decision}, "\x00"))
	}
	for _, s := range v.Skipped {
		lines = append(lines, strings.Join([]string{"s", s.Scenario, s.Operation, s.Metric}, "\x00"))
	}
	sort.Strings(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:12])
}

func decisionsComment(set string) string {
	return render.HiddenComment("m18-gate:decisions " + set)
}

// Sticky is the one comment of a (workflow, job, key) on a pull request.
type Sticky struct {
	Client      *gh.Client
	Owner, Repo string
	PR          int
	// Marker identifies the comment (see Marker); Login is our identity.
	Marker, Login string
}

// Find returns our comments, oldest first: those holding the marker and
// authored by Login, searched across every page of the pull request's
// comments.
func (s *Sticky) Find(ctx context.Context) ([]*gh.IssueComment, error) {
	needle := render.HiddenComment(s.Marker)
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	var ours []*gh.IssueComment
	for page := 0; ; page++ {
		if page >= maxCommentPages {
			return ours, fmt.Errorf("more than %d pages of comments on #%d; stopped looking", maxCommentPages, s.PR)
		}
		cs, resp, err := s.Client.Issues.ListComments(ctx, s.Owner, s.Repo, s.PR, opts)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if strings.Contains(c.GetBody(), needle) && strings.EqualFold(c.GetUser().GetLogin(), s.Login) {
				ours = append(ours, c)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	sort.SliceStable(ours, func(i, j int) bool { return ours[i].GetID() < ours[j].GetID() })
	return ours, nil
}

// CommentResult says what Upsert did.
type CommentResult struct {
	// Action is "created", "updated", "unchanged" (on-change, nothing new)
	// or "skipped" (never, or nothing to say).
	Action string
	URL    string
	// Removed counts duplicates of ours that were deleted.
	Removed int
}

// Upsert writes body as the sticky comment per mode: it updates the oldest
// comment of ours in place, or creates one when there is none; duplicates
// of ours (two runs racing) are deleted, so the pull request keeps exactly
// one. Comments that hold the marker but have another author are left alone.
func (s *Sticky) Upsert(ctx context.Context, body string, v *verdict.Verdict, mode CommentMode) (CommentResult, error) {
	if mode == CommentNever {
		return CommentResult{Action: "skipped"}, nil
	}
	ours, err := s.Find(ctx)
	if err != nil {
		return CommentResult{}, err
	}
	set := DecisionSet(v)
	if len(ours) == 0 {
		if mode == CommentOnChange && !notable(v) {
			return CommentResult{Action: "skipped"}, nil
		}
		c, _, err := s.Client.Issues.CreateComment(ctx, s.Owner, s.Repo, s.PR, &gh.IssueComment{Body: gh.String(body)})
		if err != nil {
			return CommentResult{}, err
		}
		return CommentResult{Action: "created", URL: c.GetHTMLURL()}, nil
	}
	keep := ours[0]
	res := CommentResult{Action: "updated", URL: keep.GetHTMLURL()}
	changed := !strings.Contains(keep.GetBody(), decisionsComment(set)) || v.Summary.Regressed > 0
	if mode == CommentOnChange && !changed {
		res.Action = "unchanged"
	} else if keep.GetBody() == body {
		res.Action = "unchanged"
	} else {
		c, _, err := s.Client.Issues.EditComment(ctx, s.Owner, s.Repo, keep.GetID(), &gh.IssueComment{Body: gh.String(body)})
		if err != nil {
			return CommentResult{}, err
		}
		res.URL = c.GetHTMLURL()
	}
	for _, dup := range ours[1:] {
		if _, err := s.Client.Issues.DeleteComment(ctx, s.Owner, s.Repo, dup.GetID()); err != nil {
			return res, fmt.Errorf("deleting duplicate comment %d: %w", dup.GetID(), err)
		}
		res.Removed++
	}
	return res, nil
}

// notable reports whether any comparison is not "unchanged".
func notable(v *verdict.Verdict) bool {
	for _, c := range v.Comparisons {
		if c.Decision != verdict.Unchanged {
			return true
		}
	}
	return false
}

// CommentBody renders the sticky comment for v, within GitHub's limit,
// carrying the marker and the decision set.
func CommentBody(v *verdict.Verdict, marker, title, artifactName string) string {
	return render.Markdown(v, render.Options{
		MaxBytes: MaxCommentChars - 100, Marker: marker, Title: title,
		ArtifactName: artifactName, Extra: decisionsComment(DecisionSet(v)) + "\n",
	})
}
