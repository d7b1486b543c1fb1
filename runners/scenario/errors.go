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

// nearest returns the candidate closest to word by edit distance, or "" if
// none is close enough to be a plausible typo.
func nearest(word string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 {
		return ""
	}
	// A typo changes a few characters; more than a third of the word is a
	// different word.
	limit := max(2, len(word)/3)
	if bestD > limit {
		return ""
	}
	return best
}

// editDistance is the Damerau–Levenshtein (optimal string alignment)
// distance between a and b, counting an adjacent transposition as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rolling rows: i-2, i-1, i.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
