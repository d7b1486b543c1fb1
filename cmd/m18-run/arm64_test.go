package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/engram/m18-gate/internal/testenv"
	"github.com/engram/m18-gate/runners/tasks"
)

// TestArm64UnderQemu cross-compiles m18-run and the reference target for
// arm64, runs task 011 with both under qemu-user, and checks that the
// arm64 run stored the same deterministic dataset and recalled the same
// answers, SIMD path and scalar fallback alike, as this machine. Timings
// under emulation are not compared.
func TestArm64UnderQemu(t *testing.T) {
	qemu := testenv.Tool(t, "qemu-aarch64")
	if runtime.GOARCH == "arm64" {
		t.Skip("this machine is arm64: nothing to emulate")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/engram/m18-gate/cmd/m18-run", "github.com/engram/m18-gate/cmd/m18-target")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("cross-compile for arm64: %v\n%s", err, out)
	}
	section := func(out string) tasks.ArchReport {
		t.Helper()
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Tasks map[string]tasks.ArchReport `json:"tasks"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Tasks["011"]
	}

	// arm64: m18-run and the target both emulated.
	armOut := filepath.Join(dir, "arm64.json")
	cmd := exec.Command(qemu, filepath.Join(dir, "m18-run"), "task", "011", "--budget", "pr", "--quiet", "--duration", "1ms",
		"--target-command", qemu+" "+filepath.Join(dir, "m18-target")+" --addr {addr} --seed {seed} --simd {simd}", "--output", armOut)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("arm64 m18-run task 011 under qemu: %v\n%s", err, stderr.String())
	}
	t.Logf("arm64 run under qemu: %v", time.Since(start).Round(time.Second))
	arm := section(armOut)

	// This machine: the built-in target.
	x86Out := filepath.Join(dir, "native.json")
	var out, errb bytes.Buffer
	if code := run([]string{"task", "011", "--budget", "pr", "--quiet", "--duration", "1ms", "--output", x86Out}, &out, &errb); code != exitOK {
		t.Fatalf("native task 011 exited %d: %s", code, errb.String())
	}
	native := section(x86Out)

	if arm.GOARCH != "arm64" || native.GOARCH != runtime.GOARCH {
		t.Fatalf("goarch %q and %q", arm.GOARCH, native.GOARCH)
	}
	if arm.DatasetDigest == "" || arm.DatasetDigest != native.DatasetDigest {
		t.Errorf("dataset differs: arm64 %s, %s %s", arm.DatasetDigest, runtime.GOARCH, native.DatasetDigest)
	}
	if arm.AnswersDigest == "" || arm.AnswersDigest != native.AnswersDigest || arm.ScalarAnswersDigest != native.AnswersDigest {
		t.Errorf("answers differ: arm64 %s (scalar %s), %s %s", arm.AnswersDigest, arm.ScalarAnswersDigest, runtime.GOARCH, native.AnswersDigest)
	}
	if arm.Mismatches != 0 || arm.Cost == nil {
		t.Errorf("arm64 run: %d mismatches, cost %+v", arm.Mismatches, arm.Cost)
	}
}
