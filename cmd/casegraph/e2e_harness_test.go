//go:build unix

package main_test

// End-to-end tests of the casegraph binary: they build it once, run its
// subcommands as a user would (environment variables, flags, exit codes,
// output) and talk to `casegraph serve` over real HTTP.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
type syncBuffer = testserver.LockedBuffer

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

// serving is a running `casegraph serve` (or another command, spawned).
type serving struct {
	addr           string // serve's, as it logged it (waitReady); empty for another command
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	waitErr        error     // set before done is closed
	exitedAt       time.Time // set before done is closed
	// sent is what the test did to stop it (signal), empty while it did
	// nothing: a process that exits without it was stopped by something
	// else, which ended says.
	sent string
}

func (s *serving) base() string { return "http://" + s.addr }

func (s *serving) output() string {
	return fmt.Sprintf("--- stdout:\n%s\n--- stderr:\n%s", s.stdout, s.stderr)
}

// exited reports whether the process has exited, waiting up to d.
func (s *serving) exited(d time.Duration) bool {
	if d <= 0 {
		// Not a select beside time.After(0), which picks either when both
		// are ready: a process long gone was "still running".
		select {
		case <-s.done:
			return true
		default:
			return false
		}
	}
	select {
	case <-s.done:
		return true
	case <-time.After(d):
		return false
	}
}

// signal sends sig to the process and records that the test sent it
// (os.ErrProcessDone when it had exited: nothing sent).
func (s *serving) signal(sig os.Signal) error {
	err := s.cmd.Process.Signal(sig)
	if err == nil {
		s.sent = sig.String()
	}
	return err
}

// ended says how the process ended, for a failing test's message: its exit
// status and when, the signal the test had sent it, and why serve said it
// shut down. A server that exits 0 with no error was told to stop (serve
// logs "shutting down" with the signal); with no signal from the test, it
// came from outside the test (another process's kill).
func (s *serving) ended() string {
	if !s.exited(0) {
		return "still running"
	}
	how := fmt.Sprintf("exited at %s (%s)", s.exitedAt.Format("15:04:05.000"), s.cmd.ProcessState)
	if s.sent != "" {
		how += ", after the test signalled it (" + s.sent + ")"
	} else {
		how += ", the test having sent it no signal"
	}
	if rec, ok := s.logged("shutting down"); ok {
		how += fmt.Sprintf("; it logged %q (cause: %s)", rec.Msg(), rec.String("cause"))
	}
	return how
}

// logged returns the first record of serve's log (stdout) whose message is
// msg. Only whole lines count (the last may still be arriving), and lines
// that are not JSON are passed over (another command prints text there).
func (s *serving) logged(msg string) (testserver.LogRecord, bool) {
	out := s.stdout.String()
	for _, line := range strings.Split(out[:strings.LastIndexByte(out, '\n')+1], "\n") {
		var rec testserver.LogRecord
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg() == msg {
			return rec, true
		}
	}
	return nil, false
}

// waitUntil waits until ok(s) holds (something the process says), failing
// the test if it exits first.
func (s *serving) waitUntil(t *testing.T, what string, ok func(*serving) bool) {
	t.Helper()
	for !ok(s) {
		if s.exited(2 * time.Millisecond) {
			t.Fatalf("casegraph %s %s before it %s:\n%s", strings.Join(s.cmd.Args[1:], " "), s.ended(), what, s.output())
		}
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

// anyPort has serve listen on a loopback port the kernel picks, which
// waitReady reads from serve's log. An address the test picked
// (testserver.FreeAddr) was free only until serve listened on it: a
// sibling test's server could take it first, answer /readyz in its place,
// and the test then ran against that server.
const anyPort = "CASEGRAPH_ADDR=127.0.0.1:0"

// startServe starts `casegraph serve` on a loopback port and waits until
// /readyz answers 200. The process is killed at cleanup if still running;
// its output is printed if the test failed.
func startServe(t *testing.T, env []string, args ...string) *serving {
	t.Helper()
	s := spawn(t, append(append([]string{}, env...), anyPort), append([]string{"serve"}, args...)...)
	if err := s.waitReady(30 * time.Second); err != nil {
		t.Fatalf("casegraph serve did not become ready: %v\n%s", err, s.output())
	}
	return s
}

// spawn starts the binary with args and returns at once, for a test that
// stops it while it works (killed at cleanup if still running).
func spawn(t *testing.T, env []string, args ...string) *serving {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	s := &serving{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting casegraph serve: %v", err)
	}
	go func() {
		s.waitErr = cmd.Wait()
		s.exitedAt = time.Now()
		close(s.done)
	}()
	t.Cleanup(func() {
		if !s.exited(0) {
			_ = s.signal(os.Kill)
			<-s.done
		}
		if t.Failed() {
			t.Logf("casegraph %s %s:\n%s", strings.Join(args, " "), s.ended(), s.output())
		}
	})
	return s
}

// waitReady waits until serve has logged the address it listens on and
// /readyz there answers 200. Only the process's own "serving" line names
// the address: whatever answered elsewhere would not be this server.
func (s *serving) waitReady(within time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for {
		if s.exited(0) {
			return fmt.Errorf("serve %s", s.ended())
		}
		var err error
		if rec, ok := s.logged("serving"); ok {
			s.addr = rec.String("addr")
			var res *http.Response
			if res, err = client.Get(s.base() + "/readyz"); err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from /readyz within %v (serving at %q; last: %v)", within, s.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// terminate sends SIGTERM and fails the test unless serve exits 0 within
// the given time, saying it shuts down because of the signal.
func (s *serving) terminate(t *testing.T, within time.Duration) {
	t.Helper()
	err := s.signal(syscall.SIGTERM)
	if errors.Is(err, os.ErrProcessDone) {
		s.exited(10 * time.Second) // Wait returns once the output is read
		t.Fatalf("casegraph serve had %s, before the test's SIGTERM", s.ended())
	}
	if err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	if !s.exited(within) {
		t.Fatalf("casegraph serve still running %v after SIGTERM", within)
	}
	if code := s.exitCode(); code != 0 {
		t.Fatalf("casegraph serve %s; want exit 0 after SIGTERM", s.ended())
	}
	if rec, ok := s.logged("shutting down"); !ok || rec.String("cause") != "terminated signal received" {
		t.Errorf("casegraph serve, stopped by SIGTERM, does not log that it shuts down because of it (%v):\n%s", rec, s.stdout)
	}
}

// httpGet fetches path and returns status, headers and body.
func httpGet(t *testing.T, base, path string) (int, http.Header, []byte) {
	t.Helper()
	r := testserver.Send(t, testserver.Get(t, base, path))
	return r.Status, r.Header, r.Body
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
	r := testserver.Send(t, testserver.Post(t, base, token, query, nil))
	if r.Status != http.StatusOK || r.Top == nil {
		t.Fatalf("POST /graphql: status %d:\n%.2000s", r.Status, r.Body)
	}
	r.Decode(t, out)
	codes := r.Codes()
	if len(codes) > 0 {
		t.Logf("POST /graphql answered errors %v:\n%.2000s", codes, r.Body)
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

// checkGCPercent checks the GOGC the server at base runs with, as its
// /metrics says (go_gc_gogc_percent): serve's own setting on PostgreSQL,
// Go's default on SQLite (gc.go). A test run with GOGC or GOMEMLIMIT set
// passes them on to the server, which then keeps them: nothing to check.
func checkGCPercent(t *testing.T, base, want string) {
	t.Helper()
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	status, _, body := httpGet(t, base, "/metrics")
	m := regexp.MustCompile(`(?m)^go_gc_gogc_percent ([0-9]+)$`).FindSubmatch(body)
	if status != http.StatusOK || m == nil || string(m[1]) != want {
		t.Errorf("/metrics: status %d, go_gc_gogc_percent %q; want %s", status, m, want)
	}
}
