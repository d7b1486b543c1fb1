package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/testenv"
)

// TestMain lets the test binary act as m18-target when re-executed, so the
// signal test runs the real command in a child process.
func TestMain(m *testing.M) { testenv.MainAs(m, "M18_TARGET_TEST_MAIN", run) }

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"--help"}, 0, "Exit codes"},
		{"unknown flag", []string{"--nope"}, 3, "flag provided but not defined"},
		{"bad duration", []string{"--stall-every", "5"}, 3, "invalid value"},
		{"stall-for alone", []string{"--stall-for", "1s"}, 3, "set together"},
		{"fail-rate range", []string{"--fail-rate", "2"}, 3, "--fail-rate"},
		{"remote refused", []string{"--addr", "0.0.0.0:7432"}, 3, "--allow-remote"},
		{"empty host refused", []string{"--addr", ":7432"}, 3, "not loopback"},
		{"bad addr", []string{"--addr", "nonsense"}, 3, "host:port"},
		{"stray argument", []string{"serve"}, 3, "unexpected argument"},
		{"version", []string{"--version"}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Errorf("stderr lacks %q: %s", tc.want, errb.String())
			}
		})
	}
}

func TestCannotListen(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var out, errb bytes.Buffer
	if code := run([]string{"--addr", busy.Addr().String()}, &out, &errb); code != 3 {
		t.Fatalf("exit %d, want 3: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "cannot listen") {
		t.Errorf("stderr: %s", errb.String())
	}
}

// TestServeAndSignal runs the command, reads the URL it prints, checks
// /health, sends SIGTERM and expects a clean exit 0.
func TestServeAndSignal(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--addr", "127.0.0.1:0", "--seed", "3")
	cmd.Env = append(os.Environ(), "M18_TARGET_TEST_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- strings.TrimSpace(line)
		io.Copy(io.Discard, stdout)
	}()
	var url string
	select {
	case url = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatalf("no URL printed; stderr: %s", stderr.String())
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("printed %q, want http://127.0.0.1:PORT", url)
	}
	resp, err := http.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not exit within 20 s of SIGTERM")
	}
}
