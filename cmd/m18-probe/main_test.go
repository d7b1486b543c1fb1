package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram/m18-gate/runners/hw"
)

// tree is a fake /proc and /sys of a cgroup-limited container, shared with
// runners/hw's tests.
var tree = filepath.Join("..", "..", "runners", "hw", "testdata", "container")

func TestRun(t *testing.T) {
	want, err := hw.Probe(context.Background(), hw.Options{Root: tree})
	if err != nil {
		t.Fatal(err)
	}
	ghFile := filepath.Join(t.TempDir(), "github_output")
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	none := env(nil)
	tests := []struct {
		name   string
		args   []string
		getenv func(string) string
		code   int
		stdout []string // substrings
		stderr []string
	}{
		{"text", []string{"--root", tree, "--no-perf"}, none, 0,
			[]string{"Xeon(R) Platinum 8370C", "hash              " + want.Hash, "labels: linux,x64,cores-2", "Tier 1 needs 8 cores, this machine has 1.5",
				"hardware tasks:", "skip 010 NUMA placement and policies: needs 2 or more NUMA nodes, this runner has 1 (runs on: tier3, numa-2)",
				"skip 012 line bouncing (perf c2c HITM): not measured: no hardware counters on this runner (runs on: perf-counters)"}, nil},
		{"json", []string{"--root", tree, "--no-perf", "--json"}, none, 0, []string{`"hash": "` + want.Hash + `"`, `"task_skips": [`, `"task": "013"`}, nil},
		{"help", []string{"--help"}, none, 0, nil, []string{"Usage:", "--github-output", "Exit codes:", "Examples:"}},
		{"bad flag", []string{"--nope"}, none, 3, nil, []string{"flag provided but not defined: -nope"}},
		{"version", []string{"--version"}, none, 0, []string{"m18-probe "}, nil},
		{"bad duration", []string{"--perf-timeout", "5"}, none, 3, nil, []string{"invalid value"}},
		{"argument", []string{"extra"}, none, 3, nil, []string{`unexpected argument "extra"`}},
		{"github output without env", []string{"--github-output", "--no-perf"}, none, 3, nil, []string{"GITHUB_OUTPUT is not set"}},
		{"github output", []string{"--root", tree, "--no-perf", "--github-output"}, env(map[string]string{"GITHUB_OUTPUT": ghFile}), 0, nil, nil},
		{"github output unwritable", []string{"--root", tree, "--no-perf", "--github-output"},
			env(map[string]string{"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "missing", "dir", "out")}), 3, nil, []string{"--github-output: writing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr, tt.getenv); code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, &stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, &stderr)
				}
			}
		})
	}

	b, err := os.ReadFile(ghFile)
	if err != nil {
		t.Fatal(err)
	}
	out := parseGitHubOutput(t, string(b))
	if out["fingerprint"] != want.Hash || out["tiers"] != "" || !strings.HasPrefix(out["labels"], "linux,x64,cores-2,cgroup-cpus-1.5,") {
		t.Errorf("GITHUB_OUTPUT = %q", out)
	}
	var f map[string]any
	if err := json.Unmarshal([]byte(out["fingerprint_json"]), &f); err != nil || f["cgroup_cpu_quota"] != 1.5 {
		t.Errorf("fingerprint_json %q: %v", out["fingerprint_json"], err)
	}
}

// parseGitHubOutput reads the file-command format "name<<DELIM\nvalue\nDELIM".
func parseGitHubOutput(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	if len(out) != 4 {
		t.Fatalf("GITHUB_OUTPUT holds %d outputs, want 4:\n%s", len(out), s)
	}
	return out
}
