package render

import (
	"strings"

	"github.com/engram/m18-gate/gate/verdict"
)

// ChartPath is the path, relative to the dashboard's root, of the page that
// charts one metric of one operation of a scenario on one hardware
// fingerprint. The dashboard writes its pages there and the reports link
// there, so the path is part of the dashboard's contract: it only changes
// with a new major version. Every part passes through PathSlug.
func ChartPath(scenario, fingerprint, operation, metric string) string {
	return "charts/" + PathSlug(scenario) + "/" + PathSlug(fingerprint) + "/" +
		PathSlug(operation) + "." + PathSlug(metric) + ".html"
}

// ChartURL joins a dashboard's base URL and the chart of c on the head's
// hardware. It is "" when base is not a safe http(s) URL or the head side
// ran on more than one fingerprint (there is no single chart then).
func ChartURL(base string, fingerprint string, c verdict.Comparison) string {
	if SafeURL(base) == "" || fingerprint == "" || strings.Contains(fingerprint, ",") {
		return ""
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return SafeURL(base + ChartPath(c.Scenario, fingerprint, c.Operation, c.Metric))
}

// PathSlug turns a name into one URL path segment that needs no escaping:
// ASCII letters, digits, '_' and '-' are kept, '/' becomes '+', '.' is kept
// except in first place, and every other byte becomes '~' and two hex
// digits. Distinct names give distinct slugs.
func PathSlug(name string) string {
	if name == "" {
		return "~"
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.' && i > 0:
			b.WriteByte(c)
		case c == '/':
			b.WriteByte('+')
		default:
			b.WriteByte('~')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
