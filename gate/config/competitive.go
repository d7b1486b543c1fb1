package config

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/engram/m18-gate/internal/tomlcheck"
)

// Target is a [target.<name>] table: a competitor m18-run can run a
// scenario against (m18-run --target NAME). Secrets are never in the
// file: PasswordEnv names the environment variable holding one.
type Target struct {
	Line int
	// Name is the table's name; Adapter the competitor adapter (postgres,
	// weaviate, qdrant, neo4j), default Name.
	Name, Adapter string
	// URL is the competitor's address (postgres://…, http://…).
	URL string
	// User and PasswordEnv authenticate (Neo4j basic auth, a Qdrant or
	// Weaviate API key in PasswordEnv).
	User, PasswordEnv string
}

// Password returns the value of PasswordEnv, "" when unset.
func (t *Target) Password() string {
	if t == nil || t.PasswordEnv == "" {
		return ""
	}
	return os.Getenv(t.PasswordEnv)
}

// Milestone is a [milestone."<scenario>"] table: targets Engram's runs of
// the scenario must meet, set against a competitor's published figures.
// The gate reports a missed target as a competitive regression.
type Milestone struct {
	Line int
	// Scenario is the table's name.
	Scenario string
	// Competitor names whose figure the target beats (for the report);
	// Note says where the figure comes from.
	Competitor, Note string
	// Operation is the operation the targets apply to (default overall).
	Operation string
	// P50Ms and P99Ms are upper bounds on the medians over runs of those
	// latencies; Throughput a lower bound on the median throughput. Nil
	// when not set.
	P50Ms, P99Ms, Throughput *float64
}

var adapters = []string{"postgres", "weaviate", "qdrant", "neo4j"}

func (p *configParser) targets(key []string, v any, c *Config) error {
	return p.tables(key, v, func(name string, tk []string, tt map[string]any) error {
		tg := &Target{Line: p.line(tk), Name: name, Adapter: name}
		strs := map[string]*string{"adapter": &tg.Adapter, "url": &tg.URL, "user": &tg.User, "password_env": &tg.PasswordEnv}
		err := p.fields(tk, tt, func(k string, fk []string, v any) error {
			s, ok := v.(string)
			if !ok || s == "" {
				return p.errorf(fk, "%s must be a non-empty string, got %s", k, show(v))
			}
			if k == "password" {
				return p.errorf(fk, "passwords do not belong in the policy file: set password_env = \"NAME\" and the password in that environment variable")
			}
			dst, known := strs[k]
			if !known {
				return p.unknown(tk, k, []string{"adapter", "url", "user", "password_env"})
			}
			*dst = s
			return nil
		})
		if err != nil {
			return err
		}
		if !slices.Contains(adapters, tg.Adapter) {
			return p.errorf(append(tk, "adapter"), "adapter %q is not one of %s (set adapter = \"...\" when the table's name is not the adapter's)", tg.Adapter, strings.Join(adapters, ", "))
		}
		if tg.URL == "" {
			return p.errorf(tk, "[%s] needs url = \"...\" (e.g. postgres://postgres@127.0.0.1:5432/postgres or http://127.0.0.1:6333)", strings.Join(tk, "."))
		}
		c.Targets[name] = tg
		return nil
	})
}

func (p *configParser) milestones(key []string, v any, c *Config) error {
	return p.tables(key, v, func(sc string, mk []string, mt map[string]any) error {
		m := &Milestone{Line: p.line(mk), Scenario: sc}
		strs := map[string]*string{"competitor": &m.Competitor, "note": &m.Note, "operation": &m.Operation}
		nums := map[string]**float64{"p50_ms": &m.P50Ms, "p99_ms": &m.P99Ms, "throughput": &m.Throughput}
		err := p.fields(mk, mt, func(k string, fk []string, v any) error {
			if dst, ok := strs[k]; ok {
				s, ok := v.(string)
				if !ok {
					return p.errorf(fk, "%s must be a string, got %s", k, show(v))
				}
				*dst = s
				return nil
			}
			dst, known := nums[k]
			if !known {
				return p.unknown(mk, k, []string{"competitor", "note", "operation", "p50_ms", "p99_ms", "throughput"})
			}
			f, ok := tomlcheck.Number(v)
			if !ok || !(f > 0) {
				return p.errorf(fk, "%s must be a positive number, got %s", k, show(v))
			}
			*dst = &f
			return nil
		})
		if err != nil {
			return err
		}
		if m.P50Ms == nil && m.P99Ms == nil && m.Throughput == nil {
			return p.errorf(mk, "[milestone.%q] sets no target: give p99_ms, p50_ms or throughput", sc)
		}
		c.Milestones[sc] = m
		return nil
	})
}

// TargetNamed returns the [target.<name>] table, or an error listing the
// ones the file has.
func (c *Config) TargetNamed(name string) (*Target, error) {
	if c != nil {
		if t := c.Targets[name]; t != nil {
			return t, nil
		}
	}
	var have []string
	path := DefaultPath
	if c != nil {
		path = c.Path
		have = slices.Sorted(maps.Keys(c.Targets))
	}
	return nil, fmt.Errorf("%s: no [target.%s] table (have: %s); add one with url = \"...\"", path, name, orNone(have))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
