//go:build unix

package main_test

// `casegraph serve` binds its addresses before it migrates the database
// and loads the demo data, and answers from that moment as a server that
// is starting (server.Start): /healthz alive, /readyz 503 "starting",
// /graphql and the rest 503 with Retry-After and UNAVAILABLE, /metrics
// the process's own. Until 2026-12-07 (twenty-third session) a
// connection then waited in the kernel's listen queue: a request hung and
// a probe timed out. These tests hold the start-up the way the world can:
// a transaction of the test's own holds the lock the migration or the
// demo load needs.

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testserver"
)

// waitStarting waits until serve logs that it is starting, and returns the
// addresses that line names: the main one, and the metrics listener's
// (empty without one). It fails the test if serve exits first.
func (s *serving) waitStarting(t *testing.T) (addr, metricsAddr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if rec, ok := s.logged("starting"); ok {
			return rec.String("addr"), rec.String("metrics_addr")
		}
		if s.exited(20 * time.Millisecond) {
			t.Fatalf("serve %s before it said it is starting:\n%s", s.ended(), s.output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not say it is starting within a minute:\n%s", s.output())
		}
	}
}

// ask sends one request to base and reads its testserver.Answer; a request that gets
// none within 5 s fails the test (before 2026-12-07, every request sent
// while serve started).
func ask(t *testing.T, method, url string, header map[string]string, body string) testserver.Answer {
	t.Helper()
	a, err := testserver.Exchange(&http.Client{Timeout: 5 * time.Second}, method, url, header, body)
	if err != nil {
		t.Fatalf("%s %s while serve starts: %v", method, url, err)
	}
	return a
}

// checkStarting checks, byte for byte, what serve at base answers while it
// starts.
func checkStarting(t *testing.T, base string) {
	t.Helper()
	postJSON := map[string]string{"Content-Type": "application/json"}
	for _, c := range []struct {
		what, method, path string
		header             map[string]string
		body               string
		status             int
		contentType        string
		want               string
		retryAfter         string
	}{
		{"liveness", http.MethodGet, "/healthz", nil, "", http.StatusOK, "application/json", `{"status":"ok"}` + "\n", ""},
		{"readiness", http.MethodGet, "/readyz", nil, "", http.StatusServiceUnavailable, "application/json", testserver.StartingReadiness, ""},
		{"a query", http.MethodPost, "/graphql", postJSON, `{"query":"{ viewer { subject } }"}`,
			http.StatusServiceUnavailable, "application/json; charset=utf-8", testserver.StartingError, "1"},
		{"a query asking for application/graphql-response+json", http.MethodPost, "/graphql",
			map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json, application/json;q=0.9"},
			`{"query":"{ viewer { subject } }"}`, http.StatusServiceUnavailable, "application/graphql-response+json; charset=utf-8", testserver.StartingError, "1"},
		{"a query over GET", http.MethodGet, "/graphql?query=%7B__typename%7D", nil, "",
			http.StatusServiceUnavailable, "application/json; charset=utf-8", testserver.StartingError, "1"},
		{"GraphiQL", http.MethodGet, "/", nil, "", http.StatusServiceUnavailable, "application/json", testserver.StartingError, "1"},
	} {
		a := ask(t, c.method, base+c.path, c.header, c.body)
		if a.Status != c.status || a.Header.Get("Content-Type") != c.contentType || a.Body != c.want || a.Header.Get("Retry-After") != c.retryAfter {
			t.Errorf("%s (%s %s) while serve starts:\n got %s\nwant %d %s Retry-After=%q %q", c.what, c.method, c.path, a, c.status, c.contentType, c.retryAfter, c.want)
		}
		if a.Header.Get("X-Content-Type-Options") != "nosniff" || a.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s while serve starts lacks the security headers: %v", c.what, a.Header)
		}
	}
}

// keptAlive is a connection the test holds open across the switch from
// the starting answers to the server's.
type keptAlive struct {
	conn net.Conn
	r    *bufio.Reader
}

func keepAlive(t *testing.T, addr string) *keptAlive {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keptAlive{conn: c, r: bufio.NewReader(c)}
}

// readyz asks /readyz on the connection and returns the status, failing
// the test if the server closed it or answers that it will.
func (k *keptAlive) readyz(t *testing.T) int {
	t.Helper()
	_ = k.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(k.conn, "GET /readyz HTTP/1.1\r\nHost: casegraph\r\n\r\n"); err != nil {
		t.Fatalf("a connection kept alive: %v", err)
	}
	res, err := http.ReadResponse(k.r, nil)
	if err != nil {
		t.Fatalf("a connection kept alive got no testserver.Answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.Close {
		t.Fatalf("/readyz (%d) closes the connection", res.StatusCode)
	}
	return res.StatusCode
}

// hammer sends requests to serve without a pause while it switches from
// its starting answers to the server's, on connections kept alive and on
// new ones, and records every testserver.Answer that is neither.
type hammer struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	wrong    []string
	starting int
	served   [4]int // by client
}

// crossTheSwitch lets serve at addr, held starting, go on (release)
// while clients keep asking (startHammer), and checks that it comes to
// serve within the time given on the same address, every request across
// the switch answered, and the connection kept from the start-up alive.
func crossTheSwitch(t *testing.T, s *serving, addr string, kept *keptAlive, release func(), within time.Duration) {
	t.Helper()
	h := startHammer("http://" + addr)
	time.Sleep(100 * time.Millisecond) // a few starting answers first
	release()
	if err := s.waitReady(within); err != nil {
		t.Fatalf("serve did not become ready once the lock was let go: %v\n%s", err, s.output())
	}
	h.finish(t)
	if s.addr != addr {
		t.Errorf("serve serves at %s, having started at %s", s.addr, addr)
	}
	if status := kept.readyz(t); status != http.StatusOK {
		t.Errorf("/readyz on the connection kept alive from the start-up: %d, want 200", status)
	}
}

func startHammer(base string) *hammer {
	h := &hammer{stop: make(chan struct{})}
	for i := range len(h.served) {
		client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: i%2 == 1}}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer client.CloseIdleConnections()
			for n := 0; ; n++ {
				select {
				case <-h.stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				path, method, body := "/readyz", http.MethodGet, ""
				if n%2 == 1 {
					path, method, body = "/graphql", http.MethodPost, `{"query":"{ viewer { subject } }"}`
				}
				a, err := testserver.Exchange(client, method, base+path, map[string]string{"Content-Type": "application/json"}, body)
				h.record(i, path, a, err)
			}
		}()
	}
	return h
}

// record sorts one testserver.Answer: the starting one, the server's (/readyz ready,
// /graphql refusing the request without a token), or wrong.
func (h *hammer) record(client int, path string, a testserver.Answer, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil:
		h.wrong = append(h.wrong, fmt.Sprintf("%s: %v", path, err))
	case path == "/readyz" && a.Status == http.StatusServiceUnavailable && a.Body == testserver.StartingReadiness,
		path == "/graphql" && a.Status == http.StatusServiceUnavailable && a.Body == testserver.StartingError:
		h.starting++
	case path == "/readyz" && a.Status == http.StatusOK,
		path == "/graphql" && a.Status == http.StatusUnauthorized:
		h.served[client]++
	default:
		h.wrong = append(h.wrong, fmt.Sprintf("%s: %s", path, a))
	}
}

// finish waits until every client has had a few of the server's answers,
// stops them, and fails the test on any testserver.Answer that was neither the
// starting one nor the server's.
func (h *hammer) finish(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h.mu.Lock()
		enough := true
		for _, n := range h.served {
			enough = enough && n >= 4
		}
		h.mu.Unlock()
		if enough || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(h.stop)
	h.wg.Wait()
	t.Logf("across the switch: %d starting answers, %v of the server's by client", h.starting, h.served)
	if len(h.wrong) > 0 {
		t.Errorf("%d requests across the switch got neither the starting testserver.Answer nor the server's, first: %s", len(h.wrong), h.wrong[0])
	}
	if h.starting == 0 {
		t.Error("no request got the starting testserver.Answer: the switch was not crossed")
	}
}

// holdSQLite takes the write lock of the embedded database of dataDir (in
// WAL mode, as serve keeps it) and returns what lets it go: until then
// serve's migration waits for it (SQLite's busy timeout, 10 s).
func holdSQLite(t *testing.T, dataDir string) (release func()) {
	t.Helper()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "casegraph.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Error(err)
			}
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// scrape reads /metrics at addr with token (none when empty).
func scrape(t *testing.T, addr, token string) testserver.Answer {
	t.Helper()
	header := map[string]string{}
	if token != "" {
		header["Authorization"] = "Bearer " + token
	}
	return ask(t, http.MethodGet, "http://"+addr+"/metrics", header, "")
}

// While the embedded database's migration waits, serve answers as a
// server that is starting, on its address and its metrics address; once
// the migration has its lock (and the demo is loaded, as make run does),
// the same address serves, a connection kept alive across the switch
// carries on, and no request sent across it is dropped.
func TestServeAnswersWhileItStarts(t *testing.T) {
	t.Parallel()
	const metricsToken = "e2e-start-scrape"
	dataDir := filepath.Join(t.TempDir(), "data")
	release := holdSQLite(t, dataDir)
	env := childEnv("CASEGRAPH_DATA_DIR="+dataDir, "CASEGRAPH_METRICS_ADDR=127.0.0.1:0", "CASEGRAPH_METRICS_TOKEN="+metricsToken,
		"CASEGRAPH_RATE_LIMIT=0") // the hammer's pace is no client's
	s := spawn(t, append(env, anyPort), "serve", "--seed-demo-if-empty") // as make run
	addr, metricsAddr := s.waitStarting(t)
	base := "http://" + addr

	checkStarting(t, base)
	if a := scrape(t, metricsAddr, metricsToken); a.Status != http.StatusOK || !strings.Contains(a.Body, "go_goroutines") ||
		!strings.Contains(a.Body, "process_resident_memory_bytes") || strings.Contains(a.Body, "casegraph_") {
		t.Errorf("/metrics while serve starts: %d, want 200 with the process's metrics and none of the server's:\n%.1000s", a.Status, a.Body)
	}
	if a := scrape(t, metricsAddr, ""); a.Status != http.StatusUnauthorized || strings.Contains(a.Body, "go_goroutines") {
		t.Errorf("/metrics without the token while serve starts: %s, want 401", a)
	}
	if a := ask(t, http.MethodGet, base+"/metrics", nil, ""); a.Status != http.StatusServiceUnavailable {
		t.Errorf("/metrics on CASEGRAPH_ADDR while serve starts (it has its own address): %s, want 503", a)
	}
	kept := keepAlive(t, addr)
	if status := kept.readyz(t); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a kept connection while serve starts: %d, want 503", status)
	}
	if _, ok := s.logged("serving"); ok {
		t.Fatalf("serve served while the test held the database's lock: the start-up was not held\n%s", s.output())
	}

	crossTheSwitch(t, s, addr, kept, release, 30*time.Second)
	if a := ask(t, http.MethodGet, base+"/readyz", nil, ""); a.Status != http.StatusOK || a.Body != `{"database":"ok","policy":"current","status":"ok"}`+"\n" {
		t.Errorf("/readyz once serving: %s", a)
	}
	tok := token(t, env, "--subject", "e2e-start", "--agency", "police-tirane", "--role", "investigator")
	checkCases(t, base, tok, "e2e-start", countCases(t, dataDir))
	if a := scrape(t, metricsAddr, metricsToken); a.Status != http.StatusOK || !strings.Contains(a.Body, `casegraph_http_requests_total{method="GET",route="/readyz",status="200"}`) {
		t.Errorf("/metrics once serving: %d, want the server's series:\n%.1000s", a.Status, a.Body)
	}
	s.terminate(t, 10*time.Second)
}

// A signal while serve starts stops it at once and cleanly: exit 0,
// "shutting down" with the signal as its cause, its addresses closed.
func TestServeStoppedWhileItStarts(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	holdSQLite(t, dataDir)
	s := spawn(t, append(childEnv("CASEGRAPH_DATA_DIR="+dataDir), anyPort), "serve")
	addr, _ := s.waitStarting(t)
	if a := ask(t, http.MethodGet, "http://"+addr+"/readyz", nil, ""); a.Body != testserver.StartingReadiness {
		t.Fatalf("/readyz: %s, want that serve is starting", a)
	}
	// Into the migration's wait for the lock, which shows nowhere outside
	// the process: the migration begins within milliseconds of the start.
	time.Sleep(time.Second)
	stopWhileStarting(t, s, addr, syscall.SIGTERM)
}

// stopWhileStarting sends sig to serve, which is starting at addr, and
// checks that it stops within a few seconds, exit 0, logging why, with its
// address closed.
func stopWhileStarting(t *testing.T, s *serving, addr string, sig syscall.Signal) {
	t.Helper()
	sent := time.Now()
	if err := s.signal(sig); err != nil {
		t.Fatalf("%v: %v (serve %s)", sig, err, s.ended())
	}
	if !s.exited(5 * time.Second) {
		t.Fatalf("serve still starting 5 s after %v:\n%s", sig, s.output())
	}
	t.Logf("serve exited %v after %v", time.Since(sent).Round(time.Millisecond), sig)
	if code := s.exitCode(); code != 0 {
		t.Errorf("serve %s; want exit 0 after %v while it starts", s.ended(), sig)
	}
	rec, ok := s.logged("shutting down")
	if want := map[syscall.Signal]string{syscall.SIGTERM: "terminated signal received", syscall.SIGINT: "interrupt signal received"}[sig]; !ok || rec.String("cause") != want || rec.String("while") != "starting" {
		t.Errorf("serve, stopped by %v while it starts, does not log that it shuts down because of it while starting (%v):\n%s", sig, rec, s.stdout)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after serve stopped", addr)
	}
}

// On PostgreSQL: while the demo load of `serve --seed-demo-if-empty`
// waits on a lock the test's transaction holds, serve answers as a server
// that is starting; stopped then, it exits at once and keeps none of the
// demo; started again, it answers the same until the lock is let go, then
// serves the whole demo on the same address, dropping no request.
func TestServeAnswersWhileItStartsOnPostgres(t *testing.T) {
	t.Parallel()
	env, dev := postgresEnv(t)
	mustRun(t, env, "migrate")
	db, err := sql.Open("postgres", envValue(env, "DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The demo's statements wait for the test's lock longer than the
	// statement timeout serve would give them (the request timeout and a
	// second).
	dev = append(dev, "CASEGRAPH_REQUEST_TIMEOUT=2m", "CASEGRAPH_RATE_LIMIT=0")

	// hold locks the agencies, before serve starts, against the rows the
	// demo load adds first (reads go on: serve's checks before the load
	// read only), and returns what lets them go.
	hold := func(t *testing.T) (release func()) {
		t.Helper()
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("LOCK TABLE agencies IN SHARE MODE"); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		release = func() { once.Do(func() { _ = tx.Rollback() }) }
		t.Cleanup(release)
		return release
	}
	// demoWaits waits until serve's demo load waits for the test's lock.
	demoWaits := func(t *testing.T, s *serving) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			var waiting int
			if err := db.QueryRow(`SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid
				WHERE NOT l.granted AND c.relname = 'agencies' AND a.query LIKE 'INSERT INTO "agencies"%'`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting > 0 {
				return
			}
			if s.exited(50*time.Millisecond) || time.Now().After(deadline) {
				t.Fatalf("serve's demo load did not wait for the test's lock (serve %s):\n%s", s.ended(), s.output())
			}
		}
	}
	count := func(t *testing.T, table string) int {
		t.Helper()
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	agencies := count(t, "agencies") // what the migrations made
	t.Run("stopped", func(t *testing.T) {
		release := hold(t)
		s := spawn(t, append(append([]string{}, dev...), anyPort), "serve", "--seed-demo-if-empty")
		addr, _ := s.waitStarting(t)
		demoWaits(t, s)
		checkStarting(t, "http://"+addr)
		stopWhileStarting(t, s, addr, syscall.SIGINT)
		if !strings.Contains(s.stderr.String(), "loading the demo data was interrupted and none of it was kept") {
			t.Errorf("serve, stopped while it loads the demo, does not say it kept none of it:\n%s", s.output())
		}
		release()
		if cases, after := count(t, "case_files"), count(t, "agencies"); cases != 0 || after != agencies {
			t.Errorf("after serve was stopped while it loaded the demo, the database holds %d cases and %d agencies, want none and %d", cases, after, agencies)
		}
	})
	if t.Failed() {
		return
	}

	release := hold(t)
	s := spawn(t, append(append([]string{}, dev...), anyPort), "serve", "--seed-demo-if-empty")
	addr, _ := s.waitStarting(t)
	base := "http://" + addr
	demoWaits(t, s)
	checkStarting(t, base)
	kept := keepAlive(t, addr)
	if status := kept.readyz(t); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a kept connection while serve starts: %d, want 503", status)
	}
	crossTheSwitch(t, s, addr, kept, release, time.Minute)
	loaded, ok := s.logged("demo data loaded")
	if !ok {
		t.Fatalf("serve does not say it loaded the demo:\n%s", s.stdout)
	}
	cases := count(t, "case_files")
	if n, _ := loaded["cases"].(float64); cases == 0 || int(n) != cases {
		t.Errorf("serve says it loaded %v cases; the database holds %d", loaded["cases"], cases)
	}
	tok := token(t, dev, "--subject", "e2e-start-pg", "--agency", "police-tirane", "--role", "investigator")
	checkCases(t, base, tok, "e2e-start-pg", cases)
	s.terminate(t, 10*time.Second)
}

// envValue is the value of the variable name in env ("NAME=value" each).
func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}
