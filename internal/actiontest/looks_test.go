package actiontest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate"
)

// TestLooksPlan: the looks input becomes the plan measure.sh and gate.sh
// follow, and a bad plan is refused before any pair is measured; auto is
// gate.AutoLooks (m18-run ab's) for every number of repetitions.
func TestLooksPlan(t *testing.T) {
	tests := []struct {
		looks, reps string
		want        string // the plan, or the error's words
		fails       bool
	}{
		{"auto", "10", "10,15,20", false},
		{"auto", "", "10,15,20", false}, // repetitions' default: 10
		{"", "", "10,15,20", false},     // looks' default: auto
		{"auto", "16", "16,24,32", false},
		{"auto", "9", "9,13,18", false},
		{"auto", "7", "", false}, // too few repetitions: one look
		{"off", "20", "", false},
		{"10, 15, 20", "20", "10,15,20", false},
		{"6,10", "10", "6,10", false},
		{"15,10", "20", "increasing", true},
		{"10", "20", "one look is a fixed design", true},
		{"1,5", "20", "each 2 or more", true},
		{"10,,20", "20", "increasing", true},
		{"ten", "20", "want auto, off", true},
	}
	for _, tt := range tests {
		got, err := libShell(t, "looks_plan", []string{"M18_LOOKS=" + tt.looks, "M18_REPETITIONS=" + tt.reps})
		if tt.fails {
			if err == nil || !strings.Contains(got, "::error title=m18-gate::input looks") || !strings.Contains(got, tt.want) {
				t.Errorf("looks %q: %v %q, want an error saying %q", tt.looks, err, got, tt.want)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("looks %q, repetitions %s: %v %q, want %q", tt.looks, tt.reps, err, got, tt.want)
		}
	}
	for reps := 1; reps <= 40; reps++ {
		want := gate.AutoLooks(reps).String()
		got, err := libShell(t, "looks_plan", []string{"M18_LOOKS=auto", "M18_REPETITIONS=" + strconv.Itoa(reps)})
		if err != nil || got != want {
			t.Errorf("looks auto, repetitions %d: lib.sh %q, %v; gate.AutoLooks %q", reps, got, err, want)
		}
	}
}
