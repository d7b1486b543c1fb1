package report

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30", 30 * time.Second, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
		{"-5", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTextOutputFenceCannotBeClosed(t *testing.T) {
	v := mkVerdict(3, 1)
	v.Comparisons[0].Scenario = "````` @here <b>"
	s := textOutput(v, "")
	fence := s[:strings.IndexByte(s, '\n')]
	if len(fence) <= 5 || strings.Trim(fence, "`") != "" || !strings.HasSuffix(s, "\n"+fence) {
		t.Errorf("fence %q does not outlast the backticks inside:\n%s", fence, s)
	}
	big := mkVerdict(5000, 0)
	s = textOutput(big, "m18-verdict")
	if len(s) > MaxOutputChars || !strings.Contains(s, "truncated; the full verdict is in the m18-verdict artifact") {
		t.Errorf("text: %d bytes", len(s))
	}
}
