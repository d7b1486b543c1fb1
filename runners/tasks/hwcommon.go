package tasks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/engram/m18-gate/internal/version"
	"github.com/engram/m18-gate/runners/dataset"
	"github.com/engram/m18-gate/runners/instrument"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/result"
	"github.com/engram/m18-gate/runners/scenario"
	"github.com/engram/m18-gate/runners/target"
)

// This file holds what the hardware tasks (010–013) share: a closed-loop
// client for their small, exact workloads, the target started under an
// instrument ({instrument} in --target-command), and what each task needs
// of the runner (HardwareSkips, which m18-probe prints too).

// InstrumentPlaceholder is the --target-command placeholder where a
// hardware task puts the command its instrument wraps the target in
// (numactl with a policy, valgrind's cachegrind, or nothing).
const InstrumentPlaceholder = "{instrument}"

// hwData is the deterministic dataset of the hardware tasks: uniform unit
// embeddings of the seed, the same on every machine.
func hwData(seed uint64, n int) *dataset.Generator {
	return dataset.New(scenario.Data{NumNodes: n, EmbeddingDim: target.Dim, MemorySpaces: 1,
		Distribution: scenario.Distribution{Type: "uniform"}}, seed)
}

// DatasetDigest is the SHA-256 of the first n embeddings of the hardware
// tasks' dataset (their float32 bits, little-endian): equal digests mean
// equal data, whatever the machine.
func DatasetDigest(seed uint64, n int) string {
	g := hwData(seed, n)
	h := sha256.New()
	vec := make([]float32, g.Dim())
	var b [4]byte
	for i := range uint64(n) {
		g.Embedding(i, vec)
		for _, x := range vec {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// hwClient sends the hardware tasks' requests one at a time.
type hwClient struct {
	base   string
	client *http.Client
	data   *dataset.Generator
	vec    []float32
}

// newHWClient is a client of the target at base.
func newHWClient(base string, data *dataset.Generator) *hwClient {
	return &hwClient{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: 2 * time.Minute}, data: data, vec: make([]float32, data.Dim())}
}

func (c *hwClient) close() { c.client.CloseIdleConnections() }

// do sends one request and returns the body of a 2xx answer.
func (c *hwClient) do(ctx context.Context, method, route, space string, body []byte) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+route, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Memory-Space", space)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %.200s", method, route, resp.Status, b)
	}
	return b, nil
}

// store stores dataset memories first…first+n-1 in space, with their ids
// (load.PreloadID) and embeddings.
func (c *hwClient) store(ctx context.Context, space string, first, n int) error {
	var buf []byte
	for i := uint64(first); i < uint64(first+n); i++ {
		c.data.Embedding(i, c.vec)
		buf = load.AppendRemember(buf[:0], c.data, i, load.PreloadID(i), space, c.vec)
		if _, err := c.do(ctx, http.MethodPost, load.RouteRemember, space, buf); err != nil {
			return fmt.Errorf("%w: store %s: %v", load.ErrPreload, load.PreloadID(i), err)
		}
	}
	return nil
}

// storeText stores dataset memories first…first+n-1 in space with their
// ids and content only: the target derives their embeddings (cheap to
// send, for tasks that read memories by id).
func (c *hwClient) storeText(ctx context.Context, space string, first, n int) error {
	var buf []byte
	for i := uint64(first); i < uint64(first+n); i++ {
		buf = append(buf[:0], `{"content":`...)
		buf = strconv.AppendQuote(buf, c.data.Content(i))
		buf = append(buf, `,"id":`...)
		buf = strconv.AppendQuote(buf, load.PreloadID(i))
		buf = append(buf, `,"memory_space_id":`...)
		buf = strconv.AppendQuote(buf, space)
		buf = append(buf, '}')
		if _, err := c.do(ctx, http.MethodPost, load.RouteRemember, space, buf); err != nil {
			return fmt.Errorf("%w: store %s: %v", load.ErrPreload, load.PreloadID(i), err)
		}
	}
	return nil
}

// recallAnswer is what a recall returned: the memories' ids, best first,
// and their scores.
type recallAnswer struct {
	IDs    []string
	Scores []float64
}

// recall recalls the k memories of space most similar to dataset
// embedding i (the stored memory's own embedding: it must come first).
func (c *hwClient) recall(ctx context.Context, space string, i uint64, k int) (recallAnswer, error) {
	c.data.Embedding(i, c.vec)
	v, _ := json.Marshal(c.vec)
	q := "?threshold=0&max_results=" + strconv.Itoa(k) + "&embedding=" + url.QueryEscape(string(v))
	b, err := c.do(ctx, http.MethodGet, load.RouteRecall+q, space, nil)
	if err != nil {
		return recallAnswer{}, err
	}
	var resp struct {
		Memories map[string][]struct {
			ID    string  `json:"id"`
			Score float64 `json:"similarity_score"`
		} `json:"memories"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return recallAnswer{}, fmt.Errorf("recall answer: %v", err)
	}
	var a recallAnswer
	for _, tier := range []string{"vivid", "associated", "reconstructed"} {
		for _, m := range resp.Memories[tier] {
			a.IDs = append(a.IDs, m.ID)
			a.Scores = append(a.Scores, m.Score)
		}
	}
	return a, nil
}

// get fetches memory id of space.
func (c *hwClient) get(ctx context.Context, space, id string) error {
	_, err := c.do(ctx, http.MethodGet, "/api/v1/memories/"+url.PathEscape(id), space, nil)
	return err
}

// getMany fetches memories ids of space in one request (the reference
// target's GET /api/v1/memories?id=…), in that order.
func (c *hwClient) getMany(ctx context.Context, space string, ids []string) error {
	q := make(url.Values, 1)
	q["id"] = ids
	b, err := c.do(ctx, http.MethodGet, "/api/v1/memories?"+q.Encode(), space, nil)
	if err != nil {
		return err
	}
	var resp struct {
		Memories []struct {
			ID string `json:"id"`
		} `json:"memories"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return fmt.Errorf("memories answer: %v", err)
	}
	if len(resp.Memories) != len(ids) {
		return fmt.Errorf("asked for %d memories, got %d", len(ids), len(resp.Memories))
	}
	return nil
}

// instrumentedEnv returns env with a target command that has the
// {instrument} placeholder, so that the task can start the target under an
// instrument: env's own --target-command when it has the placeholder, else
// the reference target's binary (m18-target on PATH or beside this
// program, or else env.ReferenceTarget) with env's hardware knobs. It
// returns a reason instead when the target cannot be started here (an
// --endpoint target, a command without the placeholder, neither).
func instrumentedEnv(env Env) (Env, string) {
	switch {
	case env.TargetCommand != "":
		if !strings.Contains(env.TargetCommand, InstrumentPlaceholder) {
			return env, fmt.Sprintf("--target-command has no %s placeholder: put it in front of the server's command (e.g. '%s engram start --port {port}') so the task can run the server under its instrument", InstrumentPlaceholder, InstrumentPlaceholder)
		}
		return env, ""
	case env.Endpoint != "":
		return env, "an --endpoint target is not started here, so it cannot run under an instrument: give --target-command with " + InstrumentPlaceholder
	}
	ref := env.ReferenceTarget
	if bin := targetBinary(); bin != "" {
		ref = []string{bin}
	}
	if len(ref) == 0 {
		return env, "the reference target must run as its own process here, and m18-target is neither on PATH nor beside this program (go install ./cmd/m18-target, or give --target-command with " + InstrumentPlaceholder + ")"
	}
	cmd := InstrumentPlaceholder + " " + ShellJoin(ref) + " --addr {addr} --seed {seed}"
	if f := target.KnobArgs(env.TargetOptions); len(f) > 0 {
		cmd += " " + ShellJoin(f)
	}
	env.TargetCommand = cmd
	env.TargetOptions = target.Options{}
	return env, ""
}

// targetBinary finds m18-target on PATH or beside this program.
func targetBinary() string {
	if p, err := exec.LookPath("m18-target"); err == nil {
		return p
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "m18-target")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:%+@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellJoin quotes and joins a command line for sh (a target command).
func ShellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// onPath reports whether a tool is on PATH.
func onPath(tool string) bool {
	_, err := exec.LookPath(tool)
	return err == nil
}

// HardwareSkip is a part of a hardware task that a runner cannot measure,
// with the reason and the runner labels that can.
type HardwareSkip struct {
	Task   string `json:"task"`
	Part   string `json:"part"`
	Reason string `json:"reason"`
	// Labels are the runner labels that have what the part needs.
	Labels []string `json:"labels"`
	// Fallback says what the task measures instead, when anything.
	Fallback string `json:"fallback,omitempty"`
}

// HardwareSkips lists the parts of tasks 010–013 that a runner with
// fingerprint f (and these tools on PATH) cannot measure. m18-probe prints
// it; the tasks skip the same parts with the same reasons.
func HardwareSkips(f result.Fingerprint, have func(tool string) bool) []HardwareSkip {
	var out []HardwareSkip
	if f.NUMANodes < 2 {
		out = append(out, HardwareSkip{Task: "010", Part: "NUMA placement and policies",
			Reason: fmt.Sprintf("needs 2 or more NUMA nodes, this runner has %s", countOrUnknownNodes(f.NUMANodes)), Labels: []string{"tier3", "numa-2"}})
	} else if !have("numactl") {
		out = append(out, HardwareSkip{Task: "010", Part: "NUMA policies (numactl)", Reason: "numactl is not on PATH (apt-get install numactl)", Labels: []string{"tier3"}})
	}
	if !f.PerfCounters {
		out = append(out,
			HardwareSkip{Task: "010", Part: "locality from node-load counters", Reason: instrument.NoCounters, Labels: []string{"perf-counters"},
				Fallback: "page placement (numa_maps) against the nodes the threads run on"},
			HardwareSkip{Task: "012", Part: "line bouncing (perf c2c HITM)", Reason: instrument.NoCounters, Labels: []string{"perf-counters"}},
			HardwareSkip{Task: "013", Part: "prefetch coverage from counters", Reason: instrument.NoCounters, Labels: []string{"perf-counters"},
				Fallback: "sequential and random miss rates from valgrind's cache simulation (callgrind), and the share of random order's misses storage order avoids, labelled as a proxy"})
		if !have("valgrind") {
			out = append(out, HardwareSkip{Task: "012", Part: "cache hit rates", Reason: "no hardware counters and no valgrind for cachegrind (apt-get install valgrind)", Labels: []string{"perf-counters"}})
		}
		if !have("valgrind") || !have("callgrind_control") {
			out = append(out, HardwareSkip{Task: "013", Part: "sequential and random miss rates", Reason: "no hardware counters and no valgrind with callgrind_control (apt-get install valgrind)", Labels: []string{"perf-counters"}})
		}
	}
	return out
}

func countOrUnknownNodes(n int) string {
	if n == 0 {
		return "an unknown number"
	}
	return strconv.Itoa(n)
}

// skipsOf returns the reasons of the skips of task id, as Outcome.Skipped
// holds them.
func skipsOf(skips []HardwareSkip, id string) []string {
	var out []string
	for _, s := range skips {
		if s.Task == id {
			r := s.Part + ": " + s.Reason
			if s.Fallback != "" {
				r += "; measured instead: " + s.Fallback
			}
			out = append(out, r)
		}
	}
	return out
}

// skipReason returns the reason part of task id is in skips.
func skipReason(skips []HardwareSkip, id, part string) (string, bool) {
	for _, s := range skips {
		if s.Task == id && s.Part == part {
			return s.Reason, true
		}
	}
	return "", false
}

// hardwareTasks are the catalogue's entries 010–013.
func hardwareTasks() []Task {
	return []Task{
		{ID: "010", Title: "NUMA cross-socket",
			Description: "The target under numactl policies (local, remote, interleave, default): p50/p99 and throughput, remote/local ratio with its interval; " +
				"locality from node-load counters or page placement (numa_maps) against the threads' nodes; thread spread. Skipped with the reason on one node.",
			Run: budgeted(NUMA, NUMABudget)},
		{ID: "011", Title: "CPU architecture and SIMD",
			Description: "The same recalls with the target's SIMD path and its scalar fallback: identical answers and the fallback's cost with its interval; " +
				"dataset and answer digests comparable across architectures (arm64 runs under qemu-user in the tests).",
			Run: budgeted(Arch, ArchBudget)},
		{ID: "012", Title: "Cache-line alignment",
			Description: "Hit rate of a hot set (a few memories recalled over and over) and of a working set larger than the cache, from perf counters or cachegrind; " +
				"line bouncing (HITM share of misses, perf c2c) where the runner has counters.",
			Run: budgeted(CacheLines, CacheLineBudget)},
		{ID: "013", Title: "Prefetching effectiveness",
			Description: "Memories read in the order they were stored and shuffled: miss rates of each; prefetch coverage from prefetch counters, " +
				"or, from valgrind's cache simulation (callgrind, no prefetcher), the share of random order's misses storage order avoids, labelled as a proxy.",
			Run: budgeted(Prefetch, PrefetchBudget)},
	}
}

// hwDocument is the result document of a hardware task that sends no
// open-loop load: run metadata and the task's section.
func hwDocument(env Env, id, title string, start time.Time, section any) *result.Document {
	return &result.Document{
		Schema: result.SchemaVersion,
		Run: result.Run{
			Scenario: "tasks/" + id, ScenarioTitle: title, Seed: env.Seed, RunID: runID(),
			Start: start.UTC(), End: time.Now().UTC(), ToolVersion: version.String(), Labels: env.Labels, Hardware: env.Hardware,
			Config: result.RunConfig{Budget: string(env.Budget)},
		},
		ConfigName: title,
		Tasks:      map[string]any{id: section},
	}
}
