package main

import (
	"bytes"
	"context"
	"io"

	"github.com/engram/m18-gate/history"
	"github.com/engram/m18-gate/history/openmetrics"
	"github.com/engram/m18-gate/internal/atomicfile"
	"github.com/engram/m18-gate/internal/cli"
	"github.com/engram/m18-gate/runners/result"
)

// export writes stored runs as OpenMetrics for a Prometheus backfill.
func export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var rf remoteFlags
	fs := newFlags("export", "export --repo R --openmetrics [--scenario S] [--fingerprint F] [--out FILE]", stderr, &rf)
	var scenario, fp, out string
	var om bool
	fs.StringVar(&scenario, "scenario", "", "only this scenario")
	fs.StringVar(&fp, "fingerprint", "", "only this hardware fingerprint hash")
	fs.BoolVar(&om, "openmetrics", false, "write OpenMetrics text with a timestamp per sample, for `promtool tsdb create-blocks-from openmetrics FILE DIR` (the only format)")
	fs.StringVar(&out, "out", "", "write to `FILE` (default: standard output)")
	if err := parse(fs, args, &rf); err != nil {
		return err
	}
	if !om {
		return cli.Usagef("export needs --openmetrics (the one format it writes)")
	}
	snap, err := rf.remote(stderr).Open(ctx)
	if err != nil {
		return err
	}
	entries, warns := snap.List(history.Filter{Scenario: scenario, Fingerprint: fp})
	stored, lw := snap.LoadAll(entries)
	warn(stderr, append(warns, lw...))
	docs := make([]*result.Document, 0, len(stored))
	for _, s := range stored {
		docs = append(docs, s.Doc)
	}
	var b bytes.Buffer
	if err := openmetrics.Write(&b, docs); err != nil {
		return err
	}
	if out == "" {
		_, err := stdout.Write(b.Bytes())
		return err
	}
	return atomicfile.Write(out, b.Bytes(), 0o644)
}
