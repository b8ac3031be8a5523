//go:build unix

package main_test

// End-to-end tests of the casegraph binary: they build it once, run its
// subcommands as a user would (environment variables, flags, exit codes,
// output) and talk to `casegraph serve` over real HTTP.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds ./cmd/casegraph once per test run and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		buildDir, err = os.MkdirTemp("", "casegraph-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(buildDir, "casegraph")
		cmd := exec.Command(goTool, "build", "-o", binPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/casegraph: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// childEnv is the test process's environment without anything that
// configures casegraph, plus vars ("NAME=value").
func childEnv(vars ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "DATABASE_URL" || strings.HasPrefix(name, "CASEGRAPH_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, vars...)
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// result is a finished run of the binary.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("casegraph %s: exit %d\n--- stdout:\n%s\n--- stderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// run runs the binary to completion (at most a minute).
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		r.code = exit.ExitCode()
	default:
		t.Fatalf("running casegraph %s: %v (timed out: %v)\n%s", strings.Join(args, " "), err, ctx.Err() != nil, r)
	}
	return r
}

// mustRun runs the binary and fails the test unless it exits 0.
func mustRun(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("want exit 0:\n%s", r)
	}
	return r
}

// mustRefuse runs the binary and fails the test unless it exits non-zero
// and its stderr mentions every one of wants.
func mustRefuse(t *testing.T, env []string, wants []string, args ...string) result {
	t.Helper()
	r := run(t, env, args...)
	if r.code == 0 {
		t.Fatalf("want a non-zero exit:\n%s", r)
	}
	for _, w := range wants {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not mention %q:\n%s", w, r)
		}
	}
	return r
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// serving is a running `casegraph serve`.
type serving struct {
	addr           string
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	waitErr        error // set before done is closed
}

func (s *serving) base() string { return "http://" + s.addr }

func (s *serving) output() string {
	return fmt.Sprintf("--- serve stdout:\n%s\n--- serve stderr:\n%s", s.stdout, s.stderr)
}

// exited reports whether the process has exited, waiting up to d.
func (s *serving) exited(d time.Duration) bool {
	select {
	case <-s.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (s *serving) exitCode() int {
	var exit *exec.ExitError
	if errors.As(s.waitErr, &exit) {
		return exit.ExitCode()
	}
	if s.waitErr != nil {
		return -1
	}
	return 0
}

// startServe starts `casegraph serve` on a free loopback port and waits
// until /readyz answers 200. The process is killed at cleanup if still
// running; its output is printed if the test failed.
func startServe(t *testing.T, env []string, args ...string) *serving {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s := spawnServe(t, env, args...)
		err := s.waitReady(30 * time.Second)
		if err == nil {
			return s
		}
		// Another process may have taken the port between freeAddr and
		// serve: try another one.
		if attempt < 3 && strings.Contains(s.stderr.String(), "address already in use") {
			continue
		}
		t.Fatalf("casegraph serve did not become ready: %v\n%s", err, s.output())
	}
}

func spawnServe(t *testing.T, env []string, args ...string) *serving {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), append([]string{"serve"}, args...)...)
	cmd.Env = append(append([]string{}, env...), "CASEGRAPH_ADDR="+addr)
	cmd.Dir = t.TempDir()
	s := &serving{addr: addr, cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting casegraph serve: %v", err)
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if !s.exited(0) {
			_ = cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("casegraph serve on %s (exit %v):\n%s", addr, s.waitErr, s.output())
		}
	})
	return s
}

func (s *serving) waitReady(within time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("serve exited early: %v", s.waitErr)
		default:
		}
		res, err := client.Get(s.base() + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from /readyz within %v (last: %v)", within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// terminate sends SIGTERM and fails the test unless serve exits 0 within
// the given time.
func (s *serving) terminate(t *testing.T, within time.Duration) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	if !s.exited(within) {
		t.Fatalf("casegraph serve still running %v after SIGTERM", within)
	}
	if code := s.exitCode(); code != 0 {
		t.Fatalf("casegraph serve exited %d after SIGTERM (%v), want 0", code, s.waitErr)
	}
}

// httpGet fetches path and returns status, headers and body.
func httpGet(t *testing.T, base, path string) (int, http.Header, []byte) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, body
}

// graphQL posts query with token and decodes a clean response's data into
// out.
func graphQL(t *testing.T, base, token, query string, out any) {
	t.Helper()
	if codes := graphQLPartial(t, base, token, query, out); len(codes) > 0 {
		t.Fatalf("POST /graphql: errors %v", codes)
	}
}

// graphQLPartial posts query with token, decodes data into out and returns
// the codes of the errors, if any.
func graphQLPartial(t *testing.T, base, token, query string, out any) []string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Extensions struct{ Code string } `json:"extensions"`
		} `json:"errors"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &resp) != nil {
		t.Fatalf("POST /graphql: status %d:\n%.2000s", res.StatusCode, raw)
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		t.Fatalf("decoding data: %v\n%.2000s", err, raw)
	}
	var codes []string
	for _, e := range resp.Errors {
		codes = append(codes, e.Extensions.Code)
	}
	if len(codes) > 0 {
		t.Logf("POST /graphql answered errors %v:\n%.2000s", codes, raw)
	}
	return codes
}

// token runs `casegraph token` and returns the one line it prints.
func token(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := mustRun(t, env, append([]string{"token"}, args...)...)
	tok := strings.TrimSpace(r.stdout)
	if strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token does not print one JWT:\n%s", r)
	}
	return tok
}

var demoLoaded = regexp.MustCompile(`demo data loaded: (\d+) agencies, (\d+) cases, (\d+) victims`)

// seedDemo runs `casegraph seed --demo` and returns the number of cases it
// says it loaded.
func seedDemo(t *testing.T, env []string) int {
	t.Helper()
	before := time.Now().UTC()
	r := mustRun(t, env, "seed", "--demo")
	// Without --today the demo ends the day before the current date.
	ends := func(now time.Time) string { return " to " + now.AddDate(0, 0, -1).Format(time.DateOnly) + ")" }
	if !strings.Contains(r.stdout, ends(before)) && !strings.Contains(r.stdout, ends(time.Now().UTC())) {
		t.Errorf("seed --demo does not end the day before today (%s):\n%s", ends(before), r)
	}
	m := demoLoaded.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("seed --demo does not report what it loaded:\n%s", r)
	}
	agencies, _ := strconv.Atoi(m[1])
	cases, _ := strconv.Atoi(m[2])
	victims, _ := strconv.Atoi(m[3])
	if agencies == 0 || cases == 0 || victims == 0 {
		t.Fatalf("seed --demo loaded nothing:\n%s", r)
	}
	return cases
}

type casesData struct {
	Viewer struct {
		Subject string
		Agency  struct{ Code string }
		Roles   []string
	}
	Cases struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				Reference string
				Victims   struct{ TotalCount int }
			}
		}
	}
}

const casesQuery = `{
  viewer { subject agency { code } roles }
  cases(first: 5) { totalCount edges { node { reference victims { totalCount } } } }
}`

var caseReference = regexp.MustCompile(`^[A-Z]{3}-[0-9]{4}-[0-9]{4}$`)

// checkCases runs casesQuery and checks the demo data shows through it.
func checkCases(t *testing.T, base, tok, subject string, seeded int) {
	t.Helper()
	var d casesData
	graphQL(t, base, tok, casesQuery, &d)
	if d.Viewer.Subject != subject || d.Viewer.Agency.Code != "police-tirane" || len(d.Viewer.Roles) != 1 || d.Viewer.Roles[0] != "investigator" {
		t.Errorf("viewer = %+v, want %s at police-tirane as investigator", d.Viewer, subject)
	}
	if d.Cases.TotalCount <= 0 || d.Cases.TotalCount > seeded {
		t.Errorf("cases.totalCount = %d, want 1..%d (the seeded cases)", d.Cases.TotalCount, seeded)
	}
	if len(d.Cases.Edges) != min(5, d.Cases.TotalCount) {
		t.Errorf("cases(first: 5) returned %d edges of %d", len(d.Cases.Edges), d.Cases.TotalCount)
	}
	victims := 0
	for _, e := range d.Cases.Edges {
		if !caseReference.MatchString(e.Node.Reference) {
			t.Errorf("case reference %q does not look like TIR-2024-0042", e.Node.Reference)
		}
		victims += e.Node.Victims.TotalCount
	}
	if victims == 0 {
		t.Errorf("the first five demo cases have no victims: %+v", d.Cases.Edges)
	}
}

// ---------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------

func TestE2ESQLite(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := childEnv("CASEGRAPH_DATA_DIR=" + dataDir)

	seeded := seedDemo(t, env)
	if _, err := os.Stat(filepath.Join(dataDir, "casegraph.db")); err != nil {
		t.Fatalf("seed --demo did not create the embedded database under CASEGRAPH_DATA_DIR: %v", err)
	}
	mustRefuse(t, env, []string{"already has cases"}, "seed", "--demo")
	if r := mustRun(t, env, "migrate", "--status"); !strings.Contains(r.stdout, "0 pending migrations") {
		t.Errorf("migrate --status after seed:\n%s", r)
	}

	tok := token(t, env, "--subject", "e2e", "--agency", "police-tirane", "--role", "investigator")
	s := startServe(t, env)
	base := s.base()

	t.Run("graphql", func(t *testing.T) {
		checkCases(t, base, tok, "e2e", seeded)
	})

	t.Run("graphql refuses no token", func(t *testing.T) {
		res, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"UNAUTHENTICATED"`) {
			t.Fatalf("status %d:\n%s", res.StatusCode, body)
		}
	})

	t.Run("graphiql", func(t *testing.T) {
		status, h, body := httpGet(t, base, "/")
		if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /: status %d, Content-Type %q", status, h.Get("Content-Type"))
		}
		page := string(body)
		if !strings.Contains(page, `id="graphiql"`) || !strings.Contains(page, `data-endpoint="/graphql"`) {
			t.Errorf("GET / is not the GraphiQL page:\n%s", page)
		}
		if h.Get("Content-Security-Policy") == "" {
			t.Error("GraphiQL page without Content-Security-Policy")
		}
		// Every script comes from the binary itself, not a CDN.
		srcs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
		scripts := 0
		for _, m := range srcs {
			src := m[1]
			if strings.HasPrefix(src, "data:") {
				continue
			}
			if !strings.HasPrefix(src, "/graphiql/") {
				t.Errorf("the page loads %q from elsewhere than the binary", src)
				continue
			}
			status, _, asset := httpGet(t, base, src)
			if status != http.StatusOK || len(asset) == 0 {
				t.Errorf("GET %s: status %d, %d bytes", src, status, len(asset))
			}
			scripts++
		}
		if scripts < 4 {
			t.Errorf("the page links %d embedded assets, want the GraphiQL scripts and stylesheet", scripts)
		}
	})

	t.Run("healthz and readyz", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			if status, _, body := httpGet(t, base, p); status != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
				t.Errorf("GET %s: status %d: %s", p, status, body)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		status, _, body := httpGet(t, base, "/metrics")
		if status != http.StatusOK {
			t.Fatalf("GET /metrics: status %d", status)
		}
		for _, want := range []string{
			"casegraph_http_requests_total",
			`casegraph_http_requests_total{method="POST",route="/graphql",status="200"}`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	t.Run("logs are JSON and carry no victim names", func(t *testing.T) {
		// A prosecutor reads the names of the victims of their office's
		// proceedings; other victims' names are FORBIDDEN.
		prosecutor := token(t, env, "--subject", "e2e-prosecutor", "--agency", "prosecution-tirane", "--role", "prosecutor")
		var d struct {
			Victims struct {
				Edges []struct{ Node struct{ LegalName *string } }
			}
		}
		for _, code := range graphQLPartial(t, base, prosecutor, `{ victims(first: 50) { edges { node { legalName } } } }`, &d) {
			if code != "FORBIDDEN" {
				t.Fatalf("reading victims' names: error %s", code)
			}
		}
		names := 0
		for _, e := range d.Victims.Edges {
			if e.Node.LegalName == nil || *e.Node.LegalName == "" {
				continue
			}
			names++
			if out := s.stdout.String() + s.stderr.String(); strings.Contains(out, *e.Node.LegalName) {
				t.Errorf("the server's output holds victim name %q", *e.Node.LegalName)
			}
		}
		if names == 0 {
			t.Fatal("the demo victims have no legal names to look for")
		}
		lines := 0
		sc := bufio.NewScanner(strings.NewReader(s.stdout.String()))
		for sc.Scan() {
			var v map[string]any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Errorf("stdout line is not JSON: %q", sc.Text())
			}
			lines++
		}
		if lines == 0 || !strings.Contains(s.stdout.String(), `"msg":"serving"`) {
			t.Errorf("no JSON log lines on stdout:\n%s", s.stdout)
		}
	})

	// A request in flight when SIGTERM arrives still completes, and the
	// process then exits 0.
	t.Run("graceful shutdown", func(t *testing.T) {
		f := testserver.StartInflight(t, s.addr, tok, `{ viewer { subject } cases(first: 1) { totalCount } }`)
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitRefused(t, s.addr, 10*time.Second)
		if s.exited(0) {
			t.Fatalf("serve exited (%v) with a request in flight", s.waitErr)
		}
		status, body := f.Finish(t)
		if status != http.StatusOK || !strings.Contains(string(body), `"subject":"e2e"`) {
			t.Fatalf("the in-flight request did not complete: status %d:\n%s", status, body)
		}
		if !s.exited(10 * time.Second) {
			t.Fatal("serve still running 10s after SIGTERM and its last request")
		}
		if code := s.exitCode(); code != 0 {
			t.Fatalf("serve exited %d after SIGTERM, want 0", code)
		}
	})
}

// A plain SIGTERM with nothing in flight: prompt exit 0. Also
// --seed-demo-if-empty fills an empty database.
func TestE2EServeSeedIfEmptyAndSIGTERM(t *testing.T) {
	t.Parallel()
	env := childEnv("CASEGRAPH_DATA_DIR=" + filepath.Join(t.TempDir(), "data"))
	s := startServe(t, env, "--seed-demo-if-empty")
	tok := token(t, env, "--subject", "e2e-2", "--agency", "police-tirane", "--role", "investigator")
	checkCases(t, s.base(), tok, "e2e-2", 1<<30)
	// The banner names the address it listens on.
	if !strings.Contains(s.stderr.String(), "http://"+s.addr+"/") {
		t.Errorf("the banner does not name http://%s/:\n%s", s.addr, s.stderr)
	}
	s.terminate(t, 5*time.Second)
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

// postgresEnv creates a database for t on the test PostgreSQL server and
// returns the binary's environment for it, and the same in development mode
// (the server signs and accepts its own tokens).
func postgresEnv(t *testing.T) (env, dev []string) {
	t.Helper()
	dbURL := testdb.CreatePostgres(t)
	binary(t)
	env = childEnv("DATABASE_URL="+dbURL, "CASEGRAPH_DATA_DIR="+filepath.Join(t.TempDir(), "data"))
	return env, append(append([]string{}, env...), "CASEGRAPH_DEV=1")
}

func TestE2EPostgres(t *testing.T) {
	t.Parallel()
	env, dev := postgresEnv(t)

	if r := mustRun(t, env, "migrate", "--status"); !regexp.MustCompile(`^[1-9][0-9]* pending migrations`).MatchString(r.stdout) {
		t.Errorf("migrate --status on an empty database:\n%s", r)
	}
	// serve and seed refuse an unmigrated database, naming the fix.
	mustRefuse(t, append(dev, "CASEGRAPH_ADDR="+freeAddr(t)), []string{"pending migrations", "casegraph migrate"}, "serve")
	mustRefuse(t, dev, []string{"casegraph migrate"}, "seed", "--demo")

	if r := mustRun(t, env, "migrate"); !regexp.MustCompile(`applied [1-9][0-9]* migrations`).MatchString(r.stdout) {
		t.Errorf("migrate:\n%s", r)
	}
	if r := mustRun(t, env, "migrate", "--status"); !strings.Contains(r.stdout, "0 pending migrations") {
		t.Errorf("migrate --status after migrate:\n%s", r)
	}
	if r := mustRun(t, env, "migrate"); !strings.Contains(r.stdout, "applied 0 migrations") {
		t.Errorf("a second migrate:\n%s", r)
	}

	// Development tokens are off by default on PostgreSQL: without an OIDC
	// issuer, serve refuses to start.
	r := mustRefuse(t, append(env, "CASEGRAPH_ADDR="+freeAddr(t)), []string{"CASEGRAPH_OIDC_ISSUER", "CASEGRAPH_DEV=1"}, "serve")
	if strings.Contains(r.stderr, "Bearer ") {
		t.Errorf("serve printed development tokens although they are off:\n%s", r)
	}

	seeded := seedDemo(t, env)
	// The server makes the signing key; a token is minted with it.
	s := startServe(t, dev)
	tok := token(t, dev, "--subject", "e2e-pg", "--agency", "police-tirane", "--role", "investigator")
	if !strings.Contains(s.stdout.String(), `"database":"postgres"`) {
		t.Errorf("serve does not say it runs on PostgreSQL:\n%s", s.stdout)
	}
	if strings.Contains(s.stdout.String()+s.stderr.String(), "postgres@") {
		t.Errorf("serve prints the database URL with its user:\n%s", s.output())
	}
	checkCases(t, s.base(), tok, "e2e-pg", seeded)
	s.terminate(t, 10*time.Second)
}

// ---------------------------------------------------------------------------
// Refusals of the command line
// ---------------------------------------------------------------------------

func TestE2ETokenRefusals(t *testing.T) {
	t.Parallel()
	env := childEnv("CASEGRAPH_DATA_DIR=" + filepath.Join(t.TempDir(), "data"))
	mustRun(t, env, "migrate") // sets the data directory up, signing key included
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown role", []string{"--subject", "s", "--agency", "police-tirane", "--role", "wizard"}, `unknown role "wizard"`},
		{"no subject", []string{"--agency", "police-tirane", "--role", "investigator"}, "subject"},
		{"blank subject", []string{"--subject", "  ", "--agency", "police-tirane", "--role", "investigator"}, "subject"},
		{"no agency", []string{"--subject", "s", "--role", "investigator"}, "agency"},
		{"no role", []string{"--subject", "s", "--agency", "police-tirane"}, "role"},
		{"ttl beyond the maximum", []string{"--subject", "s", "--agency", "police-tirane", "--role", "investigator", "--ttl", "1000h"}, "lifetime"},
		{"negative ttl", []string{"--subject", "s", "--agency", "police-tirane", "--role", "investigator", "--ttl", "-1h"}, "lifetime"},
		{"unknown flag", []string{"--subject", "s", "--agency", "police-tirane", "--role", "investigator", "--admin"}, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRefuse(t, env, []string{tc.want}, append([]string{"token"}, tc.args...)...)
			if strings.Count(strings.TrimSpace(r.stdout), ".") == 2 {
				t.Errorf("a refused token command printed a token:\n%s", r)
			}
		})
	}
	// Two roles are fine.
	token(t, env, "--subject", "s", "--agency", "police-tirane", "--role", "investigator", "--role", "analyst")
}

// Run from the wrong folder, a command must not quietly make a second
// database or signing key: every command says which files it uses (as
// absolute paths, on stderr), only serve, migrate and seed create them, and
// token, policy and audit refuse a data directory without them.
func TestE2EDataDirectory(t *testing.T) {
	t.Parallel()
	top := t.TempDir()
	dataDir := filepath.Join(top, "data")
	dbFile := filepath.Join(dataDir, "casegraph.db")
	keyFile := filepath.Join(dataDir, "dev-signing-key.pem")
	env := childEnv("CASEGRAPH_DATA_DIR=" + dataDir)
	tokenArgs := []string{"token", "--subject", "s", "--agency", "police-tirane", "--role", "investigator"}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"token", tokenArgs, "no development signing key at " + keyFile},
		{"policy", []string{"policy", "history"}, "no CaseGraph database at " + dbFile},
		{"audit verify", []string{"audit", "verify"}, "no CaseGraph database at " + dbFile},
		{"audit export", []string{"audit", "export", "--since", "2026-01-01"}, "no CaseGraph database at " + dbFile},
		{"migrate --status", []string{"migrate", "--status"}, "no CaseGraph database at " + dbFile},
	} {
		t.Run("Refused/"+tc.name, func(t *testing.T) {
			r := mustRefuse(t, env, []string{tc.want, "CASEGRAPH_DATA_DIR"}, tc.args...)
			if strings.TrimSpace(r.stdout) != "" {
				t.Errorf("a refused command printed to stdout:\n%s", r)
			}
			for _, f := range []string{dbFile, keyFile} {
				if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a refused %s left %s behind (%v)", tc.name, f, err)
				}
			}
		})
	}

	t.Run("TokenWithDevelopmentTokensOff", func(t *testing.T) {
		off := childEnv("CASEGRAPH_DATA_DIR="+dataDir, "DATABASE_URL=postgres://nobody@127.0.0.1:1/none")
		mustRefuse(t, off, []string{"development tokens are off", "CASEGRAPH_DEV=1"}, tokenArgs...)
	})

	r := mustRun(t, env, "migrate")
	for _, want := range []string{"creating a new embedded database at " + dbFile, "created a new development signing key at " + keyFile} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the first migrate does not say %q:\n%s", want, r)
		}
	}
	r = mustRun(t, env, "seed", "--agencies")
	for _, want := range []string{"using the embedded database at " + dbFile, "using the development signing key at " + keyFile} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("seed does not say %q:\n%s", want, r)
		}
	}
	r = mustRun(t, env, tokenArgs...)
	if !strings.Contains(r.stderr, "signing with the development key at "+keyFile) {
		t.Errorf("token does not say which key it signed with:\n%s", r)
	}
	mustRun(t, env, "policy", "history")

	// A relative CASEGRAPH_DATA_DIR is named by its absolute path, which
	// shows the folder it was taken from.
	r = mustRefuse(t, childEnv("CASEGRAPH_DATA_DIR=data"), []string{"no development signing key at /"}, tokenArgs...)
	if strings.Contains(r.stderr, "at data/") {
		t.Errorf("the refusal names a relative path:\n%s", r)
	}
}

func TestE2EConfigRefusals(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	base := childEnv("CASEGRAPH_DATA_DIR="+dataDir, "CASEGRAPH_ADDR="+freeAddr(t))
	with := func(vars ...string) []string { return append(append([]string{}, base...), vars...) }
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no command", base, nil, "Usage:"},
		{"unknown command", base, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"CASEGRAPH_DEV not a boolean", with("CASEGRAPH_DEV=maybe"), []string{"serve"}, "CASEGRAPH_DEV"},
		{"CASEGRAPH_RATE_LIMIT not a number", with("CASEGRAPH_RATE_LIMIT=lots"), []string{"serve"}, "CASEGRAPH_RATE_LIMIT"},
		{"CASEGRAPH_LOG_LEVEL unknown", with("CASEGRAPH_LOG_LEVEL=chatty"), []string{"serve"}, "CASEGRAPH_LOG_LEVEL"},
		{"DATABASE_URL not postgres", with("DATABASE_URL=mysql://x"), []string{"migrate"}, "DATABASE_URL"},
		{"dev tokens turned off on SQLite without OIDC", with("CASEGRAPH_DEV=0"), []string{"serve"}, "CASEGRAPH_OIDC_ISSUER"},
		{"seed needs a mode", base, []string{"seed"}, "--demo or --agencies"},
		{"seed --today not a date", base, []string{"seed", "--demo", "--today", "14/09/2026"}, "--today must be a date like"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustRefuse(t, tc.env, []string{tc.want}, tc.args...)
		})
	}
	if r := mustRun(t, base, "help"); !strings.Contains(r.stdout, "casegraph serve") {
		t.Errorf("help:\n%s", r)
	}
}

// ---------------------------------------------------------------------------
// A request held in flight
// ---------------------------------------------------------------------------

// waitRefused waits until addr refuses connections (the server has closed
// its listener, i.e. shutdown has begun).
func waitRefused(t *testing.T, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections %v after SIGTERM", addr, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestE2EAuditTwoServers runs two `casegraph serve` processes on one
// PostgreSQL database, reads victims' identity through both at once, and
// checks with `casegraph audit verify` and `audit export` that their events
// make one unbroken chain holding every request.
func TestE2EAuditTwoServers(t *testing.T) {
	t.Parallel()
	env, dev := postgresEnv(t)
	mustRun(t, dev, "migrate") // in development mode, it makes the signing key
	seedDemo(t, env)
	// Both servers sign and accept tokens with the key in the shared data
	// directory.
	tok := token(t, dev, "--subject", "e2e-audit", "--agency", "prosecution-general", "--role", "prosecutor")
	servers := []*serving{startServe(t, dev), startServe(t, dev)}

	const perServer, workers = 12, 4
	const query = `{ cases(first: 20) { edges { node { victims(first: 5) { edges { node { pseudonym legalName healthNotes } } } } } } }`
	var wg sync.WaitGroup
	failures := make(chan string, 2*perServer)
	for _, s := range servers {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < perServer; i += workers {
					if err := postQuery(s.base(), tok, query); err != nil {
						failures <- err.Error()
					}
				}
			}()
		}
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	for _, s := range servers {
		s.terminate(t, 10*time.Second)
	}

	r := mustRun(t, env, "audit", "verify")
	m := regexp.MustCompile(`^OK: (\d+) events verify`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("audit verify:\n%s", r)
	}
	verified, _ := strconv.Atoi(m[1])
	export := mustRun(t, env, "audit", "export", "--since", "2000-01-01", "--format", "jsonl")
	lines := strings.Split(strings.TrimSpace(export.stdout), "\n")
	requests := map[string]bool{}
	for i, l := range lines {
		var ev struct {
			Seq       int
			RequestID string
			Kind      string
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("export line %d: %v\n%s", i+1, err, l)
		}
		if ev.Seq != i+1 {
			t.Fatalf("export line %d has seq %d: the chain has a gap or is out of order", i+1, ev.Seq)
		}
		if ev.Kind == "FIELD_ACCESS" {
			requests[ev.RequestID] = true
		}
	}
	if len(lines) != verified || verified == 0 {
		t.Errorf("export holds %d events, verify checked %d", len(lines), verified)
	}
	if len(requests) != 2*perServer {
		t.Errorf("%d requests left field events, want %d (one record per request, from both servers)", len(requests), 2*perServer)
	}
}

// postQuery posts query with token and wants a 200 with data; safe to call
// from several goroutines (it reports instead of failing the test).
func postQuery(base, token, query string) error {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"cases":{"edges":[{`)) || bytes.Contains(raw, []byte("AUDIT_UNAVAILABLE")) {
		return fmt.Errorf("POST %s/graphql: status %d: %.500s", base, res.StatusCode, raw)
	}
	return nil
}
