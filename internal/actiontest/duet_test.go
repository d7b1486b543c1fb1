package actiontest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

// TestDuet runs measure.sh in ab mode (two pairs of a one-second
// scenario) with each setting of the duet input: when base and head can
// each have a target of their own, a pair's two runs happen at the same
// time, each against its own target on its own port, each result naming
// its side's commit and carrying its target's CPU per request; when they
// cannot, the sides take turns (auto) or the step refuses (true).
func TestDuet(t *testing.T) {
	testenv.Tools(t, "bash", "git", "curl")
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	testenv.Build(t, bin+"/", "./cmd/m18-run")
	testenv.Build(t, bin+"/", "./cmd/m18-target")
	testenv.Build(t, bin+"/", "./cmd/m18-gate") // the confirm input's compare after the last pair
	// The target writes the port it was given beside the checkout it
	// runs in, then becomes m18-target on that address.
	byAddr := `echo "$M18_PORT" >> ../$(basename "$PWD").port; exec ` + bin + `/m18-target --addr "$M18_ADDR"`
	fixed := func(port int) string {
		return fmt.Sprintf(`echo 0 >> ../$(basename "$PWD").port; exec %s/m18-target --addr 127.0.0.1:%d`, bin, port)
	}

	tests := []struct {
		name    string
		duet    string
		command func(port int) string // "" : the built-in target
		code    int
		overlap bool   // a pair's runs overlap in time
		ports   bool   // the two targets got different ports
		refusal string // with code 3: what the error says
		log     string // the log says this
	}{
		{name: "target on M18_ADDR", duet: "auto", command: func(int) string { return byAddr }, overlap: true, ports: true},
		{name: "script on M18_ADDR", duet: "auto", command: func(int) string { return "./target.sh" }, overlap: true, ports: true},
		// The base's first target exits before it answers, as one whose
		// port was taken meanwhile: it is started again on the next port.
		{name: "base target fails once", duet: "auto", command: func(int) string {
			return `if [ "$(basename "$PWD")" = base ] && [ ! -e ../failed ]; then touch ../failed; exit 1; fi; ` + byAddr
		}, overlap: true, ports: true, log: "did not start (its port taken meanwhile?); starting it on the next free port"},
		{name: "built-in target", duet: "", command: nil, overlap: true},
		{name: "duet off", duet: "false", command: func(int) string { return byAddr }},
		{name: "fixed port, auto", duet: "auto", command: fixed},
		{name: "fixed port, true", duet: "true", command: fixed, code: 3, refusal: "input duet is true, but neither target-command nor the script it starts names $M18_ADDR"},
		{name: "bad value", duet: "yes", command: nil, code: 3, refusal: "input duet is 'yes'; want auto, true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work := filepath.Join(t.TempDir(), "work")
			dir, baseSHA, headSHA, env := abCheckouts(t, map[string]string{"tiny.toml": fixture(t, "tiny.toml"), "target.sh": byAddr}, map[string]string{"README": "x"}, bin, work)
			port := competitortest.FreePort(t)
			env = append(env, "M18_REPETITIONS=2", "M18_LOOKS=off", "M18_SCENARIOS=tiny.toml", "M18_DUET="+tt.duet)
			if tt.command != nil {
				env = append(env, "M18_TARGET_COMMAND="+tt.command(port), fmt.Sprintf("M18_ENDPOINT=http://127.0.0.1:%d", port))
			}
			out, code := runScript(t, dir, "measure.sh", env...)
			if code != tt.code {
				t.Fatalf("measure.sh: exit %d, want %d\n%s", code, tt.code, tail(out, 40))
			}
			if tt.code != 0 {
				if !strings.Contains(out, tt.refusal) {
					t.Errorf("the refusal does not say %q:\n%s", tt.refusal, tail(out, 20))
				}
				return
			}
			// The default confirm input compares after the last pair: two
			// pairs cannot regress, so there is nothing to confirm.
			if !strings.Contains(out, "no regression after 2 pairs: nothing to confirm") {
				t.Errorf("measure.sh did not compare after the last pair (confirm: auto):\n%s", tail(out, 20))
			}
			if _, err := os.Stat(filepath.Join(work, "out", "confirm")); err == nil {
				t.Error("a gate without regression measured confirming pairs")
			}
			if !strings.Contains(out, tt.log) {
				t.Errorf("the log does not say %q:\n%s", tt.log, tail(out, 20))
			}
			if got := strings.Contains(out, "(duet: base and head at once"); got != tt.overlap {
				t.Errorf("the log says duet = %v, want %v:\n%s", got, tt.overlap, tail(out, 20))
			}
			for i := range 2 {
				base := readResult(t, filepath.Join(work, "out", "base", fmt.Sprintf("tiny-%03d.json", i)))
				head := readResult(t, filepath.Join(work, "out", "head", fmt.Sprintf("tiny-%03d.json", i)))
				if base.Run.Commit != baseSHA || head.Run.Commit != headSHA {
					t.Errorf("pair %d: commits base %.7s head %.7s, want %.7s and %.7s", i, base.Run.Commit, head.Run.Commit, baseSHA, headSHA)
				}
				b, h := base.Repetitions[0], head.Repetitions[0]
				overlap := b.Start.Before(h.End) && h.Start.Before(b.End)
				if overlap != tt.overlap {
					t.Errorf("pair %d: measured phases base %s–%s, head %s–%s: overlap %v, want %v", i,
						b.Start.Format(time.StampMilli), b.End.Format(time.StampMilli),
						h.Start.Format(time.StampMilli), h.End.Format(time.StampMilli), overlap, tt.overlap)
				}
				for side, r := range map[string]result.Repetition{"base": b, "head": h} {
					if r.Target == nil || r.Target.CPUPerOpMs <= 0 {
						t.Errorf("pair %d: the %s run has no CPU per request of its target", i, side)
					}
				}
			}
			if tt.command == nil {
				return
			}
			basePorts, headPorts := portsOf(t, filepath.Join(filepath.Dir(dir), "base.port")), portsOf(t, filepath.Join(filepath.Dir(dir), "repo.port"))
			if len(basePorts) != 2 || len(headPorts) != 2 {
				t.Fatalf("targets started: base %v, head %v; want two each", basePorts, headPorts)
			}
			if differ := basePorts[0] != headPorts[0]; differ != tt.ports {
				t.Errorf("ports base %v head %v: differ = %v, want %v", basePorts, headPorts, differ, tt.ports)
			}
			if tt.ports && headPorts[0] != fmt.Sprint(port) {
				t.Errorf("the head's target got port %s, want the endpoint's %d", headPorts[0], port)
			}
		})
	}
}

func readResult(t *testing.T, path string) *result.Document {
	t.Helper()
	doc, err := result.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Repetitions) != 1 {
		t.Fatalf("%s: %d repetitions, want 1", path, len(doc.Repetitions))
	}
	return doc
}

func portsOf(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}
