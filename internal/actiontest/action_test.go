package actiontest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/engram/m18-gate/gate/config"
	"github.com/engram/m18-gate/internal/testenv"
)

// TestRunExpressionsDetector shows the detector used below can fail.
func TestRunExpressionsDetector(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want int
	}{
		{"env only", "steps:\n  - run: echo \"$X\"\n    env:\n      X: ${{ inputs.x }}\n", 0},
		{"inline", "steps:\n  - run: echo ${{ github.head_ref }}\n", 1},
		{"block", "runs:\n  steps:\n    - shell: bash\n      run: |\n        a=1\n        echo \"${{ inputs.scenarios }}\"\n", 1},
		{"nested jobs", "jobs:\n  a:\n    steps:\n      - run: ok\n      - run: x ${{ matrix.y }}\n  b:\n    steps:\n      - run: y ${{ secrets.z }}\n", 2},
		{"if is fine", "steps:\n  - if: ${{ github.event_name == 'push' }}\n    run: echo ok\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &n); err != nil {
				t.Fatal(err)
			}
			if got := runExpressions(&n); len(got) != tt.want {
				t.Errorf("found %d run: scripts with ${{, want %d: %+v", len(got), tt.want, got)
			}
		})
	}
}

// TestNoExpressionInRunScripts fails when any run: script of action.yml or
// of a workflow holds a ${{ }} expression: inputs must reach scripts through
// env:.
func TestNoExpressionInRunScripts(t *testing.T) {
	root := testenv.ModuleRoot(t)
	files := append([]string{filepath.Join(root, "action.yml")}, workflowFiles(t, root)...)
	for _, f := range files {
		for _, e := range runExpressions(loadYAML(t, f)) {
			rel, _ := filepath.Rel(root, f)
			t.Errorf("%s:%d: a run: script holds a ${{ }} expression; pass the value through env: instead:\n%s", rel, e.Line, e.Script)
		}
	}
}

// requiredInputs are the inputs the issue names, with the defaults it fixes
// ("" when it leaves the default open).
var requiredInputs = map[string]string{
	"mode": "ab", "tier": "", "scenarios": "", "config": ".github/m18-gate.toml",
	"target-command": "", "endpoint": "", "health-url": "", "build-command": "",
	"repetitions": "10", "alpha": "", "threshold": "", "competitive-threshold": "",
	"history-branch": "", "history-write": "", "github-token": "", "comment": "",
	"fail-on-regression": "", "slack-webhook": "",
}

var kebab = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// TestActionInputsDocumented checks every input: kebab-case, a description
// that states the default, a default value (so none is required), and the
// defaults the issue fixes.
func TestActionInputsDocumented(t *testing.T) {
	root := testenv.ModuleRoot(t)
	doc := loadYAML(t, filepath.Join(root, "action.yml"))
	inputs := mapping(doc, "inputs")
	if inputs == nil {
		t.Fatal("action.yml has no inputs")
	}
	names := keys(inputs)
	for name, want := range requiredInputs {
		if !slices.Contains(names, name) {
			t.Errorf("input %q is missing", name)
			continue
		}
		if want != "" {
			if got := mapping(mapping(inputs, name), "default"); got == nil || got.Value != want {
				t.Errorf("input %q: default %v, want %q", name, got, want)
			}
		}
	}
	for _, name := range names {
		in := mapping(inputs, name)
		if !kebab.MatchString(name) {
			t.Errorf("input %q is not kebab-case", name)
		}
		desc := mapping(in, "description")
		if desc == nil || len(strings.TrimSpace(desc.Value)) < 20 {
			t.Errorf("input %q: no real description", name)
			continue
		}
		def := mapping(in, "default")
		if def == nil {
			t.Errorf("input %q has no default: every input is optional and documents its default", name)
			continue
		}
		if req := mapping(in, "required"); req != nil && req.Value == "true" {
			t.Errorf("input %q is required; the action must work with five lines of YAML", name)
		}
		d := strings.ToLower(desc.Value)
		if !strings.Contains(d, "default") {
			t.Errorf("input %q: the description does not state its default (%q)", name, def.Value)
		}
		shown := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(def.Value, "${{"), "}}"))
		switch {
		case shown == "":
			if !strings.Contains(d, "empty") {
				t.Errorf("input %q: default is empty but the description does not say what empty means", name)
			}
		case !strings.Contains(desc.Value, shown):
			t.Errorf("input %q: the description does not name the default %q", name, shown)
		}
	}
}

// TestActionOutputs checks the outputs the issue names are declared,
// described, and bound to a step.
func TestActionOutputs(t *testing.T) {
	doc := loadYAML(t, filepath.Join(testenv.ModuleRoot(t), "action.yml"))
	outputs := mapping(doc, "outputs")
	for _, name := range []string{"verdict", "regressions", "result-path", "verdict-path", "check-run-id", "comment-url"} {
		o := mapping(outputs, name)
		if o == nil {
			t.Errorf("output %q is missing", name)
			continue
		}
		if d := mapping(o, "description"); d == nil || d.Value == "" {
			t.Errorf("output %q has no description", name)
		} else if name == "verdict" {
			for _, w := range []string{"`pass`", "`regression`", "`competitive-regression`", "`inconclusive`", "`error`", "`no-baseline`"} {
				if !strings.Contains(d.Value, w) {
					t.Errorf("the verdict output's description does not list %s", w)
				}
			}
		}
		if v := mapping(o, "value"); v == nil || !strings.Contains(v.Value, "steps.") {
			t.Errorf("output %q is not bound to a step output", name)
		}
	}
}

// TestActionSteps checks the shape of the composite action: it refuses
// pull_request_target first, every script it calls exists, action_path
// never appears inside run:, remote actions are only setup-go (when Go is
// missing or old) and upload-artifact, and the binaries run in the order
// probe → run (with the history baseline) → gate → report → history push.
func TestActionSteps(t *testing.T) {
	root := testenv.ModuleRoot(t)
	doc := loadYAML(t, filepath.Join(root, "action.yml"))
	if u := mapping(mapping(doc, "runs"), "using"); u == nil || u.Value != "composite" {
		t.Fatalf("runs.using = %v, want composite", u)
	}
	steps := mapping(mapping(doc, "runs"), "steps")
	if steps == nil || len(steps.Content) < 5 {
		t.Fatal("action.yml has too few steps")
	}
	first := steps.Content[0]
	if r := mapping(first, "run"); r == nil || !strings.Contains(r.Value, "guard.sh") {
		t.Errorf("the first step must run guard.sh (refusing pull_request_target and forks on self-hosted runners)")
	}
	for _, k := range []string{"M18_EVENT_NAME", "M18_RUNNER_ENVIRONMENT", "M18_HEAD_REPO_FORK"} {
		if mapping(mapping(first, "env"), k) == nil {
			t.Errorf("the first step does not pass %s to guard.sh", k)
		}
	}
	script := regexp.MustCompile(`scripts/action/[a-z0-9_-]+\.sh`)
	var order []string
	for i, s := range steps.Content {
		if u := mapping(s, "uses"); u != nil {
			ok := strings.HasPrefix(u.Value, "actions/setup-go@") || strings.HasPrefix(u.Value, "actions/upload-artifact@")
			if !ok {
				t.Errorf("step %d uses %s: only actions/setup-go and actions/upload-artifact are expected", i, u.Value)
			}
			if f := mapping(s, "if"); f == nil {
				t.Errorf("step %d (%s) has no if:; remote actions must be skippable", i, u.Value)
			}
			continue
		}
		run := mapping(s, "run")
		if run == nil {
			t.Errorf("step %d has neither uses: nor run:", i)
			continue
		}
		if sh := mapping(s, "shell"); sh == nil || sh.Value != "bash" {
			t.Errorf("step %d: composite run steps need shell: bash", i)
		}
		if strings.Contains(run.Value, "action_path") {
			t.Errorf("step %d: github.action_path belongs in env:, not in run:", i)
		}
		for _, m := range script.FindAllString(run.Value, -1) {
			st, err := os.Stat(filepath.Join(root, m))
			if err != nil {
				t.Errorf("step %d calls %s: %v", i, m, err)
			} else if st.Mode()&0o111 == 0 {
				t.Errorf("%s is not executable", m)
			}
		}
		for _, bin := range []string{"m18-probe", "prepare.sh", "measure.sh", "baseline.sh", "gate.sh", "m18-report", "push.sh"} {
			if strings.Contains(run.Value, bin) {
				order = append(order, bin)
			}
		}
	}
	// The history push comes after the report, so that a refused push
	// still leaves the verdict reported.
	want := []string{"m18-probe", "prepare.sh", "measure.sh", "baseline.sh", "gate.sh", "m18-report", "push.sh"}
	if !slices.Equal(order, want) {
		t.Errorf("steps call %v, want them in the order %v", order, want)
	}
	// measure.sh runs m18-run; baseline.sh reads the baseline with
	// m18-history; gate.sh runs m18-gate.
	for file, bins := range map[string][]string{
		"scripts/action/measure.sh":  {"m18-run ", "scrubbed bash -c \"$M18_BUILD_COMMAND\"", "scrubbed bash -c \"$M18_TARGET_COMMAND\""},
		"scripts/action/baseline.sh": {"m18-history\" baseline"},
		"scripts/action/gate.sh":     {"m18-gate\" \"${args[@]}\"", "compare"},
		"scripts/action/push.sh":     {"m18-history\" push"},
	} {
		data, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bins {
			if !strings.Contains(string(data), b) {
				t.Errorf("%s does not call %q", file, b)
			}
		}
	}
}

// TestSelfHostedRunnersOnlyOnTrustedEvents fails when a workflow that a
// pull request can trigger has a job on a self-hosted runner: fork pull
// requests must never reach self-hosted hardware.
func TestSelfHostedRunnersOnlyOnTrustedEvents(t *testing.T) {
	root := testenv.ModuleRoot(t)
	sawSelfHosted := false
	for _, f := range workflowFiles(t, root) {
		doc := loadYAML(t, f)
		triggers := triggerNames(mapping(doc, "on"))
		prTriggered := slices.Contains(triggers, "pull_request") || slices.Contains(triggers, "pull_request_target") ||
			slices.Contains(triggers, "issue_comment") || slices.Contains(triggers, "pull_request_review")
		jobs := mapping(doc, "jobs")
		for _, name := range keys(jobs) {
			runsOn := mapping(mapping(jobs, name), "runs-on")
			var labels []string
			if runsOn != nil {
				if runsOn.Kind == yaml.ScalarNode {
					labels = []string{runsOn.Value}
				}
				for _, c := range runsOn.Content {
					labels = append(labels, c.Value)
				}
			}
			if slices.Contains(labels, "self-hosted") {
				sawSelfHosted = true
				if prTriggered {
					t.Errorf("%s: job %q runs on self-hosted hardware but the workflow runs on %v", filepath.Base(f), name, triggers)
				}
			}
		}
	}
	if !sawSelfHosted {
		t.Error("no workflow uses the self-hosted tier runners; nightly.yml should")
	}
}

func triggerNames(on *yaml.Node) []string {
	if on == nil {
		return nil
	}
	switch on.Kind {
	case yaml.ScalarNode:
		return []string{on.Value}
	case yaml.SequenceNode:
		var s []string
		for _, c := range on.Content {
			s = append(s, c.Value)
		}
		return s
	}
	return keys(on)
}

// TestWorkflowsDoWhatTheIssueSays checks the few promises of each workflow
// that a linter cannot.
func TestWorkflowsDoWhatTheIssueSays(t *testing.T) {
	root := testenv.ModuleRoot(t)
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	for file, wants := range map[string][]string{
		"ci.yml":      {"go test -timeout 20m ./...", "go vet ./...", "actionlint"},
		"gate.yml":    {"uses: ./", "pull_request:", "target-command:"},
		"nightly.yml": {"schedule:", "[self-hosted, linux, tier2", "[self-hosted, linux, tier3, numa]", "matrix:", "history-write: true", "slack-webhook:", "mode: history"},
		"release.yml": {"tags:", "git push -f origin \"refs/tags/$major\""},
	} {
		body := read(file)
		for _, w := range wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not contain %q", file, w)
			}
		}
	}
}

// TestExampleConfigIsValid loads .github/m18-gate.toml with the gate's own
// parser, so the example never drifts from the format.
func TestExampleConfigIsValid(t *testing.T) {
	c, err := config.Load(filepath.Join(testenv.ModuleRoot(t), ".github", "m18-gate.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := c.Tier("pr"); !ok || len(s) == 0 {
		t.Errorf("the example config has no [tiers] pr scenarios")
	}
}

// TestReadmeSectionListsEveryInput keeps .github/ACTION.md's table in step
// with action.yml.
func TestReadmeSectionListsEveryInput(t *testing.T) {
	root := testenv.ModuleRoot(t)
	data, err := os.ReadFile(filepath.Join(root, ".github", "ACTION.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	doc := loadYAML(t, filepath.Join(root, "action.yml"))
	for _, section := range []string{"inputs", "outputs"} {
		for _, name := range keys(mapping(doc, section)) {
			if !strings.Contains(text, "| `"+name+"` |") {
				t.Errorf(".github/ACTION.md: the %s table has no row for `%s`", section, name)
			}
		}
	}
	for _, must := range []string{"workflow_run", "checks: write", "pull-requests: write", "contents: write", "untrusted", "self-hosted", "pull_request_target"} {
		if !strings.Contains(text, must) {
			t.Errorf(".github/ACTION.md does not mention %q", must)
		}
	}
}
