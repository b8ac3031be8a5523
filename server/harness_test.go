package server_test

// The helpers of the server's tests: testserver's harness, with the
// shapes these tests read (a reply's top-level members, its media type).

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// reply is an HTTP response as a client got it, with its GraphQL shape.
type reply struct{ *testserver.Response }

func (r *reply) code(i int) string {
	if i >= len(r.Errors) {
		return ""
	}
	return r.Errors[i].Code()
}

// send sends req and reads the whole response; a JSON body is decoded.
func send(t *testing.T, req *http.Request) *reply {
	t.Helper()
	return &reply{testserver.Send(t, req)}
}

// post builds a POST /graphql request.
func post(t *testing.T, base, token, query string, vars map[string]any) *http.Request {
	t.Helper()
	return testserver.Post(t, base, token, query, vars)
}

func get(t *testing.T, base, path string) *http.Request {
	t.Helper()
	return testserver.Get(t, base, path)
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

// startKeyed starts a server whose development signing key the test holds
// (testserver.Server.Key), so it can sign tokens the DevIssuer would never
// issue.
func startKeyed(t *testing.T, db *database.DB) *testserver.Server {
	t.Helper()
	return testserver.Start(t, db)
}

// devClaims are the claims of a valid development token, for the test to
// spoil one at a time.
func devClaims(agency string, roles ...string) jwt.MapClaims {
	return testserver.DevClaims(agency, roles...)
}

func sign(t *testing.T, key ed25519.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	return testserver.Sign(t, key, claims)
}

// panicked reports whether the server logged a panic.
func panicked(t *testing.T, s *testserver.Server) bool {
	t.Helper()
	for _, r := range s.LogRecords(t) {
		if strings.HasPrefix(r.Msg(), "panic") {
			return true
		}
	}
	return false
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

// startParallel marks t parallel and starts a server over a fresh SQLite
// database with the agency registry loaded, until the test ends.
func startParallel(t *testing.T, opts ...testserver.Options) *testserver.Server {
	t.Helper()
	t.Parallel()
	return testserver.Start(t, testdb.SQLite(t), opts...)
}

// startAsPolice is startParallel with the token of a Tirana police
// investigator: a caller the server knows, for tests of what it does with
// any signed-in request.
func startAsPolice(t *testing.T) (*testserver.Server, string) {
	t.Helper()
	s := startParallel(t)
	return s, s.Token(t, "police-tirane", viewer.RoleInvestigator)
}

// newServer builds a server (not yet listening) as serve does, over a fresh
// SQLite database with the agency registry, trusting a development key of
// its own, whose issuer it returns; it logs nowhere. cfg gives the rest.
func newServer(t *testing.T, cfg server.Config) (*server.Server, *auth.DevIssuer) {
	t.Helper()
	db := cfg.DB // a test's own, or a fresh one
	if db == nil {
		db = testdb.SQLite(t)
	}
	if err := seed.Agencies(context.Background(), db.Client); err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.LoadOrCreateDevKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg.DB, cfg.Verifier, cfg.Enforcer = db, issuer, enforcer(t, db)
	cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	return server.New(cfg), issuer
}
