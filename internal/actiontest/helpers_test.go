package actiontest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/engram/m18-gate/internal/testenv"
)

// fixture returns the text of testdata/name.
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// loadYAML parses a YAML file into a node tree.
func loadYAML(t testing.TB, path string) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &doc
}

// workflowFiles lists the workflow files of the repository.
func workflowFiles(t testing.TB, root string) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, ".github", "workflows", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no workflow files under .github/workflows")
	}
	return files
}

// mapping returns the value node of key in a mapping node, or nil.
func mapping(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// keys returns the keys of a mapping node in order.
func keys(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var ks []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		ks = append(ks, n.Content[i].Value)
	}
	return ks
}

// expressionInRun is one `run:` script that holds a ${{ }} expression.
type expressionInRun struct {
	Line   int
	Script string
}

// runExpressions walks a whole YAML tree and returns every `run:` value that
// contains "${{": such an expression is expanded into the script's text
// before the shell sees it, so an attacker-controlled value (a branch name, a
// PR title, a scenario name) becomes shell code.
func runExpressions(n *yaml.Node) []expressionInRun {
	var found []expressionInRun
	for _, v := range scalars(n, "run") {
		if strings.Contains(v.Value, "${{") {
			found = append(found, expressionInRun{Line: v.Line, Script: v.Value})
		}
	}
	return found
}

// scalars returns every scalar value of key in the mappings of the YAML
// tree n, in document order.
func scalars(n *yaml.Node, key string) []*yaml.Node {
	var found []*yaml.Node
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == key && v.Kind == yaml.ScalarNode {
					found = append(found, v)
				}
				walk(v)
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return found
}

// needEndToEnd skips t, an end-to-end test that runs for a while (what
// says how long), under -short, when SkipE2EEnv is set, or when one of
// tools is not on PATH.
func needEndToEnd(t *testing.T, what string, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("%s: skipped with -short", what)
	}
	if os.Getenv(SkipE2EEnv) != "" {
		t.Skipf("%s is set", SkipE2EEnv)
	}
	testenv.Tools(t, tools...)
}

// runCommand runs cmd and returns its combined output and exit code; a
// command that cannot start fails the test.
func runCommand(t testing.TB, cmd *exec.Cmd) (string, int) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("%s: %v", cmd.Path, err)
	return "", 0
}

// libShell runs script with bash after sourcing scripts/action/lib.sh, the
// variables env added to this process's environment and args as $2, $3, …;
// it returns the combined output and the error of the exit status.
func libShell(t *testing.T, script string, env []string, args ...string) (string, error) {
	t.Helper()
	lib := filepath.Join(testenv.ModuleRoot(t), "scripts", "action", "lib.sh")
	cmd := exec.Command("bash", append([]string{"-c", `. "$1" && ` + script, "lib.sh", lib}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// abCheckouts makes a repository whose base commit holds the files base
// and whose head commit adds head, with the base checked out beside it as
// prepare.sh does (a worktree named base), target.sh executable in both;
// and the environment measure.sh and gate.sh need in ab mode with bin's
// binaries, their work in work.
func abCheckouts(t *testing.T, base, head map[string]string, bin, work string) (dir, baseSHA, headSHA string, env []string) {
	t.Helper()
	dir, baseSHA, headSHA = gitRepo(t, base, head)
	baseDir := filepath.Join(filepath.Dir(dir), "base")
	if out, err := exec.Command("git", "-C", dir, "worktree", "add", "-q", "--detach", baseDir, baseSHA).CombinedOutput(); err != nil {
		t.Fatalf("git worktree add: %v\n%s", err, out)
	}
	for _, d := range []string{dir, baseDir} {
		if err := os.Chmod(filepath.Join(d, "target.sh"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, baseSHA, headSHA, []string{
		"M18_BIN=" + bin, "M18_WORK=" + work, "M18_MODE=ab", "GITHUB_WORKSPACE=" + dir, "GITHUB_SHA=" + headSHA,
		"M18_BASE_SHA=" + baseSHA, "M18_BASE_DIR=" + baseDir, "M18_HEALTH_TIMEOUT=30", "GOCACHE=" + goEnv("GOCACHE"),
	}
}
