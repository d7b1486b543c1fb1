package cli

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		done     bool
		wantErr  string // in the output
		wantHelp bool   // usage printed
	}{
		{[]string{"-n", "2"}, 0, false, "", false},
		{[]string{"-h"}, 0, true, "", true},
		{[]string{"--help"}, 0, true, "", true},
		{[]string{"--nope"}, ExitUsage, true, "flag provided but not defined: -nope", true},
		{[]string{"-n", "x"}, ExitUsage, true, `invalid value "x" for flag -n`, true},
	}
	for _, tt := range tests {
		var out strings.Builder
		fs := NewFlagSet("cmd", &out)
		n := fs.Int("n", 1, "a `number`")
		fs.Usage = Usage(fs, "HEAD\n", "TAIL\n")
		code, done := Parse(fs, tt.args)
		if code != tt.code || done != tt.done {
			t.Errorf("Parse(%q) = %d, %v; want %d, %v", tt.args, code, done, tt.code, tt.done)
		}
		got := out.String()
		if tt.wantErr != "" && !strings.Contains(got, tt.wantErr) {
			t.Errorf("Parse(%q) printed %q; want it to hold %q", tt.args, got, tt.wantErr)
		}
		const usage = "HEAD\n  -n number\n    \ta number (default 1)\nTAIL\n"
		if tt.wantHelp != strings.Contains(got, usage) {
			t.Errorf("Parse(%q) printed %q; usage %q printed: want %v", tt.args, got, usage, tt.wantHelp)
		}
		if !done && *n != 2 {
			t.Errorf("Parse(%q): n = %d, want 2", tt.args, *n)
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
		code, done := Parse(fs, []string{tt.typed})
		if code != ExitUsage || !done {
			t.Fatalf("%s: exit %d, done %v", tt.typed, code, done)
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
