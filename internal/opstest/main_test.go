package opstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The version and commit stamped into the test binary, as `make build` and
// the Dockerfile do with -ldflags.
const (
	buildVersion = "1.2.3"
	buildCommit  = "abc"
)

// binary is the taskmind executable built by TestMain; empty under -short.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(buildAndRun(m))
}

// buildAndRun builds the binary once for every test: each test then runs
// it as a process, exactly as it ships (static, -trimpath, version ldflags).
func buildAndRun(m *testing.M) int {
	if testing.Short() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "taskmind-opstest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "opstest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// go test puts its own toolchain first on PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "opstest: the go command is not on PATH:", err)
		return 1
	}
	out := filepath.Join(dir, "taskmind")
	cmd := exec.Command(goTool, "build", "-trimpath",
		"-ldflags", fmt.Sprintf("-X main.version=%s -X main.commit=%s", buildVersion, buildCommit),
		"-o", out, "github.com/taskmind/taskmind")
	// CGO_ENABLED=0 as in the Dockerfile: the empty-root test needs a
	// binary that loads no shared library.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "opstest: building taskmind: %v\n%s", err, b)
		return 1
	}
	binary = out
	return m.Run()
}

// requireBinary skips a test under -short, where TestMain builds nothing.
func requireBinary(t *testing.T) {
	t.Helper()
	if binary == "" {
		t.Skip("-short: the operations tests run the real binary")
	}
}

// freePort returns a loopback port that was free a moment ago. Taskmind
// refuses PORT=0, so the test has to choose; startServer retries if another
// process takes the port in between.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a child process with its combined output and exit status.
type process struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // cmd.Wait's result, set before exited closes
}

func startProcess(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(15 * time.Second)
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(cmd.Path), tail(p.out.String(), 8000))
		}
	})
	return p
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits, killing the process if it outlives grace.
func (p *process) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// exitCode waits for the process to end and returns its exit status.
func (p *process) exitCode(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("got a process still running after %v, want it to have exited", timeout)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("waiting for the process: %v", p.err)
	}
	return 0
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// server is a running `taskmind serve`.
type server struct {
	*process
	URL string
	env []string // the environment it runs with, reused by CLI commands
}

// startServer runs the binary on a free loopback port with an SQLite file
// in a fresh data folder, unless env says otherwise, and waits until
// /healthz answers. The environment is built from scratch so that a
// developer's own DATABASE_URL or TASKMIND_* settings never leak in.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	dataDir := t.TempDir()
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		vars := map[string]string{
			"PORT":                 strconv.Itoa(port),
			"TASKMIND_LISTEN_ADDR": "127.0.0.1",
			"TASKMIND_DATA_DIR":    dataDir,
			"TASKMIND_LOG_FORMAT":  "json",
		}
		for k, v := range env {
			vars[k] = v
		}
		s := &server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), env: environ(vars)}
		cmd := exec.Command(binary, "serve")
		cmd.Env = s.env
		s.process = startProcess(t, cmd)
		err := waitReady(s.URL, s.process, 60*time.Second)
		if err == nil {
			return s
		}
		if attempt < 3 && strings.Contains(s.out.String(), "address already in use") {
			continue
		}
		t.Fatalf("server did not become healthy: %v\n%s", err, tail(s.out.String(), 4000))
	}
}

func environ(vars map[string]string) []string {
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// waitReady polls /readyz until it answers 200 (the database is up and the
// built-in model warm) or the process exits.
func waitReady(base string, p *process, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !p.running() {
			return fmt.Errorf("process exited: %v", p.err)
		}
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from %s/readyz within %v", base, timeout)
}

// cliResult is what a command-line run printed and how it ended.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary to completion with env and args.
func runCLI(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running taskmind %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// firstRunEmail is the admin the server creates when no sign-in provider
// is configured (see printFirstRunLink in the main package).
const firstRunEmail = "admin@localhost"

// createToken makes an API token for the first-run admin with the CLI, as
// an operator would for a script.
func (s *server) createToken(t *testing.T, name string) string {
	t.Helper()
	r := runCLI(t, s.env, "token", "create", "--email", firstRunEmail, "--name", name)
	tok := strings.TrimSpace(r.stdout)
	if r.code != 0 || tok == "" || strings.ContainsAny(tok, " \n") {
		t.Fatalf("taskmind token create: got exit %d, stdout %q, stderr %q; want exit 0 and one token", r.code, r.stdout, r.stderr)
	}
	return tok
}

// loginLinkToken extracts the token of a sign-in link printed by the server
// or by `taskmind login-link`.
var loginLinkToken = regexp.MustCompile(`/auth/link\?token=([^\s"]+)`)

// gqlResponse is a GraphQL response with its error codes.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

// graphql posts one operation and decodes the answer; header may carry an
// Authorization or Cookie value.
func graphql(client *http.Client, base string, header http.Header, query string, vars map[string]any) (int, gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return 0, gqlResponse{}, err
	}
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return 0, gqlResponse{}, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, gqlResponse{}, err
	}
	defer resp.Body.Close()
	var r gqlResponse
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return resp.StatusCode, r, fmt.Errorf("decoding %q: %w", b, err)
	}
	return resp.StatusCode, r, nil
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// request sends one request and returns the status and body.
func request(client *http.Client, method, url string, header http.Header, body string) (int, string, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, "", err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
