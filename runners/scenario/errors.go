package scenario

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a scenario file, located as precisely as
// the file allows.
type Problem struct {
	// Ref names the file: a built-in name such as "ci/smoke.toml" or a path.
	Ref string
	// Line is the 1-based line of the offending key or table; 0 if unknown
	// (for example a required key that is missing from a missing table).
	Line int
	// Table is the dotted table the key lives in ("arrival",
	// "data.embedding_distribution"); "" for top-level keys.
	Table string
	// Key is the offending key; "" for problems of a whole table or file.
	Key string
	// Msg says what is wrong and, where possible, how to fix it.
	Msg string
}

// Error formats the problem as
// `scenario FILE:LINE: [table] key must be … (got …)`.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString("scenario ")
	b.WriteString(p.Ref)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Table != "" {
		b.WriteString("[" + p.Table + "] ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Errors is every problem found in one file, in the order of the file.
// Parse and Load return it (as error) so that a caller can list them all:
//
//	var errs scenario.Errors
//	if errors.As(err, &errs) { for _, p := range errs { … } }
type Errors []*Problem

// Error joins the problems one per line.
func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, p := range e {
		s[i] = p.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap gives the problems to errors.Is and errors.As.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, p := range e {
		out[i] = p
	}
	return out
}
