// Command m18-probe prints the hardware fingerprint of this machine, the
// runner labels it implies and which M18 seed tiers it can honestly run.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/hw"
	"github.com/engram/m18-gate/runners/tasks"
	"github.com/sethvargo/go-githubactions"
)

const usage = `m18-probe prints this machine's hardware fingerprint, the runner labels it
implies and which M18 seed tiers (Tier 1/2/3 of the milestone's hardware
configurations) it is eligible for, with the reason for each one it is not,
and which parts of the hardware tasks (010-013) this runner cannot measure.

Usage:
  m18-probe [flags]

Flags:
`

const usageTail = `
Results are compared only between machines with the same fingerprint hash
(CPU model, arch, logical cores, sockets, NUMA nodes, memory in GiB, cgroup
CPU quota, SMT). Fields that cannot be read are left unknown and listed as
warnings; probing never fails because of them.

Exit codes:
  0  printed (also when some fields are unknown), or --version
  3  bad flags, or --github-output outside GitHub Actions

Examples:
  m18-probe
  m18-probe --json | jq -r .fingerprint.hash
  m18-probe --github-output     # in a workflow step: sets outputs
                                # fingerprint, fingerprint_json, labels, tiers
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	// Every failure of m18-probe is a usage or environment error (exit 3).
	return cli.Finish("m18-probe", probe(args, stdout, stderr, getenv), stderr, nil)
}

func probe(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := cli.NewFlagSet("m18-probe", stderr)
	jsonOut := fs.Bool("json", false, "print JSON (fingerprint, labels, tiers, warnings) instead of text")
	ghOut := fs.Bool("github-output", false, "also write fingerprint=, fingerprint_json=, labels=, tiers= to $GITHUB_OUTPUT")
	root := fs.String("root", "/", "directory holding the proc and sys trees to read (another machine's snapshot)")
	noPerf := fs.Bool("no-perf", false, "do not run \"perf stat\" to check hardware counters (perf_counters is then false)")
	perfTimeout := fs.Duration("perf-timeout", hw.DefaultPerfTimeout, "bound on the \"perf stat\" check (a Go `duration` such as 2s)")
	showVersion := cli.VersionFlag(fs)
	fs.Usage = cli.Usage(fs, usage, usageTail)
	if err := cli.ParseFlagsOnly(fs, args, showVersion, stdout); err != nil {
		return err
	}
	if *ghOut && getenv("GITHUB_OUTPUT") == "" {
		return cli.Usagef("--github-output: GITHUB_OUTPUT is not set; run inside a GitHub Actions step or drop the flag")
	}

	ctx, cancel := context.WithTimeout(context.Background(), *perfTimeout+10*time.Second)
	defer cancel()
	r, err := hw.Inspect(ctx, hw.Options{Root: *root, SkipPerf: *noPerf, PerfTimeout: *perfTimeout})
	if err != nil {
		return err
	}
	s := hw.Summarize(r)
	skips := tasks.HardwareSkips(s.Fingerprint, func(tool string) bool { _, err := exec.LookPath(tool); return err == nil })
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(struct {
			hw.Summary
			TaskSkips []tasks.HardwareSkip `json:"task_skips"`
		}{s, skips})
	} else if err = s.WriteText(stdout); err == nil {
		err = writeSkips(stdout, skips)
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if *ghOut {
		if err := setOutputs(s, getenv); err != nil {
			return fmt.Errorf("--github-output: %w", err)
		}
	}
	return nil
}

// writeSkips lists the parts of the hardware tasks this runner cannot
// measure, with the reason, the labels of runners that can, and what is
// measured instead.
func writeSkips(w io.Writer, skips []tasks.HardwareSkip) error {
	var b strings.Builder
	b.WriteString("\nhardware tasks:\n")
	if len(skips) == 0 {
		b.WriteString("  every part of tasks 010-013 can be measured here\n")
	}
	for _, sk := range skips {
		fmt.Fprintf(&b, "  skip %s %s: %s (runs on: %s)\n", sk.Task, sk.Part, sk.Reason, strings.Join(sk.Labels, ", "))
		if sk.Fallback != "" {
			fmt.Fprintf(&b, "       instead: %s\n", sk.Fallback)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// setOutputs writes the step outputs; go-githubactions panics when the file
// cannot be written, which becomes an error here.
func setOutputs(s hw.Summary, getenv func(string) string) (err error) {
	outs, err := s.Outputs()
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("writing %s: %v", getenv("GITHUB_OUTPUT"), r)
		}
	}()
	a := githubactions.New(githubactions.WithGetenv(githubactions.GetenvFunc(getenv)))
	for _, o := range outs {
		a.SetOutput(o.Name, o.Value)
	}
	return nil
}
