// Package target is the reference target: a real HTTP server that speaks the
// subset of Engram's API the workloads use (remember, recall, search, pattern
// completion, memory spaces, health, Prometheus metrics), so the whole
// toolchain can be run and tested without an Engram build.
//
// It is not a database. Memories live in memory, in per-space shards, each
// shard holding its embeddings in one contiguous []float32 (unit vectors, so
// cosine similarity is a dot product). A space's records (id, content,
// confidence, …) lie in the order they were stored, in chunks of 64 with
// their text in an append-only arena (memLog), as a store's slabs do, so
// that reading memories in storage order walks consecutive cache lines;
// GET /api/v1/memories?id=…&id=… reads many by id in one request. Up to 4096 memories in a space recall
// is exact brute force: O(N·768) multiply-adds, no allocation per vector, a
// partial top-k selection (a bounded min-heap). Beyond that it is approximate,
// as Engram's own index is: every embedding also keeps a 64-value random
// projection (a sketch), recall scans the sketches, O(N·64), and re-ranks the
// best 2k+16 candidates exactly, so the cost still grows linearly with N, as
// a scaling test needs (runners/README.md has BenchmarkRecall's figures).
// Pattern completion makes one exact pass per CA3 iteration. Text queries
// and search scan contents, O(N · content length). A recall never blocks stores for longer than one
// shard's scan.
//
// Its opinion: the target must be a system whose performance can be changed
// on purpose, deterministically. Options carries knobs, all off by default:
// Slowdown (proportional CPU work: a percentage of the handler's time or,
// SlowdownOf "process", of the process's own CPU time per request, spun on
// the thread's CPU clock so that a busy machine does not change it),
// StallEvery/StallFor (periodic whole-server
// pause), FailRate (seeded injected 500s), Capacity (token bucket; excess
// requests queue, never fail) and LeakMBPerMin (memory retained on purpose).
// Stalls pause every route; the other knobs apply to /api/ routes only, so
// health probes and metric scrapes stay truthful. The gate's own tests use
// the knobs to prove that a regression is caught.
//
// Engram's validation and status codes are kept (201 on store, 400 with a JSON
// body naming the field, 404 for an unknown id) and memory spaces resolve as
// Engram resolves them: X-Memory-Space header, then ?space=, then the body's
// memory_space_id, else "default".
package target
