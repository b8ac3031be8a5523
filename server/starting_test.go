package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
)

// ---------------------------------------------------------------------------
// Start-up: the answers of a server that is starting (server.Start), and
// the switch to the server's own on the same listener (Front.Serve).
// cmd/casegraph's e2e_start_test.go holds a real serve's start-up.
// ---------------------------------------------------------------------------

func mustExchange(t *testing.T, method, url string, header map[string]string, body string) testserver.Answer {
	t.Helper()
	a, err := testserver.Exchange(&http.Client{Timeout: 10 * time.Second}, method, url, header, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return a
}

func quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// startFront starts answering on a loopback port as a server that is
// starting, with cfg, and returns the front and its base URL; it is
// closed at cleanup.
func startFront(t *testing.T, cfg server.Config, metricsLn net.Listener) (*server.Front, string) {
	t.Helper()
	ln := testserver.Loopback(t)
	cfg.Logger = quiet()
	f := server.Start(cfg, ln, metricsLn)
	t.Cleanup(f.Close)
	return f, "http://" + ln.Addr().String()
}

// What a server that is starting answers, byte for byte: the probes as
// when serving (liveness alive, readiness 503 "starting"), /graphql by
// GraphQL over HTTP's rules of media type and with Retry-After, whatever
// the method; every other path 503 with Retry-After, and /metrics the
// process's own, behind its token.
func TestStartingAnswers(t *testing.T) {
	t.Parallel()
	_, base := startFront(t, server.Config{MetricsToken: "scrape"}, nil)
	jsonBody := map[string]string{"Content-Type": "application/json"}
	const query = `{"query":"{ viewer { subject } }"}`
	const (
		plain   = "application/json"
		graphQL = "application/json; charset=utf-8"
		gqlResp = "application/graphql-response+json; charset=utf-8"
	)
	for _, c := range []struct {
		method, path string
		header       map[string]string
		body         string
		status       int
		contentType  string
		want         string
		retryAfter   string
		allow        string
	}{
		{http.MethodGet, "/healthz", nil, "", 200, plain, `{"status":"ok"}` + "\n", "", ""},
		{http.MethodHead, "/healthz", nil, "", 200, plain, "", "", ""},
		{http.MethodGet, "/readyz", nil, "", 503, plain, testserver.StartingReadiness, "", ""},
		{http.MethodHead, "/readyz", nil, "", 503, plain, "", "", ""},
		{http.MethodPost, "/healthz", nil, "", 405, plain,
			`{"errors":[{"message":"\"/healthz\" does not serve \"POST\": use GET, HEAD.","extensions":{"code":"BAD_USER_INPUT"}}]}`, "", "GET, HEAD"},
		{http.MethodPost, "/graphql", jsonBody, query, 503, graphQL, testserver.StartingError, "1", ""},
		{http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json"}, query, 503, gqlResp, testserver.StartingError, "1", ""},
		{http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json", "Accept": "application/json;q=0.5, application/graphql-response+json"}, query, 503, gqlResp, testserver.StartingError, "1", ""},
		{http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json", "Accept": "text/html"}, query, 503, graphQL, testserver.StartingError, "1", ""},
		{http.MethodPost, "/graphql", map[string]string{"Content-Type": "text/plain"}, "not even JSON", 503, graphQL, testserver.StartingError, "1", ""},
		{http.MethodGet, "/graphql?query=%7B__typename%7D", nil, "", 503, graphQL, testserver.StartingError, "1", ""},
		{http.MethodOptions, "/graphql", nil, "", 503, graphQL, testserver.StartingError, "1", ""},
		{"PURGE", "/graphql", nil, "", 503, graphQL, testserver.StartingError, "1", ""},
		{http.MethodGet, "/", nil, "", 503, plain, testserver.StartingError, "1", ""},
		{http.MethodGet, "/graphiql/app.js", nil, "", 503, plain, testserver.StartingError, "1", ""},
		{http.MethodGet, "/nowhere", nil, "", 503, plain, testserver.StartingError, "1", ""},
		{"PURGE", "/nowhere", nil, "", 503, plain, testserver.StartingError, "1", ""},
		{http.MethodGet, "/metrics", nil, "", 401, plain,
			`{"errors":[{"message":"/metrics needs the metrics token: send Authorization: Bearer \u003cCASEGRAPH_METRICS_TOKEN\u003e.","extensions":{"code":"UNAUTHENTICATED"}}]}`, "", ""},
	} {
		a := mustExchange(t, c.method, base+c.path, c.header, c.body)
		if a.Status != c.status || a.Header.Get("Content-Type") != c.contentType || a.Body != c.want ||
			a.Header.Get("Retry-After") != c.retryAfter || a.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s %v while starting:\n got %s\nwant %d Content-Type=%q Retry-After=%q Allow=%q %q",
				c.method, c.path, c.header, a, c.status, c.contentType, c.retryAfter, c.allow, c.want)
		}
		if a.Header.Get("X-Content-Type-Options") != "nosniff" || a.Header.Get("Cache-Control") != "no-store" ||
			a.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s %s while starting lacks the security headers: %v", c.method, c.path, a.Header)
		}
	}
	a := mustExchange(t, http.MethodGet, base+"/metrics", map[string]string{"Authorization": "Bearer scrape"}, "")
	if a.Status != http.StatusOK || !strings.Contains(a.Body, "go_goroutines") || strings.Contains(a.Body, "casegraph_") {
		t.Errorf("/metrics with its token while starting: %d, want 200, the process's metrics and none of the server's:\n%.500s", a.Status, a.Body)
	}
}

// keptConn is a connection kept alive across the switch.
type keptConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialKept(t *testing.T, base string) *keptConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keptConn{c: c, r: bufio.NewReader(c)}
}

// get asks path on the connection and returns the status.
func (k *keptConn) get(t *testing.T, path string) int {
	t.Helper()
	_ = k.c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(k.c, "GET %s HTTP/1.1\r\nHost: casegraph\r\n\r\n", path)
	res, err := http.ReadResponse(k.r, nil)
	if err != nil {
		t.Fatalf("GET %s on a kept connection: %v", path, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.Close {
		t.Fatalf("GET %s on a kept connection (%d) closes it", path, res.StatusCode)
	}
	return res.StatusCode
}

// The switch to the server's answers is on the same listener and
// http.Server: a connection kept alive from the start-up goes on, and of
// requests sent without a pause across the switch, on kept and on new
// connections, each gets the starting answer or the server's, none an
// error; /metrics on its own listener gains the server's series there.
func TestStartingSwitchesWithoutADrop(t *testing.T) {
	t.Parallel()
	cfg := server.Config{MetricsOnOwnListener: true}
	srv, _ := newServer(t, cfg)
	metricsLn := testserver.Loopback(t)
	metricsBase := "http://" + metricsLn.Addr().String()
	f, base := startFront(t, cfg, metricsLn)

	kept := dialKept(t, base)
	if status := kept.get(t, "/readyz"); status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while starting: %d", status)
	}
	if a := mustExchange(t, http.MethodGet, base+"/metrics", nil, ""); a.Status != http.StatusServiceUnavailable {
		t.Errorf("/metrics on the main address while starting, with a listener of its own: %s, want 503", a)
	}
	if a := mustExchange(t, http.MethodGet, metricsBase+"/metrics", nil, ""); a.Status != http.StatusOK || strings.Contains(a.Body, "casegraph_") {
		t.Errorf("/metrics on its own listener while starting: %d:\n%.300s", a.Status, a.Body)
	}

	var (
		mu       sync.Mutex
		wrong    []string
		starting int
		served   [4]int
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for i := range len(served) {
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: i%2 == 1}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer client.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				a, err := testserver.Exchange(client, http.MethodGet, base+"/readyz", nil, "")
				mu.Lock()
				switch {
				case err != nil:
					wrong = append(wrong, err.Error())
				case a.Status == http.StatusServiceUnavailable && a.Body == testserver.StartingReadiness:
					starting++
				case a.Status == http.StatusOK:
					served[i]++
				default:
					wrong = append(wrong, a.String())
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Serve(ctx, srv, 5*time.Second) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		enough := true
		for _, n := range served {
			enough = enough && n >= 20
		}
		mu.Unlock()
		if enough || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("across the switch: %d starting answers, %v of the server's by client", starting, served)
	if len(wrong) > 0 {
		t.Errorf("%d requests across the switch got neither answer, first: %s", len(wrong), wrong[0])
	}
	if starting == 0 || served[0] == 0 {
		t.Errorf("the switch was not crossed: %d starting answers, %v of the server's", starting, served)
	}
	if status := kept.get(t, "/readyz"); status != http.StatusOK {
		t.Errorf("/readyz on the connection kept alive from the start-up: %d, want 200", status)
	}
	if a := mustExchange(t, http.MethodGet, metricsBase+"/metrics", nil, ""); a.Status != http.StatusOK ||
		!strings.Contains(a.Body, `casegraph_http_requests_total{method="GET",route="/readyz",status="200"}`) {
		t.Errorf("/metrics on its own listener once serving: %d:\n%.300s", a.Status, a.Body)
	}
	if a := mustExchange(t, http.MethodGet, base+"/metrics", nil, ""); a.Status != http.StatusNotFound {
		t.Errorf("/metrics on the main address once serving, with a listener of its own: %s, want 404", a)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	f.Close() // after Serve: nothing to do, and no wait
}

// A start-up that fails or is stopped closes the listeners: a connection
// kept alive is closed, and a new one refused.
func TestStartingClosed(t *testing.T) {
	t.Parallel()
	metricsLn := testserver.Loopback(t)
	f, base := startFront(t, server.Config{MetricsOnOwnListener: true}, metricsLn)
	kept := dialKept(t, base)
	if status := kept.get(t, "/healthz"); status != http.StatusOK {
		t.Fatalf("/healthz while starting: %d", status)
	}
	f.Close()
	if _, err := kept.r.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Errorf("the kept connection after Close: read returned %v, want it closed", err)
	}
	for _, addr := range []string{strings.TrimPrefix(base, "http://"), metricsLn.Addr().String()} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s accepts connections after Close", addr)
		}
	}
}
