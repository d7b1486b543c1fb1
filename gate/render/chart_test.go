package render

import (
	"strings"
	"testing"

	"github.com/engram/m18-gate/gate/verdict"
)

func TestPathSlug(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ci/fast_regression_check", "ci+fast_regression_check"},
		{"p99.9", "p99.9"},
		{"Store", "Store"},
		{"", "~"},
		{"../x", "~2e.+x"},
		{"a b?c#d", "a~20b~3fc~23d"},
		{"é", "~c3~a9"},
	} {
		if got := PathSlug(tc.in); got != tc.want {
			t.Errorf("PathSlug(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Distinct names, distinct slugs (the '+' and '~' of the encoding
	// themselves are escaped).
	seen := map[string]string{}
	for _, n := range []string{"a/b", "a+b", "a~2fb", "a~b", "a.b", ".ab", "~2eab"} {
		s := PathSlug(n)
		if o, dup := seen[s]; dup {
			t.Errorf("PathSlug(%q) = PathSlug(%q) = %q", n, o, s)
		}
		seen[s] = n
	}
}

func TestChartURL(t *testing.T) {
	c := verdict.Comparison{Scenario: "ci/fast", Operation: "Store", Metric: "p99", Decision: verdict.Regressed}
	for _, tc := range []struct{ base, fp, want string }{
		{"https://engram.github.io/m18", "abc123", "https://engram.github.io/m18/charts/ci+fast/abc123/Store.p99.html"},
		{"https://engram.github.io/m18/", "abc123", "https://engram.github.io/m18/charts/ci+fast/abc123/Store.p99.html"},
		{"javascript:alert(1)", "abc123", ""},
		{"https://engram.github.io/m18/", "abc,def", ""},
		{"https://engram.github.io/m18/", "", ""},
	} {
		if got := ChartURL(tc.base, tc.fp, c); got != tc.want {
			t.Errorf("ChartURL(%q, %q) = %q, want %q", tc.base, tc.fp, got, tc.want)
		}
	}
}

// TestRegressionLinksItsChart: with a dashboard link, every regressed row
// of the comment links to the chart of its metric; other rows link nowhere.
func TestRegressionLinksItsChart(t *testing.T) {
	v := fixtures()["regressions"]
	got := Markdown(v, Options{})
	for _, c := range v.Comparisons {
		url := ChartURL(v.Links.Dashboard, v.Head.Fingerprint, c)
		if url == "" {
			t.Fatalf("no chart URL for %+v (head fingerprint %q)", c, v.Head.Fingerprint)
		}
		if want := "[regressed](" + url + ")"; strings.Contains(got, want) != (c.Decision == verdict.Regressed) {
			t.Errorf("%s %s %s (%s): link %s present = %v", c.Scenario, c.Operation, c.Metric, c.Decision, want, !strings.Contains(got, want))
		}
	}
	v.Links.Dashboard = ""
	if got := Markdown(v, Options{}); strings.Contains(got, "/charts/") {
		t.Errorf("chart links without a dashboard:\n%s", got)
	}
}
