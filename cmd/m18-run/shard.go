package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/result/merge"
)

// shardFlags defines --shard and --start-at; apply sets them on a Config.
func shardFlags(fs *flag.FlagSet) (apply func(*load.Config) error) {
	shard := fs.String("shard", "", "send shard `I/N` of the schedule (0 ≤ I < N): one of N generators, each its slice of one seeded schedule; needs --start-at; merge the documents with m18-run merge")
	startAt := fs.String("start-at", "", "start the first phase at `TIME` (RFC 3339, e.g. 2026-12-06T08:00:00Z), the same on every shard; later phases start at times planned from it")
	return func(c *load.Config) error {
		if *shard != "" {
			s, err := load.ParseShard(*shard)
			if err != nil {
				return fmt.Errorf("--shard: %v", err)
			}
			c.Shard = s
		}
		if *startAt != "" {
			t, err := time.Parse(time.RFC3339Nano, *startAt)
			if err != nil {
				return fmt.Errorf("--start-at %q: want RFC 3339, e.g. %s (date -u -d '+2 min' +%%Y-%%m-%%dT%%H:%%M:%%SZ)", *startAt, time.Now().UTC().Add(2*time.Minute).Truncate(time.Second).Format(time.RFC3339))
			}
			c.StartAt = t
		}
		if c.Shard.Count > 1 && c.StartAt.IsZero() {
			return fmt.Errorf("--shard %v needs --start-at: the shards must share a start time for their phases to line up", c.Shard)
		}
		return nil
	}
}

const mergeUsage = `m18-run merge combines the m18.result/v1 documents of the shards of one run
(m18-run --shard I/N --start-at TIME, same scenario, seed and flags) into one
document: HDR histograms merged (percentiles read from the merge, never
averaged), counts and rates summed, windows merged on the shared timeline,
every shard's generator figures kept in run.sharding.

Usage:
  m18-run merge [--output FILE] SHARD.json...

Flags:
`

const mergeUsageTail = `
Exit codes:
  0    every shard is there, on time, and kept its schedule
  3    a shard is missing, given twice, interrupted, or started late (it skipped
       sends): the merge is a partial load, written to OUTPUT.partial; or the
       documents are not shards of one run (nothing written)
  4    every shard is there, but a shard's generator was the bottleneck: the
       merge is written to OUTPUT and describes the generators, not the target
`

func mergeCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("m18-run merge", stderr)
	output := fs.String("output", "merged.json", "merged result document `FILE`")
	fs.Usage = cli.Usage(fs, mergeUsage, mergeUsageTail)
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return cli.Usagef("give the shards' result documents, e.g. m18-run merge shard-*.json")
	}
	var docs []*result.Document
	for _, name := range fs.Args() {
		d, err := result.ReadFile(name)
		if err != nil {
			return err
		}
		docs = append(docs, d)
	}
	doc, err := merge.Shards(fs.Args(), docs)
	if doc == nil {
		return err
	}
	path := *output
	if errors.Is(err, merge.ErrIncomplete) {
		path += ".partial"
		err = fmt.Errorf("%w (partial result, not a valid sample)", err)
	}
	if werr := result.WriteFile(path, doc); werr != nil {
		return fmt.Errorf("write %s: %w", path, werr)
	}
	if werr := load.WriteSummary(stdout, doc); werr != nil {
		return werr
	}
	fmt.Fprintf(stdout, "\n%d shards merged into %s\n", len(doc.Run.Sharding.Shards), path)
	return err
}
