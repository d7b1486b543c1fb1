package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
)

// MaxCommentChars is GitHub's limit on a comment body.
const MaxCommentChars = 65536

// maxCommentPages bounds the search for our comment (100 per page).
const maxCommentPages = 100

// Identity returns the login the token belongs to, and whether it is known
// rather than guessed: GET /user when the token may call it (personal access
// tokens). GitHub answers 403 "Resource not accessible by integration" to
// GET /user for installation tokens, GITHUB_TOKEN included, whose comments
// are authored by "github-actions[bot]" (a GitHub App's by "SLUG[bot]"), and
// installation tokens cannot call GET /app (it takes the App's JWT); so a
// 403 means "we are a bot": botLogin names which one when the caller knows,
// else the result is DefaultBotLogin, unknown, and Sticky.Find learns the
// real one from the comment it created. Other errors are returned.
func Identity(ctx context.Context, c *gh.Client, botLogin string) (login string, known bool, err error) {
	u, _, err := c.Users.Get(ctx, "")
	if err == nil && u.GetLogin() != "" {
		return u.GetLogin(), true, nil
	}
	if statusOf(err) == 403 && !isRateLimit(err) {
		if botLogin != "" {
			return botLogin, true, nil
		}
		return DefaultBotLogin, false, nil
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
	for _, c := range v.Criteria {
		lines = append(lines, strings.Join([]string{"t", c.Task, c.Name, strconv.FormatBool(c.Passed)}, "\x00"))
	}
	sort.Strings(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:12])
}

func decisionsComment(set string) string {
	return render.HiddenComment("m18-gate:decisions " + set)
}

// StickyKey is the key of the sticky comment: key when given; else the
// matrix values ("os=ubuntu, scenarios=ci/fast"), from the job's matrix as
// JSON; else the verdict's scenario set ("scenarios ci/fast, ci/smoke");
// else DefaultKey. So two legs of a matrix, or two jobs gating different
// scenario sets, keep a comment each instead of overwriting each other's.
// Long keys are shortened to a prefix and a digest of the whole.
func StickyKey(key, matrix string, v *verdict.Verdict) string {
	if k := strings.TrimSpace(key); k != "" {
		return clipKey(k)
	}
	if m := strings.TrimSpace(matrix); m != "" && m != "null" && m != "{}" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(m), &obj); err != nil {
			return clipKey("matrix " + m)
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			val, ok := obj[k].(string)
			if !ok {
				b, _ := json.Marshal(obj[k])
				val = string(b)
			}
			parts = append(parts, k+"="+val)
		}
		return clipKey(strings.Join(parts, ", "))
	}
	set := map[string]bool{}
	for _, c := range v.Comparisons {
		set[c.Scenario] = true
	}
	for _, s := range v.Skipped {
		set[s.Scenario] = true
	}
	if len(set) == 0 {
		return DefaultKey
	}
	return clipKey("scenarios " + strings.Join(slices.Sorted(maps.Keys(set)), ", "))
}

// maxKeyRunes bounds a sticky key (it is shown in the comment's title).
const maxKeyRunes = 120

func clipKey(k string) string {
	k = render.Plain(k)
	if utf8.RuneCountInString(k) <= maxKeyRunes {
		return k
	}
	h := sha256.Sum256([]byte(k))
	return string([]rune(k)[:maxKeyRunes-14]) + "… " + hex.EncodeToString(h[:6])
}

// Sticky is the one comment of a (workflow, job, key) on a pull request.
type Sticky struct {
	Client      *gh.Client
	Owner, Repo string
	PR          int
	// Marker identifies the comment (see Marker); Login is our identity.
	Marker, Login string
	// LoginKnown says Login is known (GET /user, or given); when false it
	// is a guess that Find corrects from the comments, and Upsert from the
	// comment it creates.
	LoginKnown bool
}

// Find returns our comments, oldest first: those holding the marker and
// authored by Login, searched across every page of the pull request's
// comments. When Login is a guess, a comment holding the marker is ours if
// a bot wrote it (a person's comment never is: anyone can paste the
// marker, but only an App or a workflow of the repository posts as a bot):
// Login becomes that bot's, preferring the guess when several bots did.
func (s *Sticky) Find(ctx context.Context) ([]*gh.IssueComment, error) {
	needle := render.HiddenComment(s.Marker)
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	var ours, bots []*gh.IssueComment
	for page := 0; ; page++ {
		if page >= maxCommentPages {
			return ours, fmt.Errorf("more than %d pages of comments on #%d; stopped looking", maxCommentPages, s.PR)
		}
		cs, resp, err := s.Client.Issues.ListComments(ctx, s.Owner, s.Repo, s.PR, opts)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if !strings.Contains(c.GetBody(), needle) {
				continue
			}
			if strings.EqualFold(c.GetUser().GetLogin(), s.Login) {
				ours = append(ours, c)
			} else if !s.LoginKnown && c.GetUser().GetType() == "Bot" {
				bots = append(bots, c)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(ours) == 0 && len(bots) > 0 {
		sort.SliceStable(bots, func(i, j int) bool { return bots[i].GetID() < bots[j].GetID() })
		s.Login = bots[0].GetUser().GetLogin()
		for _, c := range bots {
			if strings.EqualFold(c.GetUser().GetLogin(), s.Login) {
				ours = append(ours, c)
			}
		}
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
		if l := c.GetUser().GetLogin(); l != "" {
			s.Login = l // who we are, whatever we guessed
		}
		return CommentResult{Action: "created", URL: c.GetHTMLURL()}, nil
	}
	keep := ours[0]
	res := CommentResult{Action: "updated", URL: keep.GetHTMLURL()}
	changed := !strings.Contains(keep.GetBody(), decisionsComment(set)) || v.Summary.Regressed > 0 || v.Summary.CriteriaFailed > 0
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
	for _, c := range v.Criteria {
		if !c.Passed {
			return true
		}
	}
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
