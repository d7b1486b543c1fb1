package main

import (
	"context"
	"io"
	"time"

	"github.com/engram/m18-gate/gate"
	"github.com/engram/m18-gate/gate/interleave"
	"github.com/engram/m18-gate/internal/cli"
)

// bench runs a benchmark command for base and head interleaved and gates
// the result as compare --paired does.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("bench", stderr)
	baseCmd := fs.String("base-cmd", "", "base benchmark `COMMAND`, run with bash -c (required), e.g. 'go test -run NONE -bench . -count 1 ./...'")
	headCmd := fs.String("head-cmd", "", "head benchmark `COMMAND` (default: the base command, run in --head-dir)")
	baseDir := fs.String("base-dir", "", "working `DIR` of the base command (default: the current directory)")
	headDir := fs.String("head-dir", "", "working `DIR` of the head command (default: the current directory)")
	count := fs.Int("count", gate.DefaultRepetitions, "runs per side, interleaved A B B A ...; each run is one sample per benchmark")
	resultFile := fs.String("result-file", "", "`FILE` each run writes its result to (relative to its directory), e.g. hyperfine's --export-json\n"+
		"file (default: the command's standard output is the result)")
	out := fs.String("out", "m18-bench", "`DIR` that keeps every run's result (base-001.txt, head-001.txt, ...)")
	timeout := fs.Duration("run-timeout", 30*time.Minute, "bound on one run")
	pf := addPolicyFlags(fs)
	fs.Usage = usageFor(fs, "m18-gate bench --base-cmd CMD [--head-cmd CMD] [--base-dir D --head-dir D] [--count N] [flags]",
		"Runs a benchmark command on base and head interleaved on this machine, one run at a time\n"+
			"(base, head, head, base, ...), reads each run's result (go test -bench output,\n"+
			"hyperfine --export-json, criterion sample.json, m18.samples/v1 JSON) and decides as\n"+
			"compare --paired: the i-th base run is paired with the i-th head run, which cancels\n"+
			"the machine's drift. Run each command with a count of one (go test -count 1): the\n"+
			"repetitions are --count. Each run's result is kept in --out.\n", compareCodes)
	rest, err := parse(fs, args, new(*files))
	if err != nil {
		return cli.FlagError(err)
	}
	if len(rest) > 0 {
		return cli.Usagef("unexpected argument %q (quote the commands: --base-cmd 'go test -bench .')", rest[0])
	}
	if *baseCmd == "" {
		return cli.Usagef("bench needs --base-cmd COMMAND (and --head-cmd, or --base-dir and --head-dir)")
	}
	if *headCmd == "" {
		if *baseDir == *headDir {
			return cli.Usagef("bench without --head-cmd runs the base command in --head-dir; give --head-cmd or different --base-dir and --head-dir")
		}
		*headCmd = *baseCmd
	}
	if *count < 1 {
		return cli.Usagef("--count is %d, want at least 1 (%d recommended)", *count, gate.DefaultRepetitions)
	}
	p, err := pf.policy()
	if err != nil {
		return err
	}
	p.Paired = true
	base, head, _, err := interleave.Do(ctx, interleave.Options{
		Base:  interleave.Command{Shell: *baseCmd, Dir: *baseDir},
		Head:  interleave.Command{Shell: *headCmd, Dir: *headDir},
		Count: *count, ResultFile: *resultFile, Out: *out, Timeout: *timeout, Log: stderr,
	})
	if err != nil {
		return err
	}
	v, err := gate.Compare(base, head, p)
	if err != nil {
		return err
	}
	return pf.finish(v, stdout)
}
