// Package testserver runs the real CaseGraph HTTP server over a test
// database, with real development tokens, and sends it real GraphQL, so
// tests look at the bytes a client would get.
package testserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// Server is a running test server.
type Server struct {
	URL    string
	DB     *database.DB
	Issuer *auth.DevIssuer
	HTTP   *httptest.Server
	// Enforcer is the server's access policy.
	Enforcer *authz.Enforcer
	// Key is the private half of the development key the server trusts,
	// for tests that sign tokens the Issuer would never issue.
	Key  ed25519.PrivateKey
	logs *LockedBuffer
}

// Logs returns what the server has logged so far (JSON lines), for a
// failing test to show; assert on LogRecords instead.
func (s *Server) Logs() string { return s.logs.String() }

// Options tune Start.
type Options struct {
	// Config is passed to server.New; DB, Verifier and Logger are filled in.
	Config server.Config
	// NoAgencies skips loading the agency registry.
	NoAgencies bool
	// ListenForPolicy makes the server reload its policy when another
	// server announces a change (PostgreSQL only), as `casegraph serve` does.
	ListenForPolicy bool
	// PolicyListenerURL is where the policy listener connects, when not to
	// the database's own URL (a test's proxy, to cut it alone).
	PolicyListenerURL string
	// Listener, when set, wraps the server's listener (a test's socket
	// options on the connections it accepts).
	Listener func(net.Listener) net.Listener
}

// Start loads the agency registry into db (unless told not to) and serves
// it on a loopback port until the test ends.
func Start(tb testing.TB, db *database.DB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if !o.NoAgencies {
		if err := seed.Agencies(context.Background(), db.Client); err != nil {
			tb.Fatalf("loading agencies: %v", err)
		}
	}
	keyDir := tb.TempDir()
	issuer, err := auth.LoadOrCreateDevKey(keyDir)
	if err != nil {
		tb.Fatal(err)
	}
	logs := &LockedBuffer{}
	cfg := o.Config
	cfg.DB = db
	cfg.Verifier = issuer
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	enforcer, err := authz.New(context.Background(), db.Client, db.Dialect, graph.Vocabulary())
	if err != nil {
		tb.Fatalf("loading the access policy: %v", err)
	}
	cfg.Enforcer = enforcer
	hs := httptest.NewUnstartedServer(server.New(cfg).Handler())
	if o.Listener != nil {
		hs.Listener = o.Listener(hs.Listener)
	}
	hs.Start()
	// After server.New, which installs interceptors on db.Client: the
	// reloads Follow starts read through it (cmd/casegraph's serve, the
	// same order).
	if o.ListenForPolicy && db.Dialect == dialect.Postgres {
		ctx, cancel := context.WithCancel(context.Background())
		tb.Cleanup(cancel)
		listenAt := o.PolicyListenerURL
		if listenAt == "" {
			listenAt = db.DSN()
		}
		if err := enforcer.Follow(ctx, listenAt, cfg.Logger); err != nil {
			hs.Close()
			tb.Fatalf("listening for policy changes: %v", err)
		}
	}
	tb.Cleanup(hs.Close)
	return &Server{URL: hs.URL, DB: db, Issuer: issuer, HTTP: hs, Enforcer: cfg.Enforcer,
		Key: ReadDevKey(tb, filepath.Join(keyDir, auth.DevKeyFile)), logs: logs}
}

// SweepLimits are request limits wide enough for tests that read every row
// in few requests (the leak test asks for hundreds of nodes at once); the
// server's own limits are tested in package abuse. The costliest such
// request is the leak test's generated nodes(ids:) of proceedings, three
// levels deep through lists without pages, each priced as 50
// (defendants, a suspect's prosecutions, defendants again): about 17.6
// million since a suspect's proceedings are priced as 50 (2026-12-07,
// nineteenth session), over the 10 million it was given before. Its
// answer is small: the model prices what the lists may hold.
func SweepLimits() cost.Limits {
	l := cost.DefaultLimits()
	l.MaxCost, l.MaxAliases, l.MaxFields, l.MaxTokens = 50_000_000, 1_000, 100_000, 1_000_000
	return l
}

// Token returns a token for a person at agency with roles.
func (s *Server) Token(tb testing.TB, agency string, roles ...viewer.Role) string {
	tb.Helper()
	if len(roles) == 0 {
		roles = []viewer.Role{viewer.RoleInvestigator}
	}
	tok, err := s.Issuer.Issue("test-"+string(roles[0])+"@"+agency, agency, roles, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// Response is a GraphQL response as the client got it.
type Response struct {
	Status int         `json:"-"`
	Header http.Header `json:"-"`
	Body   []byte      `json:"-"`
	// Top holds the top-level members of a JSON object body, to tell a
	// missing "data" from "data": null.
	Top    map[string]json.RawMessage `json:"-"`
	Data   json.RawMessage            `json:"data"`
	Errors []Error                    `json:"errors"`
}

// Error is one GraphQL error.
type Error struct {
	Message string `json:"message"`
	Path    []any  `json:"path"`
	// Locations are the points of the document the error is about
	// (docs/errors.md, "Where an error points").
	Locations  []Location     `json:"locations"`
	Extensions map[string]any `json:"extensions"`
}

// Location is a point of a GraphQL document: its line and column,
// counted from 1.
type Location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// Code returns extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Field returns extensions.field: the field or argument a refusal names.
func (e Error) Field() string { s, _ := e.Extensions["field"].(string); return s }

// Codes returns the codes of every error, in order.
func (r *Response) Codes() []string {
	codes := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		codes[i] = e.Code()
	}
	return codes
}

// Decode unmarshals data into v, failing the test on errors.
func (r *Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		tb.Fatalf("decoding data: %v\n%s", err, r.Body)
	}
}

// Do posts a GraphQL operation with token (none when empty).
func (s *Server) Do(tb testing.TB, token, query string, vars map[string]any) *Response {
	tb.Helper()
	return send(tb, Post(tb, s.URL, token, query, vars))
}

// Post builds a POST /graphql request to base with token (none when
// empty), for tests that change it before sending it.
func Post(tb testing.TB, base, token, query string, vars map[string]any) *http.Request {
	tb.Helper()
	return PostBody(tb, base, token, map[string]any{"query": query, "variables": vars})
}

// PostBody builds a POST /graphql request carrying body as JSON (for
// operationName, extensions or a malformed shape), with token (none when
// empty).
func PostBody(tb testing.TB, base, token string, body map[string]any) *http.Request {
	tb.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// Get builds a GET request for path of base.
func Get(tb testing.TB, base, path string) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// send sends req and reads the whole response; a JSON body is decoded.
func send(tb testing.TB, req *http.Request) *Response {
	tb.Helper()
	// The timeout only stops a test waiting for ever on a server that never
	// answers: the server's own request deadline answers first. It is
	// longer than any deadline a test gives (a minute for the policy tools'
	// whole matrix), since under the race detector on a busy 2-core machine
	// that matrix took more than 30 s (CI, 2026-12-07).
	client := &http.Client{Timeout: 3 * time.Minute}
	res, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: raw}
	// A body that is not JSON (GraphiQL's page, a plain-text refusal) is
	// left for the test to read as bytes.
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out.Top); err != nil {
			tb.Fatalf("response is not a JSON object (status %d): %v\n%s", res.StatusCode, err, raw)
		}
		if e, ok := out.Top["errors"]; ok {
			if err := json.Unmarshal(e, &out.Errors); err != nil {
				tb.Fatalf("errors member is not a list of errors: %v\n%s", err, raw)
			}
		}
		out.Data = out.Top["data"]
	}
	return out
}

// Send sends a prepared request (for other methods and headers).
func (s *Server) Send(tb testing.TB, req *http.Request) *Response {
	tb.Helper()
	return send(tb, req)
}

// Send sends req to any server (one the test started itself) and reads its
// response as Server.Send does.
func Send(tb testing.TB, req *http.Request) *Response {
	tb.Helper()
	return send(tb, req)
}

// MustOK fails the test unless the response has no errors.
func (r *Response) MustOK(tb testing.TB) *Response {
	tb.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		tb.Fatalf("want a clean response, got status %d:\n%s", r.Status, r.Body)
	}
	return r
}
