package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/engram/m18-gate/internal/version"
)

// ErrUsage marks an error as bad usage or bad input, exit ExitUsage unless a
// program's Exit says otherwise. Wrap it with %w, or make one with Usagef.
var ErrUsage = errors.New("usage")

// Usagef returns an error that prints as the formatted message and matches
// ErrUsage.
func Usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == ErrUsage }

// reported is a usage error the flag package has already printed, with the
// usage: Program.Run does not print it again.
type reported struct{ err error }

func (e reported) Error() string        { return e.err.Error() }
func (e reported) Is(target error) bool { return target == ErrUsage }

// ParseFlags parses args into fs for a command that returns errors: nil,
// flag.ErrHelp after -h or --help (the usage is printed; exit 0), or an
// error matching ErrUsage that the flag package has printed already.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	return FlagError(fs.Parse(args))
}

// FlagError turns an error of flag.FlagSet.Parse into one for ParseFlags.
func FlagError(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return reported{err}
}

// Command is one subcommand of a Program: it parses its own flags from args
// and returns what went wrong, or nil.
type Command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Program is a command made of subcommands, "NAME COMMAND [flags]". Every
// m18 command with subcommands runs through it, so they answer help, the
// version and unknown commands alike.
type Program struct {
	// Name is the command's name, "m18-gate".
	Name string
	// Usage is printed for help (on stdout), and on stderr when no command
	// or an unknown one is given.
	Usage string
	// Commands are the subcommands by name.
	Commands map[string]Command
	// Exit maps a subcommand's error to its exit code: the one switch
	// over errors.Is of the program. nil maps every error to ExitUsage.
	Exit func(error) int
}

// Run runs the subcommand args[0] with the rest of args and returns the exit
// code: 0 for help ("help", "-h", "--help") and the version ("version",
// "--version", "-version", printed as "NAME VERSION"), ExitUsage without a
// command or with an unknown one, else 0 when the subcommand returns nil or
// flag.ErrHelp and Exit(err) otherwise. The error is printed to stderr as
// "NAME COMMAND: error", unless the flag package has printed it.
func (p *Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, p.Usage)
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, p.Usage)
		return 0
	case "version", "-version", "--version":
		PrintVersion(stdout, p.Name)
		return 0
	}
	cmd, ok := p.Commands[name]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", p.Name, name, p.Usage)
		return ExitUsage
	}
	return Finish(p.Name+" "+name, cmd(ctx, args[1:], stdout, stderr), stderr, p.Exit)
}

// Finish ends a command whose work returned err, and returns its exit code:
// 0 for nil and flag.ErrHelp; otherwise it prints "NAME: error" to stderr
// (unless the flag package has printed it) and returns exit(err), or
// ExitUsage when exit is nil. Program.Run ends every subcommand with it; a
// command without subcommands ends with it too.
func Finish(name string, err error, stderr io.Writer, exit func(error) int) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if !errors.As(err, new(reported)) {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
	}
	if exit == nil {
		return ExitUsage
	}
	return exit(err)
}

// VersionFlag defines --version on fs, for commands without subcommands;
// when it is set, the command calls PrintVersion and exits 0.
func VersionFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("version", false, "print the version and exit")
}

// ParseFlagsOnly is ParseFlags for a command without subcommands that
// takes flags only and has VersionFlag's --version (version): after
// --version it prints "NAME VERSION" (NAME is fs's name) and returns
// flag.ErrHelp, which ends the command with exit 0; a positional argument
// is a usage error.
func ParseFlagsOnly(fs *flag.FlagSet, args []string, version *bool, stdout io.Writer) error {
	if err := ParseFlags(fs, args); err != nil {
		return err
	}
	if *version {
		PrintVersion(stdout, fs.Name())
		return flag.ErrHelp
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q (it takes flags only; see --help)", fs.Arg(0))
	}
	return nil
}

// PrintVersion prints "NAME VERSION", the answer of every m18 command to
// --version.
func PrintVersion(w io.Writer, name string) {
	fmt.Fprintln(w, name, version.String())
}
