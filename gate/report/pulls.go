package report

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// RefusedError is why the reporter would not comment: the pull request it
// was given or found does not belong to the commit that was measured. It is
// never retried or downgraded to a warning: m18-report exits with
// cli.ExitRefused.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// maxPullPages bounds the search for a fork's pull request (100 per page).
const maxPullPages = 10

// ResolvePR returns the pull request to comment on, or 0 when there is
// none (a push, or a workflow_run whose head is in no open pull request).
//
// A number from a pull_request event is GitHub's own and used as is. Any
// other is verified: a number given with --pr (from an artifact, say) or
// listed in workflow_run.pull_requests must name a pull request whose head
// SHA is the measured commit (GET /repos/{owner}/{repo}/pulls/{number}).
// For a workflow_run from a fork, whose pull_requests list GitHub leaves
// empty, the pull request is looked up by the head repository's owner and
// branch (GET /repos/{owner}/{repo}/pulls?head=OWNER:BRANCH) and kept only
// if its head SHA is the measured commit. A mismatch is a *RefusedError.
func (r *Reporter) ResolvePR(ctx context.Context) (int, error) {
	c := r.cfg
	if c.PR > 0 && c.PRTrusted {
		return c.PR, nil
	}
	if c.PR == 0 && c.Trigger == nil {
		return 0, nil
	}
	if c.SHA == "" {
		return 0, &RefusedError{Reason: fmt.Sprintf("cannot verify pull request #%d: the measured commit is unknown (set --sha)", c.PR)}
	}
	if r.client == nil {
		return 0, errors.New("no token to verify the pull request with")
	}
	n := c.PR
	if n == 0 {
		found, err := r.findPR(ctx)
		if err != nil || found == 0 {
			return 0, err
		}
		n = found
	}
	pr, _, err := r.client.PullRequests.Get(ctx, c.Owner, c.Repo, n)
	if statusOf(err) == http.StatusNotFound {
		return 0, &RefusedError{Reason: fmt.Sprintf("%s/%s has no pull request #%d", c.Owner, c.Repo, n)}
	}
	if err != nil {
		return 0, fmt.Errorf("verifying pull request #%d (GET /repos/%s/%s/pulls/%d): %w", n, c.Owner, c.Repo, n, err)
	}
	if head := pr.GetHead().GetSHA(); !strings.EqualFold(head, c.SHA) {
		return 0, &RefusedError{Reason: fmt.Sprintf("pull request #%d's head is %s, but the measured commit is %s: "+
			"the pull request moved on since, or the number is not this run's (an artifact is not trusted to name it)",
			n, shortSHA(head), shortSHA(c.SHA))}
	}
	return n, nil
}

// findPR looks up the open pull request whose head is the triggering run's
// branch and SHA; 0 when there is none.
func (r *Reporter) findPR(ctx context.Context) (int, error) {
	c, t := r.cfg, r.cfg.Trigger
	if t.HeadBranch == "" {
		return 0, nil
	}
	owner := t.HeadOwner
	if owner == "" {
		owner = c.Owner
	}
	opts := &gh.PullRequestListOptions{State: "open", Head: owner + ":" + t.HeadBranch, ListOptions: gh.ListOptions{PerPage: 100}}
	var match []int
	for page := 0; page < maxPullPages; page++ {
		prs, resp, err := r.client.PullRequests.List(ctx, c.Owner, c.Repo, opts)
		if err != nil {
			return 0, fmt.Errorf("finding the pull request of %s (GET /repos/%s/%s/pulls?head=%s): %w", opts.Head, c.Owner, c.Repo, opts.Head, err)
		}
		for _, pr := range prs {
			if strings.EqualFold(pr.GetHead().GetSHA(), c.SHA) {
				match = append(match, pr.GetNumber())
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	switch len(match) {
	case 0:
		return 0, nil
	case 1:
		return match[0], nil
	}
	sort.Ints(match)
	var ns []string
	for _, n := range match {
		ns = append(ns, "#"+strconv.Itoa(n))
	}
	return 0, &RefusedError{Reason: fmt.Sprintf("pull requests %s all have head %s at %s; pass --pr to pick one",
		strings.Join(ns, ", "), opts.Head, shortSHA(c.SHA))}
}
