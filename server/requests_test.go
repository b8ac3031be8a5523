package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// Health, readiness, metrics
// ---------------------------------------------------------------------------

func TestHealthReadinessMetrics(t *testing.T) {
	s := startParallel(t)

	for _, path := range []string{"/healthz", "/readyz"} {
		r := send(t, get(t, s.URL, path))
		if r.Status != http.StatusOK {
			t.Errorf("%s: status %d:\n%s", path, r.Status, r.Body)
		}
		if !strings.Contains(string(r.Body), `"status":"ok"`) {
			t.Errorf("%s: body %s", path, r.Body)
		}
	}
	s.Do(t, s.Token(t, "police-tirane"), `{ viewer { subject } }`, nil).MustOK(t)
	s.Do(t, "", `{ viewer { subject } }`, nil) // a 401

	r := send(t, get(t, s.URL, "/metrics"))
	if r.Status != http.StatusOK {
		t.Fatalf("/metrics: status %d", r.Status)
	}
	m := string(r.Body)
	for _, want := range []string{
		`casegraph_http_requests_total{method="POST",route="/graphql",status="200"} 1`,
		`casegraph_http_requests_total{method="POST",route="/graphql",status="401"} 1`,
		`casegraph_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`casegraph_http_request_duration_seconds_bucket{method="POST",route="/graphql"`,
		"go_goroutines",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// ---------------------------------------------------------------------------
// Request ids
// ---------------------------------------------------------------------------

func TestRequestID(t *testing.T) {
	s, token := startAsPolice(t)

	withID := func(t *testing.T, id string) *reply {
		t.Helper()
		req := post(t, s.URL, token, `{ viewer { subject } }`, nil)
		req.Header.Set("X-Request-Id", id)
		return send(t, req)
	}

	t.Run("generated", func(t *testing.T) {
		a := send(t, post(t, s.URL, token, `{ viewer { subject } }`, nil))
		b := send(t, get(t, s.URL, "/healthz"))
		for _, r := range []*reply{a, b} {
			if !generatedID.MatchString(r.Header.Get("X-Request-Id")) {
				t.Errorf("X-Request-Id %q, want a generated id", r.Header.Get("X-Request-Id"))
			}
		}
		if a.Header.Get("X-Request-Id") == b.Header.Get("X-Request-Id") {
			t.Error("two requests got the same id")
		}
	})
	t.Run("led by the client's", func(t *testing.T) {
		// The client's id leads, the server's own follows: the trail's
		// request id is never the client's choice alone, so two requests
		// sent with one id are still two.
		const id = "client-req.0042_abc"
		a, b := withID(t, id), withID(t, id)
		got := a.Header.Get("X-Request-Id")
		own, led := strings.CutPrefix(got, id+".")
		if !led || !generatedID.MatchString(own) {
			t.Fatalf("X-Request-Id %q, want %q, a dot and a generated id", got, id)
		}
		if got == b.Header.Get("X-Request-Id") {
			t.Errorf("two requests sent with the id %q got the same one, %q", id, got)
		}
		if len(s.LogRecordsWith(t, "request_id", got)) == 0 {
			t.Error("the log does not use the request's id")
		}
	})
	for name, bad := range map[string]string{
		"too long":        strings.Repeat("a", 500),
		"too short":       "abc",
		"quotes":          `abcdefgh","level":"ERROR`,
		"spaces":          "abcdefgh injected",
		"non-ascii":       "abcdefgh\u00e9\u00e9",
		"log injection":   "abcdefgh%0a{\"msg\":\"forged\"}",
		"shell and slash": "abcdefgh/../$(id)",
	} {
		t.Run("replaced: "+name, func(t *testing.T) {
			r := withID(t, bad)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d:\n%s", r.Status, r.Body)
			}
			if got := r.Header.Get("X-Request-Id"); !generatedID.MatchString(got) {
				t.Fatalf("X-Request-Id %q, want a fresh id instead of %q", got, bad)
			}
		})
	}
	// A header value with a line break cannot be sent with net/http: write
	// it by hand, as an obsolete folded line and as a bare LF.
	for name, header := range map[string]string{
		"folded line": "X-Request-Id: abcdefgh-1234\r\n injected-line-5678",
		"bare LF":     "X-Request-Id: abcdefgh-1234\ninjected: line-5678",
	} {
		t.Run("replaced: "+name, func(t *testing.T) {
			u, _ := url.Parse(s.URL)
			conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n%s\r\nConnection: close\r\n\r\n", u.Host, header)
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the response: %v", err)
			}
			res.Body.Close()
			if res.StatusCode == http.StatusBadRequest {
				return // refused outright: fine
			}
			// A bare LF ends the header line (so the id itself is clean);
			// a folded line must not survive into the id.
			if got := res.Header.Get("X-Request-Id"); !safeID.MatchString(got) || strings.Contains(got, "injected") {
				t.Fatalf("status %d, X-Request-Id %q", res.StatusCode, got)
			}
		})
	}
	if logs := s.Logs(); strings.Contains(logs, "injected") || strings.Contains(logs, "forged") || strings.Contains(logs, strings.Repeat("a", 100)) {
		t.Errorf("a refused request id reached the log:\n%s", logs)
	}
}

// TestUnknownPathIsACodedError: a path nothing serves answers 404 as every
// other refusal does, a GraphQL error with a code, saying where the API
// is; it was Go's plain-text "404 page not found" (a new user's report, a
// typo in /graphql). The path is not echoed back.
func TestUnknownPathIsACodedError(t *testing.T) {
	s := startParallel(t)
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		req, err := http.NewRequest(method, s.URL+"/grapql-<b>typo</b>", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		r := send(t, req)
		if r.Status != http.StatusNotFound || r.code(0) != "NOT_FOUND" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s of an unknown path: %d %q, Content-Type %q, want 404 NOT_FOUND in JSON:\n%s",
				method, r.Status, r.code(0), r.Header.Get("Content-Type"), r.Body)
		}
		if !strings.Contains(string(r.Body), "/graphql") || strings.Contains(string(r.Body), "typo") {
			t.Errorf("%s: the answer should say where the API is, and not echo the path: %s", method, r.Body)
		}
	}
}
