package actiontest

import (
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
	needTools(t, "bash", "ps", "awk", "sleep", "true")
	lib := filepath.Join(testenv.ModuleRoot(t), "scripts", "action", "lib.sh")
	check := func(script string, pgid int) bool {
		t.Helper()
		cmd := exec.Command("bash", "-c", `. "$1" && `+script, "group_alive", lib, strconv.Itoa(pgid))
		out, err := cmd.CombinedOutput()
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
