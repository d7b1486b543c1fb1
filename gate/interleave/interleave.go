// Package interleave runs a benchmark command for a base and a head on one
// machine, one run at a time in the order A B B A A B …, and reads what each
// run produced into the samples of package input.
//
// Its opinion: the drift of a shared machine (other jobs, thermal state,
// frequency) is slower than one run, so interleaving puts each base run next
// to a head run that saw the same machine, and a paired comparison of the
// i-th base run with the i-th head run cancels that drift. Running all base
// runs and then all head runs does not: the same binary run twice in a row
// can differ by 20 %.
package interleave

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/engram/m18-gate/gate/input"
	"github.com/engram/m18-gate/internal/atomicfile"
)

// Command is one side's benchmark command.
type Command struct {
	// Shell is the command line, run with bash -c.
	Shell string
	// Dir is the working directory ("" is the current one).
	Dir string
	// Env is added to the environment (KEY=VALUE).
	Env []string
}

// Options says what to run and where to keep it.
type Options struct {
	Base, Head Command
	// Count is the number of runs per side (pairs).
	Count int
	// ResultFile, when set, is the file each run writes its result to
	// (relative to the side's Dir), e.g. hyperfine's --export-json file;
	// by default the run's standard output is the result.
	ResultFile string
	// Out is the directory the runs' results are copied to, one file per
	// run: base-001.txt, head-001.txt, … (required).
	Out string
	// Timeout bounds one run (0: none).
	Timeout time.Duration
	// Log receives each command's standard error and a line per run; nil
	// discards them.
	Log io.Writer
}

// Run is one run of one side.
type Run struct {
	Side       string // "base" or "head"
	Index      int    // 1-based, per side
	Start, End time.Time
	// Path is where its result was stored.
	Path string
}

// Order returns the sides of 2·count runs interleaved A B B A A B …: pair i
// runs base first when i is even and head first when it is odd, so neither
// side is always first.
func Order(count int) []string {
	out := make([]string, 0, 2*count)
	for i := range count {
		if i%2 == 0 {
			out = append(out, "base", "head")
		} else {
			out = append(out, "head", "base")
		}
	}
	return out
}

// Do runs the commands interleaved and returns what each side measured, every
// value stamped with the start of the run it came from (so a paired
// comparison pairs the i-th base run with the i-th head run), and the runs.
// A failing run stops everything: its error names the side, the run and the
// exit status.
func Do(ctx context.Context, o Options) (base, head *input.Set, runs []Run, err error) {
	if o.Count < 1 {
		return nil, nil, nil, fmt.Errorf("count is %d, want at least 1 run per side", o.Count)
	}
	if o.Base.Shell == "" || o.Head.Shell == "" {
		return nil, nil, nil, errors.New("both a base and a head command are needed")
	}
	if o.Out == "" {
		return nil, nil, nil, errors.New("no output directory for the runs' results")
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, nil, nil, err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	sets := map[string]*input.Set{"base": input.NewSet(), "head": input.NewSet()}
	n := map[string]int{}
	order := Order(o.Count)
	for i, side := range order {
		cmd := o.Base
		if side == "head" {
			cmd = o.Head
		}
		n[side]++
		r := Run{Side: side, Index: n[side]}
		fmt.Fprintf(log, "run %d/%d: %s %d/%d\n", i+1, len(order), side, r.Index, o.Count)
		data, start, end, err := runOnce(ctx, cmd, o, log)
		if err != nil {
			return nil, nil, runs, fmt.Errorf("%s run %d: %w", side, r.Index, err)
		}
		r.Start, r.End = start, end
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			r.Path = filepath.Join(o.Out, fmt.Sprintf("%s-%03d.json", side, r.Index))
		} else {
			// go test -bench output: say when the run started in a
			// configuration line, so the stored file pairs on its own.
			r.Path = filepath.Join(o.Out, fmt.Sprintf("%s-%03d.txt", side, r.Index))
			data = append([]byte(fmt.Sprintf("%s: %s\n", input.StartConfigKey, start.UTC().Format(time.RFC3339Nano))), data...)
		}
		if err := atomicfile.Write(r.Path, data, 0o644); err != nil {
			return nil, nil, runs, err
		}
		s, err := input.Read(r.Path, data)
		if err != nil {
			return nil, nil, runs, fmt.Errorf("%s run %d produced no readable result: %w", side, r.Index, err)
		}
		s.StampStarts(start)
		sets[side].Merge(s)
		runs = append(runs, r)
	}
	return sets["base"], sets["head"], runs, nil
}

// runOnce runs cmd once and returns its result: the result file when
// o.ResultFile is set (removed before the run, so a stale one is never
// read), else its standard output.
func runOnce(ctx context.Context, c Command, o Options, log io.Writer) (data []byte, start, end time.Time, err error) {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	var resultPath string
	if o.ResultFile != "" {
		resultPath = o.ResultFile
		if !filepath.IsAbs(resultPath) {
			resultPath = filepath.Join(c.Dir, resultPath)
		}
		if err := os.Remove(resultPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, start, end, err
		}
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", c.Shell)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), c.Env...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, log
	cmd.WaitDelay = 5 * time.Second
	start = time.Now()
	err = cmd.Run()
	end = time.Now()
	if err != nil {
		if ctx.Err() != nil {
			return nil, start, end, fmt.Errorf("%q: %w", c.Shell, ctx.Err())
		}
		return nil, start, end, fmt.Errorf("%q: %w", c.Shell, err)
	}
	if resultPath == "" {
		return stdout.Bytes(), start, end, nil
	}
	data, err = os.ReadFile(resultPath)
	if err != nil {
		return nil, start, end, fmt.Errorf("%q did not write its result file: %w", c.Shell, err)
	}
	return data, start, end, nil
}
