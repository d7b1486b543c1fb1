package actiontest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/engram/m18-gate/internal/competitortest"
	"github.com/engram/m18-gate/internal/testenv"
)

// pinned is a remote action pinned by commit: owner/repo@40 hex digits.
var pinned = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@[0-9a-f]{40}$`)

// version is the line comment naming the release a pin stands for.
var version = regexp.MustCompile(`^# v[0-9]+\.[0-9]+\.[0-9]+$`)

// TestThirdPartyActionsPinnedBySHA fails when action.yml or a workflow uses
// a remote action by a movable tag instead of a full commit SHA with the
// release in a comment ("actions/checkout@11d5…262 # v4.4.0").
func TestThirdPartyActionsPinnedBySHA(t *testing.T) {
	root := testenv.ModuleRoot(t)
	files := append([]string{filepath.Join(root, "action.yml")}, workflowFiles(t, root)...)
	seen := 0
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		for _, u := range scalars(loadYAML(t, f), "uses") {
			if strings.HasPrefix(u.Value, "./") || strings.HasPrefix(u.Value, "docker://") {
				continue
			}
			seen++
			if !pinned.MatchString(u.Value) {
				t.Errorf("%s:%d: uses %s: pin it by full commit SHA", rel, u.Line, u.Value)
			}
			if !version.MatchString(strings.TrimSpace(u.LineComment)) {
				t.Errorf("%s:%d: uses %s without a `# vX.Y.Z` comment naming the release", rel, u.Line, u.Value)
			}
		}
	}
	if seen == 0 {
		t.Fatal("found no remote action at all; the walk is broken")
	}
	for _, tt := range []struct {
		uses string
		ok   bool
	}{
		{"actions/checkout@v4", false},
		{"actions/checkout@main", false},
		{"actions/checkout@11d5960a326750d5838078e36cf38b85af677262", true},
		{"github/codeql-action/init@11d5960a326750d5838078e36cf38b85af677262", true},
		{"actions/checkout@11d5960a", false},
	} {
		if got := pinned.MatchString(tt.uses); got != tt.ok {
			t.Errorf("pinned(%q) = %v, want %v", tt.uses, got, tt.ok)
		}
	}
}

// TestDockerfileBasesPinnedByDigest fails when a FROM names an image by tag
// only.
func TestDockerfileBasesPinnedByDigest(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(t), "Dockerfile"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no Dockerfile")
	} else if err != nil {
		t.Fatal(err)
	}
	from := regexp.MustCompile(`(?m)^FROM\s+(\S+)`)
	digest := regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	stages := map[string]bool{}
	n := 0
	for _, m := range from.FindAllStringSubmatch(string(data), -1) {
		n++
		if stages[m[1]] {
			continue // FROM an earlier stage
		}
		if !digest.MatchString(m[1]) {
			t.Errorf("Dockerfile: FROM %s: pin the base by digest (IMAGE:TAG@sha256:…)", m[1])
		}
	}
	if n == 0 {
		t.Fatal("Dockerfile has no FROM line")
	}
}

// TestCheckoutDoesNotPersistCredentials fails when a workflow checks out
// with the token left in .git/config (the default), unless a step of that
// job pushes with git: the build and target commands of the gate read the
// checkout.
func TestCheckoutDoesNotPersistCredentials(t *testing.T) {
	root := testenv.ModuleRoot(t)
	checkouts := 0
	for _, f := range workflowFiles(t, root) {
		doc := loadYAML(t, f)
		jobs := mapping(doc, "jobs")
		for _, name := range keys(jobs) {
			steps := mapping(mapping(jobs, name), "steps")
			if steps == nil {
				continue
			}
			pushes := false
			for _, s := range steps.Content {
				if r := mapping(s, "run"); r != nil && strings.Contains(r.Value, "git push") {
					pushes = true
				}
			}
			for _, s := range steps.Content {
				u := mapping(s, "uses")
				if u == nil || !strings.HasPrefix(u.Value, "actions/checkout@") {
					continue
				}
				checkouts++
				p := mapping(mapping(s, "with"), "persist-credentials")
				if !pushes && (p == nil || p.Value != "false") {
					t.Errorf("%s: job %q: actions/checkout without persist-credentials: false, but nothing in the job pushes", filepath.Base(f), name)
				}
			}
		}
	}
	if checkouts == 0 {
		t.Fatal("no actions/checkout found in the workflows")
	}
}

// tokenSteps are the steps of action.yml allowed to hold the token: the ones
// that talk to GitHub and run none of the pull request's code (dashboard
// reads the history branch and pushes the site with the action's own
// m18-dash).
var tokenSteps = []string{"prepare", "baseline", "report", "history-push", "dashboard"}

// TestTokenOnlyWhereGitHubIsCalled fails when a step of action.yml other than
// those that talk to GitHub gets GITHUB_TOKEN, in particular the Measure
// step that runs build-command and target-command.
func TestTokenOnlyWhereGitHubIsCalled(t *testing.T) {
	doc := loadYAML(t, filepath.Join(testenv.ModuleRoot(t), "action.yml"))
	steps := mapping(mapping(doc, "runs"), "steps")
	var holders []string
	sawMeasure := false
	for i, s := range steps.Content {
		id := ""
		if n := mapping(s, "id"); n != nil {
			id = n.Value
		}
		run := mapping(s, "run")
		if run != nil && strings.Contains(run.Value, "measure.sh") {
			sawMeasure = true
		}
		if run != nil && strings.Contains(run.Value, "push.sh") {
			id = "history-push"
		}
		for _, k := range keys(mapping(s, "env")) {
			v := mapping(mapping(s, "env"), k).Value
			if k == "GITHUB_TOKEN" || strings.Contains(v, "github-token") || strings.Contains(v, "github.token") || strings.Contains(v, "secrets.") {
				holders = append(holders, id)
				if !slices.Contains(tokenSteps, id) {
					t.Errorf("step %d (id %q) gets the token in env %s; only %v may", i, id, k, tokenSteps)
				}
				if run != nil && strings.Contains(run.Value, "measure.sh") {
					t.Errorf("the Measure step gets the token (%s): it runs the pull request's code", k)
				}
			}
		}
	}
	if !sawMeasure {
		t.Fatal("no step runs measure.sh")
	}
	slices.Sort(holders)
	if want := slices.Sorted(slices.Values(tokenSteps)); !slices.Equal(holders, want) {
		t.Errorf("steps with the token: %v, want %v", holders, want)
	}
}

// runScript runs a script of scripts/action with env (and PATH, HOME) only,
// in dir, and returns its combined output and exit code.
func runScript(t *testing.T, dir, script string, env ...string) (string, int) {
	t.Helper()
	root := testenv.ModuleRoot(t)
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "action", script))
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	return runCommand(t, cmd)
}

// TestGuardRefusesForkOnSelfHosted runs guard.sh, the action's first step,
// for the events and runners it must refuse and those it must let through.
func TestGuardRefusesForkOnSelfHosted(t *testing.T) {
	testenv.Tools(t, "bash")
	fork := []string{"M18_EVENT_NAME=pull_request", "M18_HEAD_REPO_FORK=true", "M18_HEAD_REPO=mallory/widgets", "M18_BASE_REPO=acme/widgets"}
	same := []string{"M18_EVENT_NAME=pull_request", "M18_HEAD_REPO_FORK=false", "M18_HEAD_REPO=acme/widgets", "M18_BASE_REPO=acme/widgets"}
	tests := []struct {
		name string
		env  []string
		code int
		want string
	}{
		{"pull_request_target", []string{"M18_EVENT_NAME=pull_request_target", "M18_RUNNER_ENVIRONMENT=github-hosted"}, 1, "refuses pull_request_target"},
		{"fork on self-hosted", append(fork, "M18_RUNNER_ENVIRONMENT=self-hosted"), 1, "refuses a fork's pull request on a self-hosted runner"},
		{"fork flag unset, other repository, self-hosted", []string{"M18_EVENT_NAME=pull_request", "M18_HEAD_REPO=mallory/widgets", "M18_BASE_REPO=acme/widgets", "M18_RUNNER_ENVIRONMENT=self-hosted"}, 1, "self-hosted runner"},
		{"fork on github-hosted", append(fork, "M18_RUNNER_ENVIRONMENT=github-hosted"), 0, "fork=true"},
		{"same repository on self-hosted", append(same, "M18_RUNNER_ENVIRONMENT=self-hosted"), 0, "fork=false"},
		{"schedule on self-hosted", []string{"M18_EVENT_NAME=schedule", "M18_RUNNER_ENVIRONMENT=self-hosted"}, 0, "fork=false"},
		{"fork, runner unknown", fork, 0, "::warning"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runScript(t, t.TempDir(), "guard.sh", tt.env...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tt.code, tt.want, out)
			}
		})
	}
}

// gitRepo makes a repository with a base commit and a head commit on top,
// each with the given files, and returns its path and the two SHAs.
func gitRepo(t *testing.T, base, head map[string]string) (dir, baseSHA, headSHA string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "repo")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@example.com",
			"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	commit := func(files map[string]string, msg string) string {
		for name, body := range files {
			writeFile(t, filepath.Join(dir, name), body)
		}
		git("add", "-A")
		git("-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", msg)
		return git("rev-parse", "HEAD")
	}
	baseSHA = commit(base, "base")
	headSHA = commit(head, "head")
	return dir, baseSHA, headSHA
}

// TestPolicyReadFromBase runs prepare.sh for a pull request whose head
// loosens the gate's threshold: the policy the gate uses is the base's.
func TestPolicyReadFromBase(t *testing.T) {
	testenv.Tools(t, "bash", "git")
	strict := "[defaults]\nthreshold = \"5%\"\n"
	loose := "[defaults]\nthreshold = \"500%\"\n"
	tests := []struct {
		name       string
		base, head map[string]string
		baseSHA    bool // the event has a base (a pull request)
		want       string
		notice     bool
	}{
		{"head loosens the base's policy", map[string]string{".github/m18-gate.toml": strict}, map[string]string{".github/m18-gate.toml": loose}, true, strict, true},
		{"head adds a policy the base lacks", map[string]string{"README": "x"}, map[string]string{".github/m18-gate.toml": loose}, true, "", true},
		{"unchanged policy", map[string]string{".github/m18-gate.toml": strict}, map[string]string{"README": "y"}, true, strict, false},
		{"push: the checkout is trusted", map[string]string{".github/m18-gate.toml": strict}, map[string]string{".github/m18-gate.toml": loose}, false, loose, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, baseSHA, _ := gitRepo(t, tt.base, tt.head)
			work := t.TempDir()
			output := filepath.Join(work, "github_output")
			env := []string{"M18_WORK=" + work, "M18_MODE=history", "GITHUB_WORKSPACE=" + dir, "GITHUB_OUTPUT=" + output, "GITHUB_TOKEN=ghs_notUsedHere"}
			if tt.baseSHA {
				env = append(env, "M18_BASE_SHA="+baseSHA)
			}
			out, code := runScript(t, dir, "prepare.sh", env...)
			if code != 0 {
				t.Fatalf("prepare.sh: exit %d\n%s", code, out)
			}
			outputs, _ := os.ReadFile(output)
			policy := filepath.Join(work, "policy.toml")
			got, err := os.ReadFile(policy)
			switch {
			case tt.want == "" && err == nil:
				t.Errorf("a policy was written although the base has none:\n%s", got)
			case tt.want == "" && !strings.Contains(string(outputs), "policy=\n"):
				t.Errorf("the policy output is not empty:\n%s", outputs)
			case tt.want != "" && string(got) != tt.want:
				t.Errorf("policy = %q, want %q", got, tt.want)
			case tt.want != "" && !strings.Contains(string(outputs), "policy="+policy+"\n"):
				t.Errorf("outputs do not name %s:\n%s", policy, outputs)
			}
			if gotNotice := strings.Contains(out, "::notice"); gotNotice != tt.notice {
				t.Errorf("notice shown = %v, want %v:\n%s", gotNotice, tt.notice, out)
			}
		})
	}
}

// TestTokenNeverReachesBuildOrTarget runs measure.sh (history mode, one
// repetition of a 1-second scenario against m18-target) with a fake token
// and runtime tokens in its environment, a build-command and a
// target-command that dump their environment: neither sees a token, both see
// what they need.
func TestTokenNeverReachesBuildOrTarget(t *testing.T) {
	testenv.Tools(t, "bash", "git", "curl", "env")
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	testenv.Build(t, bin+"/", "./cmd/m18-run")
	testenv.Build(t, bin+"/", "./cmd/m18-target")
	dir, _, headSHA := gitRepo(t, map[string]string{"README": "x"}, map[string]string{"tiny.toml": fixture(t, "tiny.toml")})
	work := filepath.Join(tmp, "work")
	dumps := filepath.Join(tmp, "dumps")
	port := competitortest.FreePort(t)
	const token = "ghs_FAKEtoken1234567890"
	env := []string{
		"M18_BIN=" + bin, "M18_WORK=" + work, "M18_MODE=history", "M18_REPETITIONS=1",
		"M18_SCENARIOS=tiny.toml", "GITHUB_WORKSPACE=" + dir, "GITHUB_SHA=" + headSHA,
		fmt.Sprintf("M18_ENDPOINT=http://127.0.0.1:%d", port), "M18_HEALTH_TIMEOUT=30",
		"M18_BUILD_COMMAND=mkdir -p " + dumps + " && env > " + dumps + "/build.env",
		"M18_TARGET_COMMAND=env > " + dumps + "/target.env; exec " + bin + `/m18-target --addr "$M18_ADDR"`,
		"M18_COMMAND_ENV=ENGRAM_LOG",
		"ENGRAM_LOG=debug", "GOCACHE=" + goEnv("GOCACHE"),
		"GITHUB_TOKEN=" + token, "ACTIONS_RUNTIME_TOKEN=" + token, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + token,
		"GITHUB_ENV=" + filepath.Join(tmp, "github_env"), "INPUT_GITHUB-TOKEN=" + token,
	}
	out, code := runScript(t, dir, "measure.sh", env...)
	if code != 0 {
		t.Fatalf("measure.sh: exit %d\n%s", code, tail(out, 40))
	}
	for _, name := range []string{"build.env", "target.env"} {
		data, err := os.ReadFile(filepath.Join(dumps, name))
		if err != nil {
			t.Fatalf("the command did not run: %v\n%s", err, tail(out, 40))
		}
		dump := string(data)
		if strings.Contains(dump, token) {
			t.Errorf("%s holds the token:\n%s", name, dump)
		}
		for _, gone := range []string{"GITHUB_TOKEN=", "ACTIONS_RUNTIME_TOKEN=", "GITHUB_ENV="} {
			if strings.Contains(dump, "\n"+gone) || strings.HasPrefix(dump, gone) {
				t.Errorf("%s has %s", name, gone)
			}
		}
		for _, kept := range []string{"PATH=", "HOME=", "GOCACHE=", "ENGRAM_LOG=debug"} {
			if !strings.Contains(dump, kept) {
				t.Errorf("%s lacks %s (the allow-list or command-env):\n%s", name, kept, dump)
			}
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dumps, "target.env")); !strings.Contains(string(data), fmt.Sprintf("M18_PORT=%d", port)) {
		t.Errorf("the target lacks M18_PORT:\n%s", data)
	}
	if m, _ := filepath.Glob(filepath.Join(work, "out", "head", "*.json")); len(m) != 1 {
		t.Errorf("measure.sh wrote %d head results, want 1", len(m))
	}

	// command-env cannot smuggle the token in.
	out, code = runScript(t, dir, "measure.sh", append(env, "M18_COMMAND_ENV=GITHUB_TOKEN")...)
	if code != 3 || !strings.Contains(out, "command-env names 'GITHUB_TOKEN'") {
		t.Errorf("command-env=GITHUB_TOKEN: exit %d, want 3 naming it:\n%s", code, tail(out, 20))
	}
}

// TestReportKeyedPerLeg: the Report step passes --key (the key input, else
// a non-default artifact name), so matrix legs keep a sticky comment each.
func TestReportKeyedPerLeg(t *testing.T) {
	doc := loadYAML(t, filepath.Join(testenv.ModuleRoot(t), "action.yml"))
	var report *yaml.Node
	for _, s := range mapping(mapping(doc, "runs"), "steps").Content {
		if id := mapping(s, "id"); id != nil && id.Value == "report" {
			report = s
		}
	}
	if report == nil {
		t.Fatal("no step with id report")
	}
	env := mapping(report, "env")
	if k := mapping(env, "M18_KEY"); k == nil || k.Value != "${{ inputs.key }}" {
		t.Errorf("the Report step does not get the key input")
	}
	run := mapping(report, "run").Value
	for _, want := range []string{`args+=(--key "$key")`, `key=$M18_ARTIFACT`} {
		if !strings.Contains(run, want) {
			t.Errorf("the Report step's script lacks %q:\n%s", want, run)
		}
	}
	if mapping(mapping(doc, "inputs"), "key") == nil {
		t.Error("action.yml has no key input")
	}
}
