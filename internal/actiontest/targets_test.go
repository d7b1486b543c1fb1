package actiontest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/testenv"
)

// TestGroupAlive: measure.sh waits for a stopped target's process group
// with lib.sh's group_alive, which counts running members and not zombies
// (a target outliving the subshell that started it is left as a zombie
// until whoever adopts it reaps it). The zombie here is this test's own
// unreaped child, so it stays a zombie for as long as the check runs;
// kill -0 still finds its group, group_alive does not.
func TestGroupAlive(t *testing.T) {
	testenv.Tools(t, "bash", "ps", "awk", "sleep", "true")
	check := func(script string, pgid int) bool {
		t.Helper()
		out, err := libShell(t, script, nil, strconv.Itoa(pgid))
		if err != nil {
			if _, ok := err.(*exec.ExitError); !ok || len(out) > 0 {
				t.Fatalf("%s %d: %v %s", script, pgid, err, out)
			}
			return false
		}
		return true
	}
	group := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	running := group("sleep", "30")
	defer func() { running.Process.Kill(); running.Wait() }()
	if !check(`group_alive "$2"`, running.Process.Pid) {
		t.Error("group_alive: a sleeping process's group is not alive")
	}

	zombie := group("true") // not waited for until the end
	defer zombie.Wait()
	stat := filepath.Join("/proc", strconv.Itoa(zombie.Process.Pid), "stat")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed a zombie: %s", stat, b)
		}
	}
	if !check(`kill -0 -- "-$2"`, zombie.Process.Pid) {
		t.Fatal("kill -0 does not find the zombie's group: this test shows nothing")
	}
	if check(`group_alive "$2"`, zombie.Process.Pid) {
		t.Error("group_alive: a group of one zombie is alive; measure.sh would wait out its limit for every stopped target")
	}

	if err := zombie.Wait(); err != nil {
		t.Fatal(err)
	}
	if check(`group_alive "$2"`, zombie.Process.Pid) {
		t.Error("group_alive: a group with no processes is alive")
	}
}

// TestTargetAddressTaken: when something already answers on the address
// target-command is to listen on — a target an earlier job left running —
// and goes on answering for 10 s, measure.sh refuses before it starts the
// target: the health check would find the old server and every run would
// measure it. One that lets go of the address within those 10 s (the
// previous run's target shutting down) is waited for: target-command then
// starts (here a target.sh that exits at once, so measure.sh stops there).
func TestTargetAddressTaken(t *testing.T) {
	testenv.Tools(t, "bash", "git", "curl")
	tests := []struct {
		name    string
		letGo   time.Duration // 0: the old server answers throughout
		started bool
		log     string
	}{
		{"left running", 0, false, "something already answers on ADDR before target-command starts"},
		{"let go within 10 s", time.Second, true, "target-command exited before it answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			defer old.Close()
			if tt.letGo > 0 {
				time.AfterFunc(tt.letGo, old.Close)
			}
			addr := strings.TrimPrefix(old.URL, "http://")
			work := filepath.Join(t.TempDir(), "work")
			started := filepath.Join(t.TempDir(), "started")
			target := "#!/bin/sh\ntouch " + started + "\nexit 1 # M18_ADDR\n"
			dir, _, _, env := abCheckouts(t, map[string]string{"target.sh": target}, map[string]string{"README": "head\n"}, t.TempDir(), work)
			env = append(env, "M18_REPETITIONS=2", "M18_LOOKS=off", "M18_CONFIRM=off", "M18_DUET=false",
				"M18_TARGET_COMMAND=./target.sh", "M18_ENDPOINT="+old.URL)
			out, code := runScript(t, dir, "measure.sh", env...)
			want := "::error title=m18-gate::" + strings.ReplaceAll(tt.log, "ADDR", addr)
			if code != 3 || !strings.Contains(out, want) {
				t.Errorf("measure.sh: exit %d, want 3 and %q:\n%s", code, want, tail(out, 20))
			}
			if _, err := os.Stat(started); (err == nil) != tt.started {
				t.Errorf("target-command started: %v, want %v", err == nil, tt.started)
			}
		})
	}
}
