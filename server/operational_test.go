package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/server/graphiql"
	"github.com/casegraph/casegraph/viewer"
)

// Operational endpoints that cannot be abused (issue 9): /metrics has a
// fixed set of series whatever clients send, can be closed with a token
// or moved to an address of its own, and every answer carries the
// security headers.

var labelPair = regexp.MustCompile(`(\w+)="([^"]*)"`)

// requestSeries returns the label values of casegraph_http_requests_total
// in a /metrics body, by label name, and the number of series.
func requestSeries(t *testing.T, metrics string) (map[string]map[string]bool, int) {
	t.Helper()
	labels := map[string]map[string]bool{}
	n := 0
	for _, line := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(line, "casegraph_http_requests_total{") {
			continue
		}
		n++
		for _, m := range labelPair.FindAllStringSubmatch(line, -1) {
			if labels[m[1]] == nil {
				labels[m[1]] = map[string]bool{}
			}
			labels[m[1]][m[2]] = true
		}
	}
	return labels, n
}

func TestMetricsCardinality(t *testing.T) {
	s := startParallel(t)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	do := func(method, path string) {
		req, err := http.NewRequest(method, s.URL+path, nil)
		if err != nil {
			t.Error(err)
			return
		}
		res, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	metrics := func() string {
		r := send(t, get(t, s.URL, "/metrics"))
		if r.Status != http.StatusOK {
			t.Fatalf("/metrics: status %d", r.Status)
		}
		return string(r.Body)
	}
	do(http.MethodGet, "/healthz")
	before := metrics()

	// 3,000 requests, each with a method and a path nobody registered,
	// some to real paths with made-up methods, some unauthenticated
	// requests to /graphql.
	const requests = 3000
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < requests; i += 8 {
				method := fmt.Sprintf("M%dX", i)
				switch i % 4 {
				case 0:
					do(method, fmt.Sprintf("/made-up/%d", i))
				case 1:
					do(http.MethodGet, fmt.Sprintf("/made-up/%d?x=%d", i, i))
				case 2:
					do(method, "/graphql")
				case 3:
					do(method, "/healthz")
				}
			}
		}()
	}
	wg.Wait()
	after := metrics()

	labels, series := requestSeries(t, after)
	routes := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/graphql": true, "/": true, "/graphiql/*": true, "unmatched": true}
	for route := range labels["route"] {
		if !routes[route] {
			t.Errorf("route label %q is not one of the router's patterns", route)
			break
		}
	}
	methods := map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true, "CONNECT": true, "TRACE": true, "other": true}
	for method := range labels["method"] {
		if !methods[method] {
			t.Errorf("method label %q is not a standard method or \"other\"", method)
			break
		}
	}
	if !labels["method"]["other"] || !labels["route"]["unmatched"] {
		t.Errorf("the made-up requests are not counted under method \"other\" and route \"unmatched\" (%d method labels, %d route labels)",
			len(labels["method"]), len(labels["route"]))
	}
	if series > 12 {
		t.Errorf("%d series of casegraph_http_requests_total after %d made-up requests, want a handful", series, requests)
	}
	if grew := len(after) - len(before); grew > 16<<10 {
		t.Errorf("/metrics grew by %d bytes (from %d) after %d made-up requests", grew, len(before), requests)
	}
}

// metricsServer starts a server with cfg's metrics settings.
func metricsServer(t *testing.T, cfg server.Config) (*server.Server, string) {
	t.Helper()
	srv, _ := newServer(t, cfg)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

func getWithToken(t *testing.T, url, token string) *reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, req)
}

func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "scrape-me-7f3a9c"
	_, base := metricsServer(t, server.Config{MetricsToken: token})
	t.Run("OK", func(t *testing.T) {
		r := getWithToken(t, base+"/metrics", token)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "go_goroutines") {
			t.Fatalf("status %d:\n%.300s", r.Status, r.Body)
		}
	})
	for _, tc := range []struct{ name, token string }{
		{"ErrNoToken", ""},
		{"ErrWrongToken", "scrape-me-7f3a9d"},
		{"ErrPrefix", token[:len(token)-1]},
		{"ErrLonger", token + "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := getWithToken(t, base+"/metrics", tc.token)
			if r.Status != http.StatusUnauthorized || r.code(0) != "UNAUTHENTICATED" {
				t.Fatalf("status %d code %q, want 401 UNAUTHENTICATED:\n%.300s", r.Status, r.code(0), r.Body)
			}
			if strings.Contains(string(r.Body), "go_goroutines") || strings.Contains(string(r.Body), token) {
				t.Errorf("the refusal shows metrics or the token:\n%s", r.Body)
			}
		})
	}
	t.Run("GraphQLUnaffected", func(t *testing.T) {
		// The metrics token is not a GraphQL token, nor is it needed there.
		if r := send(t, post(t, base, token, `{ viewer { subject } }`, nil)); r.Status != http.StatusUnauthorized {
			t.Errorf("/graphql with the metrics token: status %d, want 401", r.Status)
		}
	})
}

func TestMetricsOnOwnListener(t *testing.T) {
	t.Parallel()
	srv, base := metricsServer(t, server.Config{MetricsOnOwnListener: true})
	ln := testserver.Loopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeMetrics(ctx, ln) }()
	internal := "http://" + ln.Addr().String()

	if r := send(t, get(t, base, "/healthz")); r.Status != http.StatusOK {
		t.Fatalf("/healthz: status %d", r.Status)
	}
	if r := send(t, get(t, base, "/metrics")); r.Status != http.StatusNotFound || strings.Contains(string(r.Body), "go_goroutines") {
		t.Errorf("/metrics on the main address: status %d, want 404:\n%.300s", r.Status, r.Body)
	}
	r := send(t, get(t, internal, "/metrics"))
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `casegraph_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Fatalf("/metrics on its own address: status %d:\n%.2000s", r.Status, r.Body)
	}
	for _, path := range []string{"/graphql", "/healthz", "/"} {
		if r := send(t, get(t, internal, path)); r.Status != http.StatusNotFound {
			t.Errorf("%s on the metrics address: status %d, want 404", path, r.Status)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeMetrics returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeMetrics did not return after its context ended")
	}
}

// Every answer carries the security headers, the refusals of middleware
// that runs before GraphQL included.
func TestSecurityHeaders(t *testing.T) {
	s := startParallel(t, testserver.Options{Config: server.Config{RateLimit: 1000, MaxBodyBytes: 1 << 10}})
	token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	want := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Cache-Control":                "no-store",
	}
	check := func(t *testing.T, r *reply, wantStatus int) {
		t.Helper()
		if r.Status != wantStatus {
			t.Errorf("status %d, want %d:\n%.300s", r.Status, wantStatus, r.Body)
		}
		for name, value := range want {
			if got := r.Header.Get(name); got != value {
				t.Errorf("%s: %q, want %q", name, got, value)
			}
		}
		csp := r.Header.Get("Content-Security-Policy")
		for _, directive := range []string{"default-src 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, directive) {
				t.Errorf("Content-Security-Policy %q lacks %s", csp, directive)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		req    func(t *testing.T) *http.Request
		status int
	}{
		{"GraphQLOK", func(t *testing.T) *http.Request { return post(t, s.URL, token, `{ viewer { subject } }`, nil) }, http.StatusOK},
		{"GraphQLFieldError", func(t *testing.T) *http.Request { return post(t, s.URL, token, `{ noSuchField }`, nil) }, http.StatusOK},
		{"GraphQLUnauthenticated", func(t *testing.T) *http.Request { return post(t, s.URL, "", `{ viewer { subject } }`, nil) }, http.StatusUnauthorized},
		{"GraphQLBodyTooLarge", func(t *testing.T) *http.Request {
			return post(t, s.URL, token, "# "+strings.Repeat("x", 2<<10)+"\n{ viewer { subject } }", nil)
		}, http.StatusRequestEntityTooLarge},
		{"GraphQLBadRequest", func(t *testing.T) *http.Request {
			req := post(t, s.URL, token, "", nil)
			req.Body = io.NopCloser(strings.NewReader(`{"qeury": "{ viewer { subject } }"}`))
			req.ContentLength = -1
			return req
		}, http.StatusBadRequest},
		{"GraphQLUnsupportedMediaType", func(t *testing.T) *http.Request {
			req := post(t, s.URL, token, `{ viewer { subject } }`, nil)
			req.Header.Set("Content-Type", "text/plain")
			return req
		}, http.StatusUnsupportedMediaType},
		{"GraphQLMethodNotAllowed", func(t *testing.T) *http.Request {
			req := post(t, s.URL, token, `{ viewer { subject } }`, nil)
			req.Method = http.MethodDelete
			return req
		}, http.StatusMethodNotAllowed},
		{"Healthz", func(t *testing.T) *http.Request { return get(t, s.URL, "/healthz") }, http.StatusOK},
		{"Metrics", func(t *testing.T) *http.Request { return get(t, s.URL, "/metrics") }, http.StatusOK},
		{"NotFound", func(t *testing.T) *http.Request { return get(t, s.URL, "/no-such-path") }, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) { check(t, send(t, tc.req(t)), tc.status) })
	}
	t.Run("GraphiQLKeepsItsOwnPolicy", func(t *testing.T) {
		r := send(t, get(t, s.URL, "/"))
		if r.Status != http.StatusOK || r.Header.Get("Content-Security-Policy") != graphiql.ContentSecurityPolicy {
			t.Errorf("status %d, Content-Security-Policy %q, want GraphiQL's", r.Status, r.Header.Get("Content-Security-Policy"))
		}
		if r.Header.Get("Cache-Control") == "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("Cache-Control %q, X-Content-Type-Options %q", r.Header.Get("Cache-Control"), r.Header.Get("X-Content-Type-Options"))
		}
	})
}
