package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/version"
)

var errOutcome = errors.New("outcome")

func testProgram() *Program {
	return &Program{
		Name:  "m18-x",
		Usage: "USAGE\n",
		Commands: map[string]Command{
			"ok": func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				fmt.Fprintln(stdout, "done", strings.Join(args, " "))
				return nil
			},
			"flags": func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				fs := NewFlagSet("m18-x flags", stderr)
				fs.Int("n", 1, "a number")
				return ParseFlags(fs, args)
			},
			"bad": func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return Usagef("--in is required")
			},
			"outcome": func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return fmt.Errorf("%w: 2 regressions", errOutcome)
			},
			"fail": func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return errors.New("disk full")
			},
		},
		Exit: func(err error) int {
			switch {
			case errors.Is(err, ErrUsage):
				return ExitUsage
			case errors.Is(err, errOutcome):
				return 2
			}
			return 1
		},
	}
}

func TestProgramRun(t *testing.T) {
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string // exact
	}{
		{nil, ExitUsage, "", "USAGE\n"},
		{[]string{"help"}, 0, "USAGE\n", ""},
		{[]string{"--help"}, 0, "USAGE\n", ""},
		{[]string{"version"}, 0, "m18-x " + version.String() + "\n", ""},
		{[]string{"--version"}, 0, "m18-x " + version.String() + "\n", ""},
		{[]string{"nope"}, ExitUsage, "", "m18-x: unknown command \"nope\"\n\nUSAGE\n"},
		{[]string{"ok", "a", "b"}, 0, "done a b\n", ""},
		{[]string{"bad"}, ExitUsage, "", "m18-x bad: --in is required\n"},
		{[]string{"outcome"}, 2, "", "m18-x outcome: outcome: 2 regressions\n"},
		{[]string{"fail"}, 1, "", "m18-x fail: disk full\n"},
		{[]string{"flags", "-n", "2"}, 0, "", ""},
	}
	for _, tt := range tests {
		var stdout, stderr strings.Builder
		code := testProgram().Run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || stdout.String() != tt.stdout || stderr.String() != tt.stderr {
			t.Errorf("Run(%q) = %d\nstdout %q\nstderr %q\nwant %d, %q, %q", tt.args, code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderr)
		}
	}
}

// TestProgramFlagErrors: a bad flag is printed once, by the flag package,
// with the usage; help asked of a subcommand exits 0.
func TestProgramFlagErrors(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := testProgram().Run(context.Background(), []string{"flags", "--nope"}, &stdout, &stderr); code != ExitUsage {
		t.Errorf("bad flag: exit %d, want %d", code, ExitUsage)
	}
	if got := stderr.String(); strings.Count(got, "flag provided but not defined: -nope") != 1 || strings.Contains(got, "m18-x flags: flag provided") {
		t.Errorf("bad flag: stderr %q; want the flag package's message once", got)
	}
	stderr.Reset()
	if code := testProgram().Run(context.Background(), []string{"flags", "-h"}, &stdout, &stderr); code != 0 {
		t.Errorf("-h: exit %d, want 0", code)
	}
	if !strings.Contains(stderr.String(), "-n int") {
		t.Errorf("-h: stderr %q lacks the flags", stderr.String())
	}
	// Without Exit, every error is a usage error.
	p := testProgram()
	p.Exit = nil
	if code := p.Run(context.Background(), []string{"fail"}, io.Discard, io.Discard); code != ExitUsage {
		t.Errorf("nil Exit: exit %d, want %d", code, ExitUsage)
	}
}

func TestUsagefAndFlagError(t *testing.T) {
	if err := Usagef("x %d", 1); !errors.Is(err, ErrUsage) || err.Error() != "x 1" {
		t.Errorf("Usagef = %v", err)
	}
	if err := FlagError(nil); err != nil {
		t.Errorf("FlagError(nil) = %v", err)
	}
	if err := FlagError(flag.ErrHelp); err != flag.ErrHelp {
		t.Errorf("FlagError(ErrHelp) = %v", err)
	}
	if err := FlagError(errors.New("bad")); !errors.Is(err, ErrUsage) || err.Error() != "bad" {
		t.Errorf("FlagError(bad) = %v", err)
	}
}

func TestVersionFlag(t *testing.T) {
	fs := NewFlagSet("m18-y", io.Discard)
	v := VersionFlag(fs)
	if err := ParseFlags(fs, []string{"--version"}); err != nil || !*v {
		t.Fatalf("--version: %v, %v", err, *v)
	}
	var out strings.Builder
	PrintVersion(&out, "m18-y")
	if out.String() != "m18-y "+version.String()+"\n" {
		t.Errorf("PrintVersion = %q", out.String())
	}
}

func TestParseFlagsOnly(t *testing.T) {
	tests := []struct {
		args   []string
		want   error // nil, flag.ErrHelp or ErrUsage
		stdout string
	}{
		{[]string{"-n", "2"}, nil, ""},
		{[]string{"--version"}, flag.ErrHelp, "m18-z " + version.String() + "\n"},
		{[]string{"-n", "2", "extra"}, ErrUsage, ""},
		{[]string{"--nope"}, ErrUsage, ""},
	}
	for _, tt := range tests {
		var stdout strings.Builder
		fs := NewFlagSet("m18-z", io.Discard)
		fs.Int("n", 1, "a number")
		err := ParseFlagsOnly(fs, tt.args, VersionFlag(fs), &stdout)
		if (tt.want == nil) != (err == nil) || !errors.Is(err, tt.want) || stdout.String() != tt.stdout {
			t.Errorf("ParseFlagsOnly(%q) = %v, stdout %q; want %v, %q", tt.args, err, stdout.String(), tt.want, tt.stdout)
		}
	}
	// Through Finish, --version ends the command with exit 0 and no message.
	var stderr strings.Builder
	fs := NewFlagSet("m18-z", io.Discard)
	if code := Finish("m18-z", ParseFlagsOnly(fs, []string{"--version"}, VersionFlag(fs), io.Discard), &stderr, nil); code != 0 || stderr.Len() != 0 {
		t.Errorf("--version: exit %d, stderr %q", code, stderr.String())
	}
}
