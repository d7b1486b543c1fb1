// Package dashboard builds the static performance dashboard from result
// documents: for every scenario × hardware fingerprint × operation × metric a
// trend chart with each run's interval, its change points, accepted
// regressions and the commit of every point; task criteria over time;
// competitor positioning; and, for the newest regression, the page a person
// needs to find its cause — last good and first bad commits, the commits
// between them, what moved with it, and the target's CPU and memory either
// side.
//
// It is opinionated: charts are SVG files drawn by gonum.org/v1/plot and the
// pages are plain HTML with no script and nothing fetched from elsewhere, so
// the site works offline, from a file system, an artifact or GitHub Pages;
// and every chart lives at a stable path (render.ChartPath), so a report can
// link a regressed comparison straight to its chart. Results are never mixed
// across hardware fingerprints. It reads documents, not the history branch:
// the caller (m18-dash) loads them, so gate and history stay apart.
package dashboard
