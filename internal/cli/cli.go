// Package cli is the flag plumbing the m18-* commands share, and nothing
// more: a flag set that reports instead of exiting, a usage text wrapped
// around the flag defaults, and parsing whose outcome is already an exit
// code. Every m18 command exits 0 for -h/--help and ExitUsage for a bad
// flag; what its other exit codes mean stays in its own main.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// ExitUsage is the exit code of every m18 command for bad flags or input.
const ExitUsage = 3

// NewFlagSet returns a flag set named name that returns its errors (rather
// than exiting) and writes them, and its usage, to w.
func NewFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	return fs
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

// Parse parses args into fs. When parsing ends the command, it returns the
// exit code and true: 0 after -h or --help, ExitUsage after a bad flag (the
// flag package has printed the error and the usage).
func Parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		return FlagExit(err), true
	}
	return 0, false
}

// FlagExit returns the exit code for an error from fs.Parse: 0 for
// flag.ErrHelp (help was asked for and printed), ExitUsage otherwise.
func FlagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return ExitUsage
}
