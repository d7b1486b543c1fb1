// Package history keeps every m18.result/v1 document on a git branch and
// answers the questions the gate asks of it: what is the baseline for this
// merge base on this hardware, and how has this metric moved over time.
//
// It is opinionated: the branch holds one plain JSON file per run, in paths
// that sort by scenario, hardware fingerprint and time, and no file that
// every writer must modify, so concurrent writers (a matrix of runners) only
// ever race on the branch tip, and a lost race is retried on top of the new
// tip instead of losing a result. History is only appended to, in new
// commits: prune and compact remove files in a commit of their own and never
// rewrite what other writers may have fetched. Results are never compared
// across hardware fingerprints; when none matches, selection says so
// (ErrNoBaseline) rather than passing silently.
//
// Everything goes through go-git (github.com/go-git/go-git/v5) on an
// in-memory clone of the branch tip; nothing is checked out to disk.
package history
