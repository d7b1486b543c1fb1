package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/result"
)

// engramScenarios lists Engram's scenario files beside the repository.
func engramScenarios(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(testenv.EngramScenarios(t), "*.toml"))
	if len(files) == 0 {
		t.Skip("../shared/engram-scenarios/ holds no .toml files: Engram's scenario files are not available here")
	}
	return files
}

func TestCheckEngramScenarios(t *testing.T) {
	var out, errb bytes.Buffer
	files := engramScenarios(t)
	if code := run(append([]string{"check"}, files...), &out, &errb); code != 0 {
		t.Fatalf("check of Engram's scenarios exited %d:\n%s", code, errb.String())
	}
	if n := strings.Count(out.String(), ": ok"); n != len(files) {
		t.Errorf("%d ok lines for %d files", n, len(files))
	}
}

func TestCheckListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("name = \"x\"\n[duration]\ntotal_seconds = -1\n[arrival]\npatern = \"constant\"\n"), 0o644)
	var out, errb bytes.Buffer
	code := run([]string{"check", "ci/smoke", bad}, &out, &errb)
	if code != exitInput {
		t.Fatalf("exit %d, want %d", code, exitInput)
	}
	msg := errb.String()
	if !strings.Contains(out.String(), "ci/smoke: ok") || !strings.Contains(msg, "bad.toml") || !strings.Contains(msg, "1 of 2") {
		t.Errorf("stdout %q stderr %q", out.String(), msg)
	}
}

func TestListAndBadInput(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"list"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "ci/fast_regression_check") {
		t.Errorf("list: exit %d, %q", code, out.String())
	}
	for _, args := range [][]string{
		{},
		{"--scenario", "no/such/scenario"},
		{"--scenario", "ci/smoke", "--endpoint", "http://127.0.0.1:1", "--target-fail-rate", "0.1"},
		{"--scenario", "ci/smoke", "--warmup", "5"},
		{"--scenario", "ci/smoke", "--endpoint", "http://127.0.0.1:1", "--quiet"},
	} {
		errb.Reset()
		if code := run(args, &out, &errb); code != exitInput || errb.Len() == 0 {
			t.Errorf("%q: exit %d (want 3) with message %q", args, code, errb.String())
		}
	}
}

func TestRunBuiltinTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built-in target for a few seconds")
	}
	for _, engine := range [][]string{nil, {"--senders"}} {
		t.Run(strings.Join(append([]string{"default"}, engine...), " "), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.json")
			var stdout, stderr bytes.Buffer
			args := append([]string{"--scenario", "ci/smoke", "--duration", "1s", "--warmup", "0s", "--nodes", "50", "--quiet", "--output", out, "--label", "mine"}, engine...)
			code := run(args, &stdout, &stderr)
			// 4 is possible on an overloaded machine (the generator says so).
			if code != exitOK && code != exitGenerator {
				t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
			}
			d, err := result.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if d.Run.Target != "builtin" || d.Run.Hardware.Hash == "" || len(d.Run.Labels) == 0 || d.Run.Labels[len(d.Run.Labels)-1] != "mine" {
				t.Errorf("run metadata: target %q, hardware hash %q, labels %v", d.Run.Target, d.Run.Hardware.Hash, d.Run.Labels)
			}
			if d.Run.Commit == "" {
				t.Logf("no commit recorded (not inside a repository with commits?)")
			}
			if d.TotalOperations == 0 || d.TotalErrors != 0 {
				t.Errorf("%d operations, %d errors; want some, none", d.TotalOperations, d.TotalErrors)
			}
			// The built-in target's process is this one: its CPU per
			// request is recorded (the gate's cpu_per_op).
			for _, r := range d.Repetitions {
				if tc := r.Target; tc == nil || tc.PID != os.Getpid() || !(tc.CPUPerOpMs > 0) || tc.Requests != r.Overall.Count {
					t.Errorf("repetition %d target cost %+v, want this process's CPU per request", r.Index, tc)
				}
			}
			if !strings.Contains(stdout.String(), "overall") || !strings.Contains(stdout.String(), "result written to") {
				t.Errorf("summary lacks the table:\n%s", stdout.String())
			}
		})
	}
}

// TestWarmupFlag: --warmup takes a duration, auto or auto:MAX; a bad value
// is refused before anything runs, naming the flag and the forms it takes,
// and auto:MAX runs an adaptive warm-up the result records.
func TestWarmupFlag(t *testing.T) {
	for _, c := range []struct {
		value, want string
	}{
		{"5", "want a Go duration (5s), auto, or auto:MAX (auto:10s)"},
		{"automatic", "want a Go duration (5s), auto, or auto:MAX (auto:10s)"},
		{"auto:", "want a Go duration (5s), auto, or auto:MAX (auto:10s)"},
		{"auto:0s", "must be > 0 (auto:10s), or give 0 for none"},
		{"-2s", "cannot be negative"},
	} {
		var out, errb bytes.Buffer
		code := run([]string{"--scenario", "ci/smoke", "--warmup", c.value, "--quiet"}, &out, &errb)
		if msg := errb.String(); code != exitInput || !strings.Contains(msg, "--warmup") || !strings.Contains(msg, c.want) {
			t.Errorf("--warmup %q: exit %d, message %q; want 3 and %q", c.value, code, msg, c.want)
		}
	}
	var abOut, errb bytes.Buffer
	if code := run([]string{"ab", "--warmup", "auto:soon"}, &abOut, &errb); code != exitInput || !strings.Contains(errb.String(), "--warmup \"auto:soon\": want a Go duration") {
		t.Errorf("ab --warmup auto:soon: exit %d, message %q", code, errb.String())
	}
	if testing.Short() {
		t.Skip("the adaptive run: skipped with -short")
	}
	out := filepath.Join(t.TempDir(), "r.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--scenario", "ci/smoke", "--duration", "1s", "--warmup", "auto:3s", "--nodes", "50", "--output", out}, &stdout, &stderr)
	if code != exitOK && code != exitGenerator {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	d, err := result.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	w := d.Repetitions[0].Warmup
	if !d.Run.Config.WarmupAuto || d.Run.Config.WarmupSeconds != 3 || w == nil || !w.Auto || w.MaxSeconds != 3 || w.Windows == 0 ||
		(w.Ended != result.WarmupSettled && w.Ended != result.WarmupMaximum) || !strings.Contains(stderr.String(), "warm-up 1/1: "+w.Note) {
		t.Errorf("config %+v, warm-up %+v; progress:\n%s", d.Run.Config, w, stderr.String())
	}
}

// TestTargetSubcommand: m18-run target is m18-target's command under
// m18-run's name — its help and refusals, and a server that prints its URL,
// answers, and stops cleanly when its context ends.
func TestTargetSubcommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"target", "--help"}, 0, "m18-run target runs the Engram-compatible reference target"},
		{[]string{"target", "--addr", "0.0.0.0:7432"}, exitInput, "--allow-remote"},
		{[]string{"target", "--slowdwn", "10"}, exitInput, "did you mean --slowdown?"},
	} {
		var out, errb bytes.Buffer
		if code := run(tt.args, &out, &errb); code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
			t.Errorf("%q: exit %d (want %d), output lacks %q:\n%s%s", tt.args, code, tt.code, tt.want, out.String(), errb.String())
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- serveTarget(ctx, []string{"--addr", "127.0.0.1:0"}, pw, io.Discard) }()
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	resp, err := http.Get(strings.TrimSpace(url) + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("health: %s", resp.Status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("stopped: %v, want a clean shutdown", err)
	}
}
