// Package config reads a repository's gate policy, .github/m18-gate.toml:
// defaults, the scenarios of each tier, and overrides per metric, scenario
// and operation. Errors name the file, the line and the key, and suggest the
// known key a typo was meant to be.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/engram/m18-gate/internal/tomlcheck"
)

// DefaultPath is where a repository keeps its gate policy.
const DefaultPath = ".github/m18-gate.toml"

// MaxSize is the largest policy file Load reads, 1 MiB: a policy is a few
// hundred lines, so a larger file is the wrong file.
const MaxSize = 1 << 20

// Config is a repository's gate policy, read from its .github/m18-gate.toml:
// defaults, scenarios per tier, and overrides per scenario, metric and
// operation. See README.md for the format.
type Config struct {
	// Path is the file the config was read from, as given.
	Path string
	// Defaults are the [defaults] table; nil fields were not set.
	Defaults Defaults
	// Tiers maps a tier name ("pr", "nightly") to its scenarios.
	Tiers map[string][]string
	// Metrics are the [metric.<name>] tables: overrides for a metric in
	// every scenario.
	Metrics map[string]*Override
	// Scenarios are the [scenario.<name>] tables.
	Scenarios map[string]*ScenarioOverride
	// Targets are the [target.<name>] tables: competitors m18-run runs
	// scenarios against.
	Targets map[string]*Target
	// Milestones are the [milestone."<scenario>"] tables: competitive
	// targets Engram's runs must meet.
	Milestones map[string]*Milestone
}

// Defaults is the [defaults] table.
type Defaults struct {
	Alpha                *float64
	Threshold            *float64
	CompetitiveThreshold *float64
	ErrorRatePoints      *float64
	// Repetitions is how many runs per side the workflow should make (0 if
	// unset); m18-run reads it, the gate only reports it.
	Repetitions int
}

// Override is one table of overrides. Unset fields inherit from the enclosing
// scope: operation < metric < scenario < [metric.<name>] < defaults.
type Override struct {
	// Line is the line of the table's header, for annotations.
	Line int
	// Threshold and CompetitiveThreshold are relative (0.05 is 5 %),
	// except for the error_rate metric, where Threshold is absolute
	// points as a fraction.
	Threshold            *float64
	CompetitiveThreshold *float64
	// HigherIsBetter overrides the metric's direction.
	HigherIsBetter *bool
	// Ignore, when not empty, skips the comparisons in scope with this
	// reason.
	Ignore string
	// Owners are mentioned with the comparisons in scope.
	Owners []string
	// Competitive marks the comparisons in scope as competitive.
	Competitive *bool
}

// ScenarioOverride is a [scenario.<name>] table and its metric tables.
type ScenarioOverride struct {
	Override
	Metrics map[string]*MetricOverride
}

// MetricOverride is a [scenario.<name>.metric.<metric>] table and its
// operation tables.
type MetricOverride struct {
	Override
	Operations map[string]*Override
}

// Load reads and validates the config at path. Errors name the line
// and the field: `.github/m18-gate.toml:7: [scenario."ci/fast"] unknown key
// "treshold" (did you mean "threshold"?)`.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxSize {
		size := "more than 1 MiB"
		if fi, err := f.Stat(); err == nil {
			size = fmt.Sprintf("%d bytes", fi.Size())
		}
		return nil, fmt.Errorf("%s: the file is %s, over the %d-byte (1 MiB) limit of a policy file: is it the right file?", path, size, MaxSize)
	}
	return Parse(path, data)
}

// Parse parses config data; path is used in errors and Sources.
func Parse(path string, data []byte) (*Config, error) {
	var raw map[string]any
	_, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p := &configParser{path: path, lines: tomlcheck.Lines(string(data))}
	c := &Config{Path: path, Tiers: map[string][]string{}, Metrics: map[string]*Override{}, Scenarios: map[string]*ScenarioOverride{},
		Targets: map[string]*Target{}, Milestones: map[string]*Milestone{}}
	sections := map[string]func(key []string, v any, c *Config) error{
		"defaults": p.defaults, "tiers": p.tiers, "metric": p.metrics, "scenario": p.scenarios,
		"target": p.targets, "milestone": p.milestones,
	}
	for _, k := range sortedByLine(p, nil, raw) {
		section, ok := sections[k]
		if !ok {
			return nil, p.unknown(nil, k, []string{"defaults", "tiers", "metric", "scenario", "target", "milestone"})
		}
		if err := section([]string{k}, raw[k], c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Tier returns the scenarios of the named tier, and whether it exists.
func (c *Config) Tier(name string) ([]string, bool) {
	if c == nil {
		return nil, false
	}
	s, ok := c.Tiers[name]
	return s, ok
}

// Scope is one table of the config that applies to a comparison.
type Scope struct {
	*Override
	// Scenario is true for a [scenario.<name>] table itself: its threshold
	// is relative and does not reach metrics judged in absolute points.
	Scenario bool
}

// Scopes returns the tables that apply to a comparison of metric for
// operation in scenario, least specific first: [metric.<metric>],
// [scenario.<scenario>], its metric table, that table's operation table.
func (c *Config) Scopes(scenario, operation, metric string) []Scope {
	if c == nil {
		return nil
	}
	var scopes []Scope
	if o := c.Metrics[metric]; o != nil {
		scopes = append(scopes, Scope{Override: o})
	}
	if so := c.Scenarios[scenario]; so != nil {
		scopes = append(scopes, Scope{Override: &so.Override, Scenario: true})
		if mo := so.Metrics[metric]; mo != nil {
			scopes = append(scopes, Scope{Override: &mo.Override})
			if oo := mo.Operations[operation]; oo != nil {
				scopes = append(scopes, Scope{Override: oo})
			}
		}
	}
	return scopes
}

// configParser validates the decoded TOML with line numbers at hand.
type configParser struct {
	path  string
	lines map[string]int
}

func (p *configParser) line(key []string) int {
	for n := len(key); n > 0; n-- {
		if l, ok := p.lines[toml.Key(key[:n]).String()]; ok {
			return l
		}
	}
	return 0
}

// errorf formats an error at key: "path:line: [table] message".
func (p *configParser) errorf(key []string, format string, args ...any) error {
	loc := p.path
	if l := p.line(key); l > 0 {
		loc = fmt.Sprintf("%s:%d", p.path, l)
	}
	table := ""
	if len(key) > 1 {
		table = "[" + toml.Key(key[:len(key)-1]).String() + "] "
	}
	return fmt.Errorf("%s: %s%s", loc, table, fmt.Sprintf(format, args...))
}

func (p *configParser) unknown(table []string, k string, known []string) error {
	msg := fmt.Sprintf("unknown key %q", k)
	if s := tomlcheck.Suggest(k, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else {
		msg += fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
	}
	return p.errorf(append(append([]string(nil), table...), k), "%s", msg)
}

func (p *configParser) table(key []string, v any) (map[string]any, error) {
	t, ok := v.(map[string]any)
	if !ok {
		return nil, p.errorf(key, "%s must be a table, got %s", key[len(key)-1], tomlType(v))
	}
	return t, nil
}

// fields calls f with each entry of t, the table at key, in the order of
// the file (so that the first error reported is the first in the file):
// the entry's name, its key and its value. It stops at f's first error.
func (p *configParser) fields(key []string, t map[string]any, f func(name string, key []string, v any) error) error {
	for _, name := range sortedByLine(p, key, t) {
		if err := f(name, append(slices.Clone(key), name), t[name]); err != nil {
			return err
		}
	}
	return nil
}

// tables is fields for v, the table at key, whose every entry is a table:
// [metric.<name>], [target.<name>] and the like.
func (p *configParser) tables(key []string, v any, f func(name string, key []string, t map[string]any) error) error {
	t, err := p.table(key, v)
	if err != nil {
		return err
	}
	return p.fields(key, t, func(name string, k []string, v any) error {
		tt, err := p.table(k, v)
		if err != nil {
			return err
		}
		return f(name, k, tt)
	})
}

// tiers reads [tiers]: each tier's list of scenarios.
func (p *configParser) tiers(key []string, v any, c *Config) error {
	t, err := p.table(key, v)
	if err != nil {
		return err
	}
	return p.fields(key, t, func(tier string, k []string, v any) (err error) {
		c.Tiers[tier], err = p.stringList(k, v)
		return err
	})
}

// metrics reads the [metric.<name>] overrides.
func (p *configParser) metrics(key []string, v any, c *Config) error {
	return p.tables(key, v, func(m string, mk []string, mt map[string]any) error {
		o := &Override{Line: p.line(mk)}
		if err := p.override(mk, mt, o, nil); err != nil {
			return err
		}
		c.Metrics[m] = o
		return nil
	})
}

// scenarios reads the [scenario.<name>] overrides.
func (p *configParser) scenarios(key []string, v any, c *Config) error {
	return p.tables(key, v, func(s string, sk []string, st map[string]any) (err error) {
		c.Scenarios[s], err = p.scenario(sk, st)
		return err
	})
}

// defaults reads [defaults].
func (p *configParser) defaults(key []string, v any, c *Config) error {
	t, err := p.table(key, v)
	if err != nil {
		return err
	}
	d := &c.Defaults
	known := []string{"alpha", "threshold", "competitive_threshold", "error_rate_points", "repetitions"}
	percents := map[string]**float64{"threshold": &d.Threshold, "competitive_threshold": &d.CompetitiveThreshold, "error_rate_points": &d.ErrorRatePoints}
	return p.fields(key, t, func(k string, fk []string, v any) error {
		switch k {
		case "alpha":
			f, ok := tomlcheck.Number(v)
			if !ok || !(f > 0 && f < 1) {
				return p.errorf(fk, "alpha must be a number in (0, 1), got %s", show(v))
			}
			d.Alpha = &f
		case "repetitions":
			n, ok := v.(int64)
			if !ok || n < 1 || n > 10000 {
				return p.errorf(fk, "repetitions must be an integer in [1, 10000], got %s", show(v))
			}
			d.Repetitions = int(n)
		default:
			return p.percentField(key, fk, k, v, percents, known)
		}
		return nil
	})
}

// percentField reads the percentage v of key k into its field in percents;
// a k not there is unknown among known.
func (p *configParser) percentField(key, fk []string, k string, v any, percents map[string]**float64, known []string) error {
	dst, ok := percents[k]
	if !ok {
		return p.unknown(key, k, known)
	}
	f, err := p.percent(fk, v)
	if err != nil {
		return err
	}
	*dst = &f
	return nil
}

var overrideKeys = []string{"threshold", "competitive_threshold", "direction", "ignore", "owners", "competitive"}

// override reads the keys of an override table into o. nested names the key
// of the nested tables allowed ("metric", "operation"), handled by the
// caller; nested keys are returned to it.
func (p *configParser) override(key []string, t map[string]any, o *Override, nested []string) error {
	known := append(append([]string(nil), overrideKeys...), nested...)
	percents := map[string]**float64{"threshold": &o.Threshold, "competitive_threshold": &o.CompetitiveThreshold}
	return p.fields(key, t, func(k string, fk []string, v any) error {
		switch k {
		case "direction":
			s, _ := v.(string)
			var hib bool
			switch s {
			case "lower_is_better", "lower":
			case "higher_is_better", "higher":
				hib = true
			default:
				return p.errorf(fk, "direction must be \"lower_is_better\" or \"higher_is_better\", got %s", show(v))
			}
			o.HigherIsBetter = &hib
		case "ignore":
			s, ok := v.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return p.errorf(fk, "ignore takes the reason, as a non-empty string (ignore = \"p99 too noisy on shared runners, see #123\"), got %s", show(v))
			}
			o.Ignore = strings.TrimSpace(s)
		case "owners":
			list, err := p.stringList(fk, v)
			if err != nil {
				return err
			}
			o.Owners = list
		case "competitive":
			b, ok := v.(bool)
			if !ok {
				return p.errorf(fk, "competitive must be true or false, got %s", show(v))
			}
			o.Competitive = &b
		default:
			if !slices.Contains(nested, k) {
				return p.percentField(key, fk, k, v, percents, known)
			}
		}
		return nil
	})
}

func (p *configParser) scenario(key []string, t map[string]any) (*ScenarioOverride, error) {
	so := &ScenarioOverride{Override: Override{Line: p.line(key)}, Metrics: map[string]*MetricOverride{}}
	if err := p.override(key, t, &so.Override, []string{"metric"}); err != nil {
		return nil, err
	}
	if so.HigherIsBetter != nil {
		return nil, p.errorf(append(append([]string(nil), key...), "direction"), "direction belongs in a metric table ([%s.metric.<name>] or [metric.<name>]): a scenario's metrics do not share one", toml.Key(key).String())
	}
	mv, ok := t["metric"]
	if !ok {
		return so, nil
	}
	err := p.tables(append(slices.Clone(key), "metric"), mv, func(m string, mk []string, mt map[string]any) error {
		mo := &MetricOverride{Override: Override{Line: p.line(mk)}, Operations: map[string]*Override{}}
		if err := p.override(mk, mt, &mo.Override, []string{"operation"}); err != nil {
			return err
		}
		if ov, ok := mt["operation"]; ok {
			err := p.tables(append(slices.Clone(mk), "operation"), ov, func(op string, opk []string, ot map[string]any) error {
				oo := &Override{Line: p.line(opk)}
				if err := p.override(opk, ot, oo, nil); err != nil {
					return err
				}
				mo.Operations[op] = oo
				return nil
			})
			if err != nil {
				return err
			}
		}
		so.Metrics[m] = mo
		return nil
	})
	if err != nil {
		return nil, err
	}
	return so, nil
}

func (p *configParser) percent(key []string, v any) (float64, error) {
	name := key[len(key)-1]
	switch x := v.(type) {
	case string:
		f, err := ParsePercent(x)
		if err != nil {
			return 0, p.errorf(key, "%s: %v", name, err)
		}
		return f, nil
	case int64, float64:
		f, _ := tomlcheck.Number(x)
		r, err := percentValue(f, false, show(v))
		if err != nil {
			return 0, p.errorf(key, "%s = %v", name, err)
		}
		return r, nil
	}
	return 0, p.errorf(key, "%s must be a percentage such as \"5%%\" or 5, got %s", name, show(v))
}

func (p *configParser) stringList(key []string, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, p.errorf(key, "%s must be a list of strings, got %s", key[len(key)-1], show(v))
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, p.errorf(key, "%s[%d] must be a non-empty string, got %s", key[len(key)-1], i, show(e))
		}
		out = append(out, s)
	}
	return out, nil
}

// sortedByLine returns the keys of t in the order they appear in the file, so
// that the first error reported is the first in the file.
func sortedByLine(p *configParser, prefix []string, t map[string]any) []string {
	line := func(k string) int {
		return p.line(append(append([]string(nil), prefix...), k))
	}
	return slices.SortedFunc(maps.Keys(t), func(a, b string) int {
		return cmp.Or(cmp.Compare(line(a), line(b)), strings.Compare(a, b))
	})
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case map[string]any:
		return "a table"
	case []any:
		return "a list"
	}
	return fmt.Sprint(v)
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%T", v)
}
