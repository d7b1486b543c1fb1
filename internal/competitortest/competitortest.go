// Package competitortest starts real competitor servers for tests: a
// throwaway PostgreSQL cluster (initdb and pg_ctl in a temporary
// directory, on a free loopback port) and weaviate-server. A test whose
// server program is not installed is skipped with a message saying what
// to install; every server is stopped when the test ends.
package competitortest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// pgBinDirs are where PostgreSQL's server programs are looked for after
// PATH (Debian keeps them out of it).
var pgBinDirs = []string{"/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin"}

// Postgres starts a PostgreSQL cluster for the test and returns its
// connection URL (user postgres, database postgres, trust authentication,
// 127.0.0.1 only). When the test runs as root the server runs as the
// postgres user (PostgreSQL refuses root) through runuser.
func Postgres(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("competitortest: the PostgreSQL cluster is started on Linux only")
	}
	initdb := findProgram("initdb", pgBinDirs)
	pgctl := findProgram("pg_ctl", pgBinDirs)
	if initdb == "" || pgctl == "" {
		t.Skip("competitortest: initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin: install postgresql (Debian: apt-get install postgresql-15)")
	}
	var wrap []string
	dir, err := os.MkdirTemp("", "m18-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("competitortest: running as root and there is no postgres user to run the server as (PostgreSQL refuses root)")
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			t.Skip("competitortest: running as root without runuser to start PostgreSQL as the postgres user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		wrap = []string{runuser, "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	run := func(prog string, args ...string) error {
		argv := append(append(append([]string{}, wrap...), prog), args...)
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %v\n%s", argv, err, out)
		}
		return nil
	}
	if err := run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", port, dir)
	if err := run(pgctl, "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Fatalf("%v\nserver log:\n%s", err, log)
	}
	t.Cleanup(func() { _ = run(pgctl, "-D", data, "-m", "immediate", "-w", "stop") })
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// Weaviate starts weaviate-server for the test (anonymous access, no
// vectorizer, telemetry off, a single node on 127.0.0.1, data in a
// temporary directory) and returns its base URL once it is ready.
func Weaviate(t testing.TB) string {
	t.Helper()
	prog := WeaviateProgram()
	if prog == "" {
		t.Skip("competitortest: weaviate-server not on PATH or in $(go env GOPATH)/bin: go install github.com/weaviate/weaviate/cmd/weaviate-server@v1.35.2 (about 2.5 minutes)")
	}
	dir := t.TempDir()
	port := FreePort(t)
	gossip, data := FreePort(t), FreePort(t)
	raft, raftRPC := FreePort(t), FreePort(t)
	grpcPort := FreePort(t)
	cmd := exec.Command(prog, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--scheme", "http")
	cmd.Env = append(os.Environ(),
		"PERSISTENCE_DATA_PATH="+dir,
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true",
		"DEFAULT_VECTORIZER_MODULE=none",
		"CLUSTER_HOSTNAME=m18",
		"CLUSTER_ADVERTISE_ADDR=127.0.0.1",
		"CLUSTER_BIND_ADDR=127.0.0.1",
		"CLUSTER_GOSSIP_BIND_PORT="+strconv.Itoa(gossip),
		"CLUSTER_DATA_BIND_PORT="+strconv.Itoa(data),
		"RAFT_PORT="+strconv.Itoa(raft),
		"RAFT_INTERNAL_RPC_PORT="+strconv.Itoa(raftRPC),
		"GRPC_PORT="+strconv.Itoa(grpcPort),
		"RAFT_BOOTSTRAP_EXPECT=1",
		"DISABLE_TELEMETRY=true",
		"LOG_LEVEL=warning",
		"QUERY_DEFAULTS_LIMIT=25",
	)
	logf, err := os.Create(filepath.Join(dir, "weaviate.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/.well-known/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(filepath.Join(dir, "weaviate.log"))
			t.Fatalf("weaviate-server not ready within 90 s at %s; log:\n%s", base, log)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WeaviateProgram returns the path of weaviate-server on PATH or in
// $(go env GOPATH)/bin, or "".
func WeaviateProgram() string {
	if p, err := exec.LookPath("weaviate-server"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = string(bytes.TrimSpace(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "weaviate-server")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// FreePort returns a loopback TCP port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func findProgram(name string, dirs []string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
