package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/engram/m18-gate/gate/render"
	"github.com/engram/m18-gate/gate/verdict"
)

// GitHub Actions' per-step limits.
const (
	// MaxStepSummaryBytes is the size limit of one step's job summary.
	MaxStepSummaryBytes = 1 << 20
	// MaxStepAnnotations is how many ::error (and, separately, ::warning)
	// annotations GitHub shows per step; more are dropped silently, so
	// m18-report emits at most this many, the last one summarising the rest.
	MaxStepAnnotations = 10
)

// stepAnnotation is one ::error or ::warning workflow command.
type stepAnnotation struct {
	file  string
	line  int
	title string
	msg   string
}

// capAnnotations keeps at most MaxStepAnnotations, replacing the tail by one
// that counts what was left out.
func capAnnotations(as []stepAnnotation, what string) []stepAnnotation {
	if len(as) <= MaxStepAnnotations {
		return as
	}
	rest := len(as) - (MaxStepAnnotations - 1)
	out := append([]stepAnnotation(nil), as[:MaxStepAnnotations-1]...)
	return append(out, stepAnnotation{
		title: fmt.Sprintf("%d more %s", rest, what),
		msg:   fmt.Sprintf("%d more %s not shown here (GitHub shows %d per step); see the job summary or the check run.", rest, what, MaxStepAnnotations),
	})
}

// stepAnnotations builds the step's errors (regressions) and warnings
// (reporting problems first, then inconclusive comparisons and the
// verdict's warnings), each capped.
func stepAnnotations(v *verdict.Verdict, problems []Problem) (errs, warns []stepAnnotation) {
	for _, p := range problems {
		warns = append(warns, stepAnnotation{title: "m18-report", msg: p.String()})
	}
	for _, c := range render.Sorted(v) {
		name := render.Plain(c.Scenario) + " · " + render.Plain(c.Operation) + " · " + render.Plain(c.Metric)
		a := stepAnnotation{msg: fmt.Sprintf("%s %s %s (CI %s, p %s). %s", name, c.Decision,
			render.ChangeOf(c), render.CIOf(c), render.P(c.PAdjusted), render.Plain(c.Reason))}
		if c.Source != nil && safeRepoPath(c.Source.Path) && c.Source.Line > 0 {
			a.file, a.line = c.Source.Path, c.Source.Line
		}
		switch c.Decision {
		case verdict.Regressed:
			a.title = "m18-gate: regression"
			errs = append(errs, a)
		case verdict.Inconclusive:
			a.title = "m18-gate: inconclusive"
			warns = append(warns, a)
		}
	}
	for _, w := range v.Warnings {
		warns = append(warns, stepAnnotation{title: "m18-gate", msg: render.Plain(w)})
	}
	return capAnnotations(errs, "regressions"), capAnnotations(warns, "warnings")
}

func issue(a *githubactions.Action, level string, s stepAnnotation) {
	fields := map[string]string{"title": clipRunes(s.title, 200)}
	if s.file != "" {
		fields["file"] = s.file
		fields["line"] = strconv.Itoa(s.line)
	}
	msg := clipRunes(s.msg, 4000)
	if level == "error" {
		a.WithFieldsMap(fields).Errorf("%s", msg)
	} else {
		a.WithFieldsMap(fields).Warningf("%s", msg)
	}
}

// StepSummary is the job summary for v: the Markdown report within
// GitHub's per-step limit, followed by the reporter's problems.
func StepSummary(v *verdict.Verdict, title, artifactName string, problems []Problem) string {
	return render.Markdown(v, render.Options{
		MaxBytes: MaxStepSummaryBytes - 1024, Title: title, ArtifactName: artifactName,
		Extra: problemsMarkdown(problems),
	})
}

func problemsMarkdown(problems []Problem) string {
	if len(problems) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("**Reporting problems** (the verdict above stands):\n\n")
	for _, p := range problems {
		b.WriteString("- " + render.Escape(p.String()) + "\n")
	}
	return b.String() + "\n"
}

// safely runs f, turning go-githubactions' panics (it panics when a file
// command cannot be written) into an error.
func safely(what string, f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	f()
	return nil
}
