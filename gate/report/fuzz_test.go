package report

import (
	"regexp"
	"testing"
)

// FuzzParseEvent feeds ParseEvent arbitrary payloads (the event file is
// written by GitHub, but its strings come from branch names, forks and
// titles): it never panics, and what it accepts is in range and hex.
func FuzzParseEvent(f *testing.F) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	f.Add([]byte(`{"pull_request":{"number":7,"head":{"sha":"` + sha + `"}}}`))
	f.Add([]byte(`{"workflow_run":{"id":99,"head_sha":"` + sha + `","head_branch":"feature","head_repository":{"full_name":"mallory/widgets","owner":{"login":"mallory"}},"repository":{"full_name":"acme/widgets"},"pull_requests":[]}}`))
	f.Add([]byte(`{"workflow_run":{"id":99,"head_sha":"` + sha + `","pull_requests":[{"number":3}]}}`))
	f.Add([]byte(`{"pull_request":{"number":1e30,"head":{"sha":"x"}}}`))
	f.Add([]byte(`{"pull_request":{"number":-1}}`))
	f.Add([]byte(`{"pull_request":{"number":7.5}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	hex := regexp.MustCompile(`^[0-9a-fA-F]*$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseEvent(data)
		if err != nil {
			return
		}
		if ev.PR < 0 || ev.PR > maxEventNumber {
			t.Fatalf("PR %d out of range from %q", ev.PR, data)
		}
		if !hex.MatchString(ev.SHA) {
			t.Fatalf("SHA %q is not hex, from %q", ev.SHA, data)
		}
		if w := ev.WorkflowRun; w != nil && (w.ID < 0 || w.ID > maxEventNumber) {
			t.Fatalf("run id %d out of range from %q", w.ID, data)
		}
	})
}
