package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/runners/competitor"
	"github.com/engram/m18-gate/runners/competitor/neo4j"
	"github.com/engram/m18-gate/runners/competitor/postgres"
	"github.com/engram/m18-gate/runners/competitor/qdrant"
	"github.com/engram/m18-gate/runners/competitor/weaviate"
	"github.com/engram/m18-gate/runners/load"
	"github.com/engram/m18-gate/runners/load/client"
)

// competitorFlags are the flags that run a scenario against a competitor.
type competitorFlags struct {
	name, url, user, config string
}

// passwordEnv is the environment variable a password (Neo4j) or API key
// (Qdrant, Weaviate) is read from when --competitor-url is given.
const passwordEnv = "M18_COMPETITOR_PASSWORD"

func (c *competitorFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&c.name, "competitor", "", "run against a competitor instead of Engram: an adapter `NAME` (postgres, weaviate, qdrant, neo4j)\n"+
		"with --competitor-url, or the name of a [target.NAME] table of --config")
	fs.StringVar(&c.url, "competitor-url", "", "the competitor's `URL` (postgres://postgres@127.0.0.1:5432/postgres, http://127.0.0.1:8080, …)")
	fs.StringVar(&c.user, "competitor-user", "", "user for the competitor (Neo4j); the password or API key is read from $"+passwordEnv)
	fs.StringVar(&c.config, "config", "", "policy `FILE` with [target.NAME] tables (default "+config.DefaultPath+" when it exists and --competitor-url is not given)")
}

// adapter returns the adapter the flags name and the URL to record, or
// nil when no competitor was asked for.
func (c *competitorFlags) adapter() (load.Adapter, string, error) {
	if c.name == "" {
		if c.url != "" || c.user != "" {
			return nil, "", fmt.Errorf("--competitor-url and --competitor-user need --competitor NAME")
		}
		return nil, "", nil
	}
	t := &config.Target{Name: c.name, Adapter: c.name, URL: c.url, User: c.user, PasswordEnv: passwordEnv}
	if c.url == "" {
		path := c.config
		if path == "" {
			path = config.DefaultPath
		}
		cfg, err := config.Load(path)
		if err != nil {
			return nil, "", fmt.Errorf("--competitor %s without --competitor-url looks for [target.%s] in the policy file: %v", c.name, c.name, err)
		}
		if t, err = cfg.TargetNamed(c.name); err != nil {
			return nil, "", err
		}
		if c.user != "" {
			t.User = c.user
		}
	}
	pw := t.Password()
	switch t.Adapter {
	case postgres.Name:
		return &postgres.Adapter{URL: t.URL}, redactURL(t.URL), nil
	case weaviate.Name:
		return &weaviate.Adapter{URL: t.URL, APIKey: pw}, t.URL, nil
	case qdrant.Name:
		return &qdrant.Adapter{URL: t.URL, APIKey: pw}, t.URL, nil
	case neo4j.Name:
		return &neo4j.Adapter{URL: t.URL, User: t.User, Password: pw}, t.URL, nil
	}
	return nil, "", fmt.Errorf("--competitor %q: no such adapter (postgres, weaviate, qdrant, neo4j) and no [target.%s] given", t.Adapter, c.name)
}

// competitors lists the adapters and what each runs for each operation.
func competitors(_ context.Context, _ []string, w, _ io.Writer) error {
	for _, a := range []struct {
		name, method string
		m            competitor.Mapping
	}{
		{postgres.Name, postgres.MethodPlain + " (or " + postgres.MethodPGVector + ")", postgres.Expresses()},
		{weaviate.Name, weaviate.Method, weaviate.Expresses()},
		{qdrant.Name, qdrant.Method, qdrant.Expresses()},
		{neo4j.Name, neo4j.Method, neo4j.Expresses()},
	} {
		fmt.Fprintf(w, "%s: %s\n", a.name, a.method)
		for op := client.Op(0); op < client.NumOps; op++ {
			what, ok := a.m[op]
			if !ok {
				what = "cannot express: a scenario that sends it is refused"
			}
			fmt.Fprintf(w, "  %-18s %s\n", op, what)
		}
	}
	return nil
}

// redactURL drops a password from a URL recorded in the document.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	creds, host, ok := strings.Cut(rest, "@")
	if !ok {
		return u
	}
	user, _, _ := strings.Cut(creds, ":")
	return scheme + "://" + user + "@" + host
}
