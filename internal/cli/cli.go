// Package cli is the flag plumbing the m18-* commands share, and nothing
// more: the exit codes every command follows, a flag set that reports
// instead of exiting and suggests the flag a mistyped one meant, a usage
// text wrapped around the flag defaults, and one subcommand dispatch whose
// errors map to exit codes. Every m18 command exits 0 for -h/--help and
// ExitUsage for a bad flag.
package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/engram/m18-gate/internal/tomlcheck"
)

// Exit codes, the same in every m18 command (README.md has the table). A
// command uses the ones that apply to it and lists them in its --help.
const (
	// ExitOK: done, and the answer is good (no regression, reported, …).
	ExitOK = 0
	// ExitFail: done, and the answer is bad: a regression (m18-gate), a
	// failed [validation] (m18-run), a refused push (m18-history), a server
	// that failed while running (m18-target).
	ExitFail = 1
	// ExitCompetitive: only competitive regressions (m18-gate).
	ExitCompetitive = 2
	// ExitUsage: bad flags or input (a missing, unreadable, oversized or
	// invalid file, an unreachable target or remote); the message names
	// the file, field and fix. Nothing was decided.
	ExitUsage = 3
	// ExitIncomplete: ran, but the answer is partial or cannot be trusted:
	// the load generator was the bottleneck (m18-run), no baseline exists
	// (m18-history), with --strict a part of the report was not published
	// (m18-report).
	ExitIncomplete = 4
	// ExitRefused: refused on purpose, for safety: m18-report would not
	// comment on a pull request whose head is not the measured commit.
	ExitRefused = 5
	// ExitInterrupted: stopped by SIGINT or SIGTERM (128 + 2).
	ExitInterrupted = 130
)

// ExitCodes formats the exit codes a command uses for its --help, in code
// order, under the heading every m18 command shares:
//
//	Exit codes (the same in every m18 command; README.md has the table):
//	  0  no regression
//	  3  bad flags or input; the message names the file, field and fix
//
// what maps each code to the command's words for it; the words must keep
// the shared meaning of the constants above.
func ExitCodes(what map[int]string) string {
	var b strings.Builder
	b.WriteString("\nExit codes (the same in every m18 command; README.md has the table):\n")
	codes := make([]int, 0, len(what))
	for c := range what {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		fmt.Fprintf(&b, "  %-3d %s\n", c, what[c])
	}
	return b.String()
}

// NewFlagSet returns a flag set named name that returns its errors (rather
// than exiting) and writes them, and its usage, to w. When a flag is not
// defined, the error is followed by the nearest defined flag's name ("did
// you mean --verdict?").
func NewFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(&suggester{w: w, fs: fs})
	return fs
}

// undefinedFlag is how the flag package starts its error for an unknown
// flag, which it writes in one call.
const undefinedFlag = "flag provided but not defined: -"

// suggester passes writes through, adding a suggestion after the flag
// package's error for an undefined flag.
type suggester struct {
	w  io.Writer
	fs *flag.FlagSet
}

func (s *suggester) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil || !bytes.HasPrefix(p, []byte(undefinedFlag)) {
		return n, err
	}
	name := strings.TrimSpace(string(p[len(undefinedFlag):]))
	if best := Suggest(s.fs, name); best != "" {
		fmt.Fprintf(s.w, "%s: did you mean --%s?\n", s.fs.Name(), best)
	}
	return n, nil
}

// Suggest returns the flag of fs that name most likely meant: the one it is
// a unique prefix of, else the nearest by edit distance if that distance
// is at most a third of the name's length (at least 1, at most 3); "" when
// none is near.
func Suggest(fs *flag.FlagSet, name string) string {
	name = strings.TrimLeft(name, "-")
	name, _, _ = strings.Cut(name, "=")
	if name == "" {
		return ""
	}
	var prefixed []string
	best, bestD := "", 0
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, name) {
			prefixed = append(prefixed, f.Name)
		}
		if d := tomlcheck.EditDistance(name, f.Name); best == "" || d < bestD {
			best, bestD = f.Name, d
		}
	})
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	if best != "" && bestD <= min(3, max(1, len(name)/3)) {
		return best
	}
	return ""
}

// Usage returns a function for fs.Usage that writes head, the flag
// defaults and tail to fs.Output().
func Usage(fs *flag.FlagSet, head, tail string) func() {
	return func() {
		fmt.Fprint(fs.Output(), head)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), tail)
	}
}
