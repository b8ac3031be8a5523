package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// syncBuffer is a bytes.Buffer safe for the concurrent writes of request
// handlers.
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

// reply is an HTTP response as a client got it, with its GraphQL shape.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
	// Top holds the top-level members of a JSON object body (to tell a
	// missing "data" from "data": null).
	Top    map[string]json.RawMessage
	Errors []testserver.Error
}

func (r *reply) code(i int) string {
	if i >= len(r.Errors) {
		return ""
	}
	return r.Errors[i].Code()
}

// send sends req and reads the whole response; a JSON body is decoded.
func send(t *testing.T, req *http.Request) *reply {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	out := &reply{Status: res.StatusCode, Header: res.Header, Body: raw}
	if strings.Contains(res.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.Top); err != nil {
			t.Fatalf("response is not a JSON object (status %d): %v\n%s", res.StatusCode, err, raw)
		}
		if e, ok := out.Top["errors"]; ok {
			if err := json.Unmarshal(e, &out.Errors); err != nil {
				t.Fatalf("errors member is not a list of errors: %v\n%s", err, raw)
			}
		}
	}
	return out
}

// post builds a POST /graphql request.
func post(t *testing.T, base, token, query string, vars map[string]any) *http.Request {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

func get(t *testing.T, base, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// enforcer loads the access policy of db, as serve does.
func enforcer(t *testing.T, db *database.DB) *authz.Enforcer {
	t.Helper()
	e, err := authz.New(context.Background(), db.Client, db.Dialect, graph.Vocabulary())
	if err != nil {
		t.Fatalf("loading the access policy: %v", err)
	}
	return e
}

// keyedServer is a server whose development signing key the test holds, so
// it can sign tokens the DevIssuer would never issue.
type keyedServer struct {
	URL    string
	DB     *database.DB
	Issuer *auth.DevIssuer
	Key    ed25519.PrivateKey
	Logs   *syncBuffer
}

func startKeyed(t *testing.T, db *database.DB) *keyedServer {
	t.Helper()
	if err := seed.Agencies(context.Background(), db.Client); err != nil {
		t.Fatalf("loading agencies: %v", err)
	}
	dir := t.TempDir()
	issuer, err := auth.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv := server.New(server.Config{
		DB:       db,
		Verifier: issuer,
		Enforcer: enforcer(t, db),
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
	})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &keyedServer{URL: hs.URL, DB: db, Issuer: issuer, Key: readKey(t, filepath.Join(dir, auth.DevKeyFile)), Logs: logs}
}

// readKey reads the PKCS#8 PEM Ed25519 key a DevIssuer wrote.
func readKey(t *testing.T, path string) ed25519.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("%s: no PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		t.Fatalf("%s holds a %T, not an Ed25519 key", path, k)
	}
	return key
}

// devClaims are the claims of a valid development token, for the test to
// spoil one at a time.
func devClaims(agency string, roles ...string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":    auth.DevIssuerName,
		"aud":    []string{auth.DevAudience},
		"sub":    "crafted@test",
		"iat":    now.Unix(),
		"nbf":    now.Unix(),
		"exp":    now.Add(time.Hour).Unix(),
		"agency": agency,
		"roles":  roles,
	}
}

func sign(t *testing.T, key ed25519.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// noLeaks fails the test when body shows internal detail.
func noLeaks(t *testing.T, body []byte) {
	t.Helper()
	lower := strings.ToLower(string(body))
	for _, bad := range []string{"sql", "database is closed", ".go:", "goroutine", "no such table", "panic", "ent:"} {
		if strings.Contains(lower, bad) {
			t.Errorf("response shows internal detail %q:\n%s", bad, body)
		}
	}
}

var (
	generatedID = regexp.MustCompile(`^[0-9a-f]{24}$`)
	safeID      = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)
)

// ---------------------------------------------------------------------------
// Authentication through the full server
// ---------------------------------------------------------------------------

func TestAuthenticationRefusals(t *testing.T) {
	t.Parallel()
	s := startKeyed(t, testdb.SQLite(t))

	const query = `{ viewer { subject agency { code } roles } }`

	// The crafted tokens below differ from a valid one in one thing only:
	// check that the valid one is accepted, or the refusals prove nothing.
	t.Run("crafted valid token is accepted", func(t *testing.T) {
		r := send(t, post(t, s.URL, sign(t, s.Key, devClaims("police-tirane", "investigator")), query, nil))
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
		if !strings.Contains(string(r.Body), `"subject":"crafted@test"`) {
			t.Fatalf("viewer is not the token's subject:\n%s", r.Body)
		}
	})

	otherIssuer, err := auth.LoadOrCreateDevKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fromOtherKey, err := otherIssuer.Issue("intruder", "police-tirane", []viewer.Role{viewer.RoleAdmin}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	unknownAgency, err := s.Issuer.Issue("someone", "nope-agency", []viewer.Role{viewer.RoleInvestigator}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired := devClaims("police-tirane", "investigator")
	expired["iat"] = time.Now().Add(-3 * time.Hour).Unix()
	expired["nbf"] = time.Now().Add(-3 * time.Hour).Unix()
	expired["exp"] = time.Now().Add(-2 * time.Hour).Unix()
	noneTok, err := jwt.NewWithClaims(jwt.SigningMethodNone, devClaims("police-tirane", "admin")).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// Algorithm confusion: an HMAC token keyed with the server's public key.
	hsTok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, devClaims("police-tirane", "admin")).SignedString([]byte(s.Key.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	wrongIssuer := devClaims("police-tirane", "investigator")
	wrongIssuer["iss"] = "someone-else"
	wrongAudience := devClaims("police-tirane", "investigator")
	wrongAudience["aud"] = []string{"another-service"}
	notYet := devClaims("police-tirane", "investigator")
	notYet["nbf"] = time.Now().Add(time.Hour).Unix()
	notYet["iat"] = time.Now().Add(time.Hour).Unix()
	notYet["exp"] = time.Now().Add(2 * time.Hour).Unix()
	noRoles := devClaims("police-tirane")
	delete(noRoles, "roles")
	noExp := devClaims("police-tirane", "investigator")
	delete(noExp, "exp")
	// A valid signature does not vouch for a tampered payload.
	valid := sign(t, s.Key, devClaims("police-tirane", "investigator"))
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + jwtSegment(t, devClaims("onac", "admin")) + "." + parts[2]

	cases := []struct {
		name   string
		header string // the whole Authorization header; "" sends none
	}{
		{"no token", ""},
		{"not a bearer token", "Basic dXNlcjpwYXNz"},
		{"garbage token", "Bearer not.a.jwt"},
		{"expired", "Bearer " + sign(t, s.Key, expired)},
		{"not yet valid", "Bearer " + sign(t, s.Key, notYet)},
		{"signed with another dev key", "Bearer " + fromOtherKey},
		{"alg none", "Bearer " + noneTok},
		{"alg HS256 keyed with the public key", "Bearer " + hsTok},
		{"tampered payload", "Bearer " + tampered},
		{"wrong issuer", "Bearer " + sign(t, s.Key, wrongIssuer)},
		{"wrong audience", "Bearer " + sign(t, s.Key, wrongAudience)},
		{"unknown agency", "Bearer " + unknownAgency},
		{"unknown role", "Bearer " + sign(t, s.Key, devClaims("police-tirane", "superuser"))},
		{"unknown role among known ones", "Bearer " + sign(t, s.Key, devClaims("police-tirane", "investigator", "root"))},
		{"no roles", "Bearer " + sign(t, s.Key, noRoles)},
		{"no exp", "Bearer " + sign(t, s.Key, noExp)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := post(t, s.URL, "", query, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			r := send(t, req)
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401:\n%s", r.Status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", r.Header.Get("WWW-Authenticate"))
			}
			if len(r.Errors) != 1 || r.code(0) != "UNAUTHENTICATED" {
				t.Fatalf("want one UNAUTHENTICATED error:\n%s", r.Body)
			}
			if _, ok := r.Top["data"]; ok {
				t.Errorf("a refused request carries data:\n%s", r.Body)
			}
			for _, leak := range []string{"crafted@test", "intruder", "superuser", "nope-agency", "someone-else"} {
				if strings.Contains(string(r.Body), leak) {
					t.Errorf("refusal echoes a claim value %q:\n%s", leak, r.Body)
				}
			}
			if tok := strings.TrimPrefix(tc.header, "Bearer "); len(tok) > 20 && strings.Contains(s.Logs.String(), tok) {
				t.Errorf("the log holds the refused token")
			}
		})
	}
}

// jwtSegment encodes claims as a JWT payload segment.
func jwtSegment(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	raw, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// ---------------------------------------------------------------------------
// GraphQL over HTTP GET
// ---------------------------------------------------------------------------

func TestGraphQLOverGET(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testdb.SQLite(t))
	token := s.Token(t, "police-tirane", viewer.RoleInvestigator)

	getQuery := func(t *testing.T, q url.Values, token string) *reply {
		t.Helper()
		req := get(t, s.URL, "/graphql?"+q.Encode())
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return send(t, req)
	}

	t.Run("query", func(t *testing.T) {
		r := getQuery(t, url.Values{"query": {`{viewer{subject}}`}}, token)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
		if !strings.Contains(string(r.Body), `"subject":"test-investigator@police-tirane"`) {
			t.Fatalf("unexpected body:\n%s", r.Body)
		}
	})

	t.Run("query with variables", func(t *testing.T) {
		r := getQuery(t, url.Values{
			"query":     {`query($n: Int){ cases(first: $n){ totalCount } }`},
			"variables": {`{"n": 1}`},
		}, token)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})

	t.Run("needs a token", func(t *testing.T) {
		r := getQuery(t, url.Values{"query": {`{viewer{subject}}`}}, "")
		if r.Status != http.StatusUnauthorized || r.code(0) != "UNAUTHENTICATED" {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})

	// The mutation works over POST, so its refusal over GET is about the
	// method and nothing else.
	var agencyID string
	{
		r := send(t, post(t, s.URL, token, `{ agencies(where: {code: "police-tirane"}) { edges { node { id } } } }`, nil))
		var data struct {
			Agencies struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		if r.Status != http.StatusOK || len(r.Errors) > 0 || json.Unmarshal(r.Top["data"], &data) != nil || len(data.Agencies.Edges) != 1 {
			t.Fatalf("looking up the agency: status %d:\n%s", r.Status, r.Body)
		}
		agencyID = data.Agencies.Edges[0].Node.ID
	}
	openCase := func(ref string) string {
		return fmt.Sprintf(`mutation { openCase(input: {reference: %q, title: "Opened by the GET test", region: TIRANE, leadAgencyID: %q}) { id reference } }`, ref, agencyID)
	}
	caseExists := func(t *testing.T, ref string) bool {
		t.Helper()
		ok, err := s.DB.Client.CaseFile.Query().Where(casefile.Reference(ref)).Exist(viewer.SystemContext(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	t.Run("mutation over POST works", func(t *testing.T) {
		r := send(t, post(t, s.URL, token, openCase("GET-TEST-POST"), nil))
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
		if !caseExists(t, "GET-TEST-POST") {
			t.Fatal("openCase over POST created nothing")
		}
	})

	for _, tc := range []struct {
		name string
		q    url.Values
		ref  string
	}{
		{"mutation is refused", url.Values{"query": {openCase("GET-TEST-1")}}, "GET-TEST-1"},
		{"mutation picked by operationName is refused", url.Values{
			"query":         {`query Q { viewer { subject } } ` + strings.Replace(openCase("GET-TEST-2"), "mutation {", "mutation M {", 1)},
			"operationName": {"M"},
		}, "GET-TEST-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := getQuery(t, tc.q, token)
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("status %d, want a 4xx refusal:\n%s", r.Status, r.Body)
			}
			if caseExists(t, tc.ref) {
				t.Fatalf("a mutation sent with GET was executed (case %s exists):\n%s", tc.ref, r.Body)
			}
			if _, ok := r.Top["data"]; ok && string(r.Top["data"]) != "null" {
				t.Errorf("refused GET mutation returned data:\n%s", r.Body)
			}
			if len(r.Errors) == 0 {
				t.Fatalf("no error in the refusal:\n%s", r.Body)
			}
			if r.code(0) == "" {
				t.Errorf("BUG: a mutation over GET is refused (status %d) but the error has no extensions.code (docs/design.md, decision 7): %s", r.Status, r.Body)
			}
			if r.code(0) != "BAD_USER_INPUT" {
				t.Errorf("code %q, want BAD_USER_INPUT", r.code(0))
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Errors that reveal nothing
// ---------------------------------------------------------------------------

func TestInternalErrorRevealsNothing(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testdb.SQLite(t))
	token := s.Token(t, "police-tirane")
	// The agencies stay (authentication needs them); the victims' table goes,
	// so the victims resolver fails with a genuine SQL error.
	if _, err := s.DB.SQL.Exec(`DROP TABLE victims`); err != nil {
		t.Fatalf("dropping the victims table: %v", err)
	}
	req := post(t, s.URL, token, `{ victims(first: 1) { totalCount } }`, nil)
	r := send(t, req)
	if r.Status != http.StatusOK {
		t.Errorf("status %d, want 200 (a partial GraphQL response):\n%s", r.Status, r.Body)
	}
	noLeaks(t, r.Body)
	if len(r.Errors) != 1 {
		t.Fatalf("want one error:\n%s", r.Body)
	}
	e := r.Errors[0]
	if e.Code() != "INTERNAL" {
		t.Fatalf("code %q, want INTERNAL:\n%s", e.Code(), r.Body)
	}
	id := r.Header.Get("X-Request-Id")
	if !generatedID.MatchString(id) {
		t.Fatalf("X-Request-Id %q", id)
	}
	if got, _ := e.Extensions["requestId"].(string); got != id {
		t.Errorf("extensions.requestId %q, want the X-Request-Id header %q", got, id)
	}
	for k := range e.Extensions {
		if k != "code" && k != "requestId" {
			t.Errorf("INTERNAL error carries extensions.%s:\n%s", k, r.Body)
		}
	}
	if !strings.Contains(e.Message, id) {
		t.Errorf("message %q does not quote the request id", e.Message)
	}
	var raw []map[string]json.RawMessage
	_ = json.Unmarshal(r.Top["errors"], &raw)
	for k := range raw[0] {
		switch k {
		case "message", "path", "locations", "extensions":
		default:
			t.Errorf("INTERNAL error carries member %q:\n%s", k, r.Body)
		}
	}
	// The details are in the log, under the same request id.
	logs := s.Logs()
	if !strings.Contains(logs, `"msg":"internal error"`) || !strings.Contains(logs, "no such table") {
		t.Errorf("the log lacks the internal error's detail:\n%s", logs)
	}
	if !strings.Contains(logs, `"request_id":"`+id+`"`) {
		t.Errorf("the log lacks request id %s:\n%s", id, logs)
	}
}

func TestDatabaseDown(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testdb.SQLite(t))
	token := s.Token(t, "police-tirane")

	if r := send(t, get(t, s.URL, "/readyz")); r.Status != http.StatusOK {
		t.Fatalf("/readyz with a live database: status %d:\n%s", r.Status, r.Body)
	}
	if err := s.DB.SQL.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("readyz", func(t *testing.T) {
		r := send(t, get(t, s.URL, "/readyz"))
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503:\n%s", r.Status, r.Body)
		}
		noLeaks(t, r.Body)
	})
	t.Run("healthz", func(t *testing.T) {
		// Liveness does not depend on the database.
		if r := send(t, get(t, s.URL, "/healthz")); r.Status != http.StatusOK {
			t.Fatalf("status %d:\n%s", r.Status, r.Body)
		}
	})
	t.Run("graphql", func(t *testing.T) {
		r := send(t, post(t, s.URL, token, `{ cases(first: 1) { totalCount } }`, nil))
		noLeaks(t, r.Body)
		if r.Status != http.StatusOK && r.Status != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 200 or 503", r.Status)
		}
		if len(r.Errors) == 0 || (r.code(0) != "UNAVAILABLE" && r.code(0) != "INTERNAL") {
			t.Fatalf("want UNAVAILABLE or INTERNAL:\n%s", r.Body)
		}
		if strings.Contains(string(r.Top["data"]), "totalCount") {
			t.Errorf("data from a closed database:\n%s", r.Body)
		}
		id := r.Header.Get("X-Request-Id")
		if got, _ := r.Errors[0].Extensions["requestId"].(string); got != id {
			t.Errorf("BUG: with the database down, /graphql answers %d %s without extensions.requestId (got %q, X-Request-Id %q); "+
				"graph/errors.go puts requestId on every UNAVAILABLE/INTERNAL error but auth.Middleware's refusal does not: %s",
				r.Status, r.code(0), got, id, r.Body)
		}
	})
}

// ---------------------------------------------------------------------------
// Health, readiness, metrics
// ---------------------------------------------------------------------------

func TestHealthReadinessMetrics(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testdb.SQLite(t))

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
	t.Parallel()
	s := testserver.Start(t, testdb.SQLite(t))
	token := s.Token(t, "police-tirane")

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
	t.Run("echoed", func(t *testing.T) {
		const id = "client-req.0042_abc"
		r := withID(t, id)
		if got := r.Header.Get("X-Request-Id"); got != id {
			t.Fatalf("X-Request-Id %q, want %q echoed", got, id)
		}
		if !strings.Contains(s.Logs(), `"request_id":"`+id+`"`) {
			t.Error("the log does not use the client's id")
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

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testdb.SQLite(t))
	token := s.Token(t, "police-tirane")

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
			if strings.Contains(s.Logs(), `"msg":"panic`) {
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
	t.Parallel()
	s := testserver.Start(t, testdb.SQLite(t))
	token := s.Token(t, "police-tirane")
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
	if strings.Contains(logs, `"msg":"panic`) {
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
	t.Parallel()
	s := testserver.Start(t, testdb.SQLite(t), testserver.Options{Config: server.Config{RateLimit: 3}})
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
	// balancer's; the forged left-most hop is ignored.
	req := post(t, s.URL, "not-a-token", `{ viewer { subject } }`, nil)
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

// ---------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------

func TestLogsCarryNoVictimData(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testdb.SQLite(t))
	// A prosecutor reads the identity of the victims of the proceedings
	// their office conducts (the proceeding is the legal basis; no consent
	// needed): build such a case.
	token := s.Token(t, "prosecution-tirane", viewer.RoleProsecutor)
	ctx := viewer.SystemContext(context.Background())
	agencyID := func(code string) int {
		id, err := s.DB.Client.Agency.Query().Where(agency.Code(code)).OnlyID(ctx)
		if err != nil {
			t.Fatalf("agency %s: %v", code, err)
		}
		return id
	}
	name := fmt.Sprintf("Zanafina Qyrbashi-%d", time.Now().UnixNano())
	phone := "+355 69 555 0199"
	v, err := s.DB.Client.Victim.Create().
		SetPseudonym("V-2099-0001").SetSex(domain.SexFemale).SetAgeGroup(domain.AgeGroupAdult).
		SetIdentificationStatus(domain.IdentificationStatusPotentialVictim).
		SetIdentifiedBy(domain.IdentifyingBodyStatePolice).SetIdentifiedAt(time.Now().Add(-24 * time.Hour)).
		SetRegion(domain.RegionTirane).SetLegalName(name).SetPhone(phone).
		Save(ctx)
	if err != nil {
		t.Fatalf("creating the victim: %v", err)
	}
	cf, err := s.DB.Client.CaseFile.Create().
		SetReference("TIR-2099-0001").SetTitle("Log test").SetStage(domain.ProceedingStageRegistered).
		SetRegion(domain.RegionTirane).SetLeadAgencyID(agencyID("police-tirane")).
		Save(ctx)
	if err != nil {
		t.Fatalf("creating the case: %v", err)
	}
	if err := s.DB.Client.CaseAssignment.Create().SetCaseID(cf.ID).SetAgencyID(agencyID("prosecution-tirane")).
		SetPart(domain.CasePartProsecuting).Exec(ctx); err != nil {
		t.Fatalf("assigning the prosecution office: %v", err)
	}
	if err := s.DB.Client.CaseVictim.Create().SetCaseID(cf.ID).SetVictimID(v.ID).Exec(ctx); err != nil {
		t.Fatalf("linking the victim: %v", err)
	}

	req := post(t, s.URL, token, `query($p: String) { victims(first: 10, where: {pseudonym: $p}) { edges { node { pseudonym legalName phone } } } }`,
		map[string]any{"p": "V-2099-0001"})
	r := send(t, req)
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("status %d:\n%s\nlog:\n%s", r.Status, r.Body, s.Logs())
	}
	if !strings.Contains(string(r.Body), name) {
		t.Fatalf("the response lacks the legal name (the query did not read it):\n%s", r.Body)
	}
	// The same read over GET, whose query string the log must not copy.
	q := url.Values{"query": {`query($n: String) { victims(first: 1, where: {pseudonym: $n}) { edges { node { legalName } } } }`}, "variables": {`{"n": "` + name + `"}`}}
	getReq := get(t, s.URL, "/graphql?"+q.Encode())
	getReq.Header.Set("Authorization", "Bearer "+token)
	if r := send(t, getReq); r.Status != http.StatusOK {
		t.Fatalf("GET: status %d:\n%s", r.Status, r.Body)
	}

	logs := s.Logs()
	id := r.Header.Get("X-Request-Id")
	if !strings.Contains(logs, `"request_id":"`+id+`"`) || !strings.Contains(logs, `"path":"/graphql"`) {
		t.Errorf("no request line with request id %s:\n%s", id, logs)
	}
	for _, secret := range []string{name, "Zanafina", phone} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds victim data %q:\n%s", secret, logs)
		}
	}

}

// ---------------------------------------------------------------------------
// Graceful shutdown
// ---------------------------------------------------------------------------

// waitRefused waits until addr refuses connections.
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
			t.Fatalf("%s still accepts connections after %v", addr, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listening is a server running ListenAndServe on a loopback port.
type listening struct {
	addr   string
	token  string
	cancel context.CancelFunc
	done   chan struct{}
	err    error // set before done is closed
}

// returned reports whether ListenAndServe has returned, waiting up to d.
func (l *listening) returned(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-l.done:
			return true
		default:
			return false
		}
	}
	select {
	case <-l.done:
		return true
	case <-time.After(d):
		return false
	}
}

func startListening(t *testing.T, grace time.Duration) *listening {
	t.Helper()
	db := testdb.SQLite(t)
	if err := seed.Agencies(context.Background(), db.Client); err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.LoadOrCreateDevKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	token, err := issuer.Issue("shutdown@test", "police-tirane", []viewer.Role{viewer.RoleInvestigator}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{DB: db, Verifier: issuer, Enforcer: enforcer(t, db), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &listening{addr: ln.Addr().String(), token: token, cancel: cancel, done: make(chan struct{})}
	go func() {
		l.err = srv.ListenAndServe(ctx, ln, grace)
		close(l.done)
	}()
	t.Cleanup(func() {
		cancel()
		if !l.returned(grace + 5*time.Second) {
			t.Error("ListenAndServe did not return at cleanup")
		}
	})
	return l
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	l := startListening(t, 15*time.Second)
	addr, token := l.addr, l.token
	base := "http://" + addr

	// An ordinary request first, on a connection kept alive afterwards.
	idle, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	_ = idle.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(idle, "GET /readyz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	idleReader := bufio.NewReader(idle)
	res, err := http.ReadResponse(idleReader, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("/readyz: status %d, close %v", res.StatusCode, res.Close)
	}
	if r := send(t, post(t, base, token, `{ viewer { subject } }`, nil)); r.Status != http.StatusOK {
		t.Fatalf("status %d:\n%s", r.Status, r.Body)
	}

	f := testserver.StartInflight(t, addr, token, `{ viewer { subject } cases(first: 1) { totalCount } }`)
	l.cancel()
	waitRefused(t, addr, 10*time.Second)

	// The idle keep-alive connection is closed by the server.
	if _, err := idleReader.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Errorf("the idle connection was not closed: read returned %v", err)
	}
	// While a request is in flight, the server waits for it.
	if l.returned(0) {
		t.Fatalf("ListenAndServe returned (%v) while a request was in flight", l.err)
	}

	status, body := f.Finish(t)
	if status != http.StatusOK || !strings.Contains(string(body), `"subject":"shutdown@test"`) || !strings.Contains(string(body), `"totalCount":0`) {
		t.Fatalf("the in-flight request did not complete: status %d:\n%s", status, body)
	}
	if !l.returned(10 * time.Second) {
		t.Fatal("ListenAndServe did not return after the last request finished")
	}
	if l.err != nil {
		t.Fatalf("ListenAndServe returned %v, want nil", l.err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("a new connection was accepted after shutdown")
	}
}

func TestShutdownGraceExpires(t *testing.T) {
	t.Parallel()
	const grace = 300 * time.Millisecond
	l := startListening(t, grace)
	_ = testserver.StartInflight(t, l.addr, l.token, `{ viewer { subject } }`) // never finished
	start := time.Now()
	l.cancel()
	if !l.returned(grace + 10*time.Second) {
		t.Fatal("ListenAndServe did not return after its grace period")
	}
	if took := time.Since(start); took < grace {
		t.Errorf("returned after %v, before the grace period of %v", took, grace)
	}
	if l.err == nil {
		t.Error("ListenAndServe returned nil although a request was cut off")
	} else if !errors.Is(l.err, context.DeadlineExceeded) {
		t.Logf("ListenAndServe returned %v", l.err)
	}
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}
