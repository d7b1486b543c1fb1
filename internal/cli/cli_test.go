package cli

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args     []string
		want     error  // nil, flag.ErrHelp or ErrUsage
		wantErr  string // in the output
		wantHelp bool   // usage printed
	}{
		{[]string{"-n", "2"}, nil, "", false},
		{[]string{"-h"}, flag.ErrHelp, "", true},
		{[]string{"--help"}, flag.ErrHelp, "", true},
		{[]string{"--nope"}, ErrUsage, "flag provided but not defined: -nope", true},
		{[]string{"-n", "x"}, ErrUsage, `invalid value "x" for flag -n`, true},
	}
	for _, tt := range tests {
		var out strings.Builder
		fs := NewFlagSet("cmd", &out)
		n := fs.Int("n", 1, "a `number`")
		fs.Usage = Usage(fs, "HEAD\n", "TAIL\n")
		err := ParseFlags(fs, tt.args)
		if (tt.want == nil) != (err == nil) || !errors.Is(err, tt.want) {
			t.Errorf("ParseFlags(%q) = %v; want %v", tt.args, err, tt.want)
		}
		got := out.String()
		if tt.wantErr != "" && !strings.Contains(got, tt.wantErr) {
			t.Errorf("ParseFlags(%q) printed %q; want it to hold %q", tt.args, got, tt.wantErr)
		}
		const usage = "HEAD\n  -n number\n    \ta number (default 1)\nTAIL\n"
		if tt.wantHelp != strings.Contains(got, usage) {
			t.Errorf("ParseFlags(%q) printed %q; usage %q printed: want %v", tt.args, got, usage, tt.wantHelp)
		}
		if err == nil && *n != 2 {
			t.Errorf("ParseFlags(%q): n = %d, want 2", tt.args, *n)
		}
	}
}

func TestSuggestsTheFlagMeant(t *testing.T) {
	tests := []struct {
		typed, want string
	}{
		{"--verdcit", "verdict"}, // swapped letters
		{"--verdict-pth", "verdict-path"},
		{"--comment-mode", ""}, // four edits from --comment: too far to guess
		{"-slak", "slack"},
		{"--chek-run-id", "check-run-id"},
		{"--xyzzy", ""},
		{"--st", "strict"}, // unique prefix
	}
	for _, tt := range tests {
		var out strings.Builder
		fs := NewFlagSet("m18-report", &out)
		for _, n := range []string{"verdict", "verdict-path", "slack", "strict", "check-run-id", "check-name", "comment"} {
			fs.String(n, "", "")
		}
		if err := ParseFlags(fs, []string{tt.typed}); !errors.Is(err, ErrUsage) {
			t.Fatalf("%s: %v, want a usage error", tt.typed, err)
		}
		hint := "m18-report: did you mean --" + tt.want + "?\n"
		switch {
		case tt.want == "" && strings.Contains(out.String(), "did you mean"):
			t.Errorf("%s: suggested something:\n%s", tt.typed, out.String())
		case tt.want != "" && !strings.Contains(out.String(), "flag provided but not defined: -"+strings.TrimLeft(tt.typed, "-")+"\n"+hint):
			t.Errorf("%s: want the error followed by %q, got:\n%s", tt.typed, hint, out.String())
		}
	}
}

func TestExitCodes(t *testing.T) {
	got := ExitCodes(map[int]string{ExitUsage: "bad input", ExitOK: "done", ExitInterrupted: "interrupted"})
	want := "\nExit codes (the same in every m18 command; README.md has the table):\n" +
		"  0   done\n  3   bad input\n  130 interrupted\n"
	if got != want {
		t.Errorf("ExitCodes =\n%q\nwant\n%q", got, want)
	}
}
