package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
)

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

func TestBodyLimit(t *testing.T) {
	s, token := startAsPolice(t)

	// A GraphQL comment pads the query past the limit.
	pad := "# " + strings.Repeat("x", 1<<20+1024) + "\n"
	oversized := func(t *testing.T, chunked bool) *reply {
		t.Helper()
		req := post(t, s.URL, token, pad+`{ viewer { subject } }`, nil)
		if chunked {
			// Hide the length: the body arrives chunked, and only reading it
			// shows it is too large.
			body := req.Body
			req.Body = io.NopCloser(io.MultiReader(body))
			req.ContentLength = -1
			req.GetBody = nil
		}
		return send(t, req)
	}
	for _, tc := range []struct {
		name    string
		chunked bool
	}{{"with Content-Length", false}, {"chunked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := oversized(t, tc.chunked)
			noLeaks(t, r.Body)
			if strings.Contains(string(r.Body), "test-investigator") {
				t.Fatalf("an oversized request was executed:\n%.500s", r.Body)
			}
			if len(r.Errors) == 0 {
				t.Errorf("no error in the refusal (status %d):\n%.500s", r.Status, r.Body)
			}
			// The server still works.
			s.Do(t, token, `{ viewer { subject } }`, nil).MustOK(t)
			if panicked(t, s) {
				t.Fatalf("an oversized body made the GraphQL handler panic (status %d, code %q)", r.Status, r.code(0))
			}
			if (r.Status < 400 || r.Status >= 500) || r.code(0) != "BAD_USER_INPUT" {
				t.Errorf("BUG: a %s request body over 1 MiB is answered %d with code %q (want 413 BAD_USER_INPUT): %.300s",
					tc.name, r.Status, r.code(0), r.Body)
			}
		})
	}
	t.Run("just under the limit", func(t *testing.T) {
		small := "# " + strings.Repeat("x", 1<<20-1024) + "\n"
		if r := send(t, post(t, s.URL, token, small+`{ viewer { subject } }`, nil)); r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("status %d:\n%.500s", r.Status, r.Body)
		}
	})
}

// A body that is not JSON is the client's mistake: a 400 with
// BAD_USER_INPUT, no panic, and nothing of the body in the log.
func TestMalformedBody(t *testing.T) {
	s, token := startAsPolice(t)
	const secret = "Mirela Hoxhallari-Malformed"
	body := `{"query": "mutation { updateVictim(id: 1, expectedVersion: 1, input: {legalName: \"` + secret + `\"}) { id } }", "variables": {`
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	r := send(t, req)
	noLeaks(t, r.Body)
	s.Do(t, token, `{ viewer { subject } }`, nil).MustOK(t)
	logs := s.Logs()
	var bugs []string
	if strings.Contains(logs, secret) {
		bugs = append(bugs, "the whole body (victim data included) is written to the log: gqlgen's POST transport puts the body into its error text and graph/errors.go logs that error as INTERNAL")
	}
	if panicked(t, s) {
		t.Fatalf("a malformed body made the GraphQL handler panic:\n%s", logs)
	}
	if r.code(0) != "BAD_USER_INPUT" {
		bugs = append(bugs, fmt.Sprintf("the client gets status %d with code %q, want 400 BAD_USER_INPUT", r.Status, r.code(0)))
	}
	if len(bugs) > 0 {
		t.Errorf("BUG: a malformed JSON body to POST /graphql: %s", strings.Join(bugs, "; "))
	}
	if r.Status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", r.Status)
	}
}

func TestRateLimit(t *testing.T) {
	s := startParallel(t, testserver.Options{Config: server.Config{RateLimit: 3}})
	token := s.Token(t, "police-tirane")
	for range 3 {
		s.Do(t, token, `{ viewer { subject } }`, nil).MustOK(t)
	}
	r := send(t, post(t, s.URL, token, `{ viewer { subject } }`, nil))
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("4th request: status %d, want 429:\n%s", r.Status, r.Body)
	}
	if len(r.Errors) != 1 || r.code(0) != "RATE_LIMITED" {
		t.Fatalf("want one RATE_LIMITED error:\n%s", r.Body)
	}
	if _, ok := r.Top["data"]; ok {
		t.Errorf("a limited request carries data:\n%s", r.Body)
	}
	// Claiming another address in a header does not reset the count.
	spoof := post(t, s.URL, token, `{ viewer { subject } }`, nil)
	spoof.Header.Set("X-Forwarded-For", "203.0.113.9")
	spoof.Header.Set("X-Real-IP", "203.0.113.9")
	spoof.Header.Set("True-Client-IP", "203.0.113.9")
	if r := send(t, spoof); r.Status != http.StatusTooManyRequests {
		t.Errorf("a spoofed forwarding header escapes the limit: status %d", r.Status)
	}
	// Over its limit, a client's body is not read: a body too large is
	// told 429, not 413 (the megabyte is not taken into memory first).
	large := post(t, s.URL, token, `{ viewer { subject } }`, nil)
	large.Body = io.NopCloser(strings.NewReader(strings.Repeat(" ", 2<<20)))
	large.ContentLength = 2 << 20
	if r := send(t, large); r.Status != http.StatusTooManyRequests {
		t.Errorf("a body too large from a client over its limit: status %d, want 429", r.Status)
	}
	// Probes are not limited.
	if r := send(t, get(t, s.URL, "/healthz")); r.Status != http.StatusOK {
		t.Errorf("/healthz after the limit: status %d", r.Status)
	}
}

// TestTrustedProxies puts the test client behind a "load balancer" on the
// loopback address: its X-Forwarded-For then names the client, for the
// rate limit and the audit trail; a forged hop left of the real one is not
// believed, and without trusted proxies the header counts for nothing.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	trusted, err := server.ParseTrustedProxies("127.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.ParseTrustedProxies("10.0.0.0/8, lb.internal"); err == nil {
		t.Error("a host name is not an address")
	}
	db := testdb.SQLite(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{RateLimit: 2, TrustedProxies: trusted}})
	token := s.Token(t, "police-tirane")
	from := func(xff string) *reply {
		req := post(t, s.URL, token, `{ viewer { subject } }`, nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		return send(t, req)
	}
	// Each client has its own limit behind the balancer.
	for _, xff := range []string{"203.0.113.1", "203.0.113.1", "203.0.113.2", "198.51.100.7, 203.0.113.2"} {
		if r := from(xff); r.Status != http.StatusOK {
			t.Fatalf("from %s: status %d", xff, r.Status)
		}
	}
	if r := from("203.0.113.1"); r.Status != http.StatusTooManyRequests {
		t.Errorf("203.0.113.1's third request: status %d, want 429", r.Status)
	}
	// A refused token is recorded with the client's address, not the
	// balancer's; the forged left-most hop is ignored. (Signed, so that
	// its refusal is recorded at all.)
	expired := devClaims("police-tirane", "investigator")
	expired["exp"] = time.Now().Add(-2 * time.Hour).Unix()
	expired["iat"] = time.Now().Add(-3 * time.Hour).Unix()
	req := post(t, s.URL, sign(t, s.Key, expired), `{ viewer { subject } }`, nil)
	req.Header.Set("X-Forwarded-For", "192.0.2.66, 203.0.113.3")
	r := send(t, req)
	events, err := audit.Query(context.Background(), db.Client, audit.Scope{All: true},
		audit.Filter{Kind: audit.AuthenticationRefused}, false, 0)
	if err != nil || r.Status != http.StatusUnauthorized || len(events) != 1 || events[0].ClientAddress != "203.0.113.3" {
		t.Errorf("refused token recorded from %+v (%v), want 203.0.113.3", events, err)
	}

	// Without trusted proxies the header is ignored.
	plain := testserver.Start(t, testdb.SQLite(t), testserver.Options{Config: server.Config{RateLimit: 1}})
	tok := plain.Token(t, "police-tirane")
	for i, xff := range []string{"203.0.113.1", "203.0.113.2"} {
		req := post(t, plain.URL, tok, `{ viewer { subject } }`, nil)
		req.Header.Set("X-Forwarded-For", xff)
		if r := send(t, req); (i == 0) != (r.Status == http.StatusOK) {
			t.Errorf("untrusted X-Forwarded-For %s: status %d", xff, r.Status)
		}
	}
}

// TestSlowBodyBoundedByTheDeadline: a body sent slowly is read only until
// the request's deadline, then refused with 408 and BAD_USER_INPUT. The
// body was read before the deadline began, within http.Server's
// ReadTimeout (30 s), so a client trickling its body held a handler six
// times as long as the longest request (a hunt over HTTP). The test
// server has no ReadTimeout at all: without the bound it waits forever,
// and the test's own 15 s bound fails it.
func TestSlowBodyBoundedByTheDeadline(t *testing.T) {
	db := testdb.SQLite(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{RequestTimeout: 500 * time.Millisecond}})
	token := s.Token(t, "police-tirane")
	body := `{"query":"{ viewer { subject } }"}`
	conn, err := net.DialTimeout("tcp", s.HTTP.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	// Headers, and the first bytes of the body: the rest never comes.
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		token, len(body), body[:10])
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a body that never arrives (waited 15 s for a request deadline of 0.5 s): %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var answer struct {
		Data   json.RawMessage
		Errors []testserver.Error
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatalf("status %d, body not JSON: %v\n%s", res.StatusCode, err, raw)
	}
	if res.StatusCode != http.StatusRequestTimeout || len(answer.Errors) != 1 || answer.Errors[0].Code() != "BAD_USER_INPUT" || answer.Data != nil {
		t.Fatalf("want 408 with one BAD_USER_INPUT and no data, got %d\n%s", res.StatusCode, raw)
	}
	// A body sent at once is still read, and the server still answers.
	s.Do(t, token, `{ viewer { subject } }`, nil).MustOK(t)
}
