// Package report publishes an m18-gate verdict where people look: one check
// run per gate (in progress → completed, with annotations 50 per request),
// one sticky pull-request comment per (workflow, job, key), the job summary,
// step outputs and ::error/::warning annotations, and a Slack alert.
//
// Its opinions: reporting never changes the verdict — a failure to publish
// (a fork's read-only token, a missing permission, a rate limit that would
// take too long) becomes a Problem that says which permission is missing,
// and the job summary is written regardless. A comment is ours only if it
// holds our hidden marker AND our author, because anyone can paste the
// marker. Waiting for GitHub is bounded: Retry-After and X-RateLimit-Reset
// are honoured, 5xx retried with backoff, within a RetryPolicy. Every name
// from the user's repository reaches Markdown through render.Escape; tokens
// and the webhook URL are masked and never printed.
package report
