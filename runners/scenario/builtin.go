package scenario

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/engram/m18-gate/internal/tomlcheck"
)

// builtinFS holds the scenarios shipped in the binary, under builtin/ as
// NAME.toml (NAME may contain a directory: "ci/fast_regression_check").
//
//go:embed builtin
var builtinFS embed.FS

// Info describes one built-in scenario.
type Info struct {
	// Name is what --scenario takes: "ci/fast_regression_check".
	Name string
	// Title is the file's name field; Description its description field.
	Title       string
	Description string
}

// Builtins lists the scenarios shipped in the binary, sorted by Name.
func Builtins() []Info {
	var out []Info
	for _, name := range builtinNames() {
		sc, err := loadBuiltin(name)
		if err != nil {
			// Shipped files are tested to parse; never hide one that does
			// not, show why instead.
			out = append(out, Info{Name: name, Title: "(invalid)", Description: err.Error()})
			continue
		}
		out = append(out, Info{Name: name, Title: sc.Name, Description: sc.Description})
	}
	return out
}

func builtinNames() []string {
	var names []string
	_ = fs.WalkDir(builtinFS, "builtin", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".toml") {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(p, "builtin/"), ".toml"))
		}
		return nil
	})
	sort.Strings(names)
	return names
}

func loadBuiltin(name string) (*Scenario, error) {
	data, err := builtinFS.ReadFile(path.Join("builtin", name+".toml"))
	if err != nil {
		return nil, err
	}
	return parse(name, name+".toml", data)
}

// Load returns the scenario ref names: a built-in name (with or without
// ".toml", e.g. "ci/fast_regression_check") or the path of a user's file.
//
// A repository file never shadows a built-in silently: a ref that names
// both a built-in and an existing file ("ci/smoke.toml" in a checkout that
// has such a file) is an error that names both and the fix. A ref that
// starts with "./", "../" or "/" is explicitly a file and always read from
// disk; that is how to run a file that has a built-in's name. Parse's errors
// (Errors) pass through unchanged.
func Load(ref string) (*Scenario, error) {
	if ref == "" {
		return nil, errors.New("scenario: empty name; give a built-in name (see Builtins) or a file path")
	}
	if explicitFile(ref) {
		if !isFile(ref) {
			return nil, fmt.Errorf("scenario %s: no such file", ref)
		}
		return loadFile(ref)
	}
	name := strings.TrimSuffix(path.Clean(strings.ReplaceAll(ref, `\`, "/")), ".toml")
	if fs.ValidPath("builtin/"+name+".toml") && !strings.HasPrefix(name, "../") {
		if _, err := fs.Stat(builtinFS, "builtin/"+name+".toml"); err == nil {
			if isFile(ref) {
				return nil, fmt.Errorf("scenario %s: names both the built-in scenario %q and the file %s in this directory; "+
					"a file never replaces a built-in silently: write ./%s to run the file, or %s for the built-in and rename the file",
					ref, name, ref, strings.TrimPrefix(ref, "./"), name)
			}
			return loadBuiltin(name)
		}
	}
	if isFile(ref) {
		return loadFile(ref)
	}
	names := builtinNames()
	msg := fmt.Sprintf("scenario %s: no such built-in scenario or file", ref)
	if s := tomlcheck.Suggest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	msg += "; built-ins: " + strings.Join(names, ", ")
	return nil, errors.New(msg)
}

// explicitFile reports whether ref can only be a path: "./x", "../x",
// "/x" (or with backslashes).
func explicitFile(ref string) bool {
	r := strings.ReplaceAll(ref, `\`, "/")
	return strings.HasPrefix(r, "./") || strings.HasPrefix(r, "../") || strings.HasPrefix(r, "/") || filepath.IsAbs(ref)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func loadFile(p string) (*Scenario, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", p, err)
	}
	return Parse(p, data)
}
