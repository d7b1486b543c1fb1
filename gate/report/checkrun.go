package report

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
)

// GitHub's documented limits for check runs.
const (
	// MaxAnnotationsPerRequest is how many annotations one create or update
	// may carry; the rest go in further updates, which append.
	MaxAnnotationsPerRequest = 50
	// MaxOutputChars bounds output.summary and output.text.
	MaxOutputChars = 65535
)

// Conclusion maps a verdict to a check-run conclusion: "failure" for any
// regression outcome, "neutral" when the verdict is inconclusive or
// everything was skipped, "success" otherwise.
func Conclusion(v *verdict.Verdict) string {
	switch render.Status(v) {
	case render.StatusRegression, render.StatusCompetitiveRegression:
		return "failure"
	case render.StatusInconclusive, render.StatusSkipped:
		return "neutral"
	}
	return "success"
}

// CheckRun is one check run of a gate on one commit.
type CheckRun struct {
	Client      *gh.Client
	Owner, Repo string
	Name, SHA   string
	// DetailsURL links the workflow run (optional).
	DetailsURL string
	// ID is set once the run exists (by Start, or given to resume one).
	ID int64
	// URL is the run's web page, once known.
	URL string
}

// Start creates the check run in_progress.
func (c *CheckRun) Start(ctx context.Context, now time.Time) error {
	opts := gh.CreateCheckRunOptions{
		Name: c.Name, HeadSHA: c.SHA, Status: gh.String("in_progress"),
		StartedAt: &gh.Timestamp{Time: now},
		Output: &gh.CheckRunOutput{
			Title:   gh.String("Measuring…"),
			Summary: gh.String("m18-gate is measuring this commit; the verdict follows."),
		},
	}
	if c.DetailsURL != "" {
		opts.DetailsURL = gh.String(c.DetailsURL)
	}
	run, _, err := c.Client.Checks.CreateCheckRun(ctx, c.Owner, c.Repo, opts)
	if err != nil {
		return err
	}
	c.ID, c.URL = run.GetID(), run.GetHTMLURL()
	return nil
}

// CheckOutput is what a completed check run shows.
type CheckOutput struct {
	Conclusion  string
	Title       string
	Summary     string
	Text        string
	Annotations []*gh.CheckRunAnnotation
}

// Output builds a check run's output from v: the title leads with the
// answer, the summary is the Markdown report and the text the aligned
// table, each within MaxOutputChars (cut with a pointer to the full verdict
// artifact), and one annotation per regressed (failure), inconclusive
// (warning) or improved (notice) comparison, at its Source or else at line 1
// of annotationPath.
func Output(v *verdict.Verdict, annotationPath, artifactName string) CheckOutput {
	o := CheckOutput{
		Conclusion: Conclusion(v),
		Title:      clipRunes(render.Headline(v), 1000),
		Summary:    render.Markdown(v, render.Options{MaxBytes: MaxOutputChars, ArtifactName: artifactName}),
		Text:       textOutput(v, artifactName),
	}
	for _, c := range render.SortedCriteria(v) {
		if c.Passed {
			break
		}
		o.Annotations = append(o.Annotations, criterionAnnotation(c, annotationPath))
	}
	for _, c := range render.Sorted(v) {
		if a := annotation(c, annotationPath); a != nil {
			o.Annotations = append(o.Annotations, a)
		}
	}
	return o
}

// criterionAnnotation is the failure annotation of a failed task criterion,
// at line 1 of path (a criterion has no source line of its own).
func criterionAnnotation(c verdict.Criterion, path string) *gh.CheckRunAnnotation {
	title := clipRunes(fmt.Sprintf("task %s: %s failed", render.Plain(c.Task), render.Plain(c.Name)), 255)
	msg := fmt.Sprintf("%s (task %s): measured %s, limit %s\n%s", render.Plain(c.Scenario), render.Plain(c.Task),
		render.Number(c.Measured), render.Number(c.Limit), render.Plain(c.Message))
	return &gh.CheckRunAnnotation{
		Path: gh.String(path), StartLine: gh.Int(1), EndLine: gh.Int(1),
		AnnotationLevel: gh.String("failure"), Title: gh.String(title), Message: gh.String(clipRunes(msg, 4000)),
	}
}

// textOutput is the aligned table in a code fence longer than any run of
// backticks inside it, so no name can close it; cut at a line to fit.
func textOutput(v *verdict.Verdict, artifactName string) string {
	var buf bytes.Buffer
	render.Text(&buf, v)
	body := buf.String()
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	note := fmt.Sprintf("… truncated; the full verdict is in the %s artifact\n", cmp.Or(artifactName, render.DefaultArtifactName))
	room := MaxOutputChars - 2*len(fence) - 2 - len(note)
	if len(body) > MaxOutputChars-2*len(fence)-2 {
		cut := body[:room]
		if i := strings.LastIndexByte(cut, '\n'); i >= 0 {
			cut = cut[:i+1]
		}
		body = cut + note
	}
	return fence + "\n" + body + fence
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// annotation is c's check-run annotation, or nil for unchanged comparisons.
func annotation(c verdict.Comparison, fallback string) *gh.CheckRunAnnotation {
	level := ""
	switch c.Decision {
	case verdict.Regressed:
		level = "failure"
	case verdict.Inconclusive:
		level = "warning"
	case verdict.Improved:
		level = "notice"
	default:
		return nil
	}
	p, line := fallback, 1
	if c.Source != nil && safeRepoPath(c.Source.Path) && c.Source.Line > 0 {
		p, line = c.Source.Path, c.Source.Line
	}
	name := render.Plain(c.Scenario) + " · " + render.Plain(c.Operation) + " · " + render.Plain(c.Metric)
	title := clipRunes(fmt.Sprintf("%s %s %s", name, c.Decision, render.ChangeOf(c)), 255)
	msg := fmt.Sprintf("%s: %s → %s (%s, CI %s, p %s, threshold %s)",
		name, render.Value(c.BaseMedian, c.Unit), render.Value(c.HeadMedian, c.Unit),
		render.ChangeOf(c), render.CIOf(c), render.P(c.PAdjusted), render.Percent(c.Threshold))
	if c.Reason != "" {
		msg += "\n" + render.Plain(c.Reason)
	}
	return &gh.CheckRunAnnotation{
		Path: gh.String(p), StartLine: gh.Int(line), EndLine: gh.Int(line),
		AnnotationLevel: gh.String(level), Title: gh.String(title), Message: gh.String(clipRunes(msg, 4000)),
	}
}

// safeRepoPath accepts a clean, relative path inside the repository.
func safeRepoPath(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && !strings.HasPrefix(p, "../") && p != ".." &&
		!strings.ContainsAny(p, "\\\x00\n\r")
}

// Complete writes o to the check run: it creates the run when c.ID is 0,
// sends the annotations MaxAnnotationsPerRequest at a time (GitHub appends
// them on each update), and sets the conclusion on the last request, so a
// run is only completed once it holds every annotation.
func (c *CheckRun) Complete(ctx context.Context, o CheckOutput, now time.Time) error {
	batches := [][]*gh.CheckRunAnnotation{nil}
	for i := 0; i < len(o.Annotations); i += MaxAnnotationsPerRequest {
		if i == 0 {
			batches = batches[:0]
		}
		batches = append(batches, o.Annotations[i:min(i+MaxAnnotationsPerRequest, len(o.Annotations))])
	}
	for i, batch := range batches {
		last := i == len(batches)-1
		out := &gh.CheckRunOutput{
			Title: gh.String(o.Title), Summary: gh.String(o.Summary), Text: gh.String(o.Text), Annotations: batch,
		}
		var status, conclusion *string
		var completed *gh.Timestamp
		if last {
			status, conclusion, completed = gh.String("completed"), gh.String(o.Conclusion), &gh.Timestamp{Time: now}
		} else {
			status = gh.String("in_progress")
		}
		var run *gh.CheckRun
		var err error
		if c.ID == 0 {
			opts := gh.CreateCheckRunOptions{
				Name: c.Name, HeadSHA: c.SHA, Status: status, Conclusion: conclusion,
				CompletedAt: completed, Output: out,
			}
			if !last {
				opts.StartedAt = &gh.Timestamp{Time: now}
			}
			if c.DetailsURL != "" {
				opts.DetailsURL = gh.String(c.DetailsURL)
			}
			run, _, err = c.Client.Checks.CreateCheckRun(ctx, c.Owner, c.Repo, opts)
		} else {
			opts := gh.UpdateCheckRunOptions{Name: c.Name, Status: status, Conclusion: conclusion, CompletedAt: completed, Output: out}
			run, _, err = c.Client.Checks.UpdateCheckRun(ctx, c.Owner, c.Repo, c.ID, opts)
		}
		if err != nil {
			if i > 0 {
				return fmt.Errorf("annotations %d–%d of %d: %w", i*MaxAnnotationsPerRequest+1,
					i*MaxAnnotationsPerRequest+len(batch), len(o.Annotations), err)
			}
			return err
		}
		c.ID, c.URL = run.GetID(), run.GetHTMLURL()
	}
	return nil
}
