package server_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
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

	// recorded: the refusal is an audit event, as it is for a token a
	// trusted key signed; what anyone can send for free leaves none.
	cases := []struct {
		name     string
		header   string // the whole Authorization header; "" sends none
		recorded bool
	}{
		{"no token", "", false},
		{"not a bearer token", "Basic dXNlcjpwYXNz", false},
		{"garbage token", "Bearer not.a.jwt", false},
		{"expired", "Bearer " + sign(t, s.Key, expired), true},
		{"not yet valid", "Bearer " + sign(t, s.Key, notYet), true},
		{"signed with another dev key", "Bearer " + fromOtherKey, false},
		{"alg none", "Bearer " + noneTok, false},
		{"alg HS256 keyed with the public key", "Bearer " + hsTok, false},
		{"tampered payload", "Bearer " + tampered, false},
		{"wrong issuer", "Bearer " + sign(t, s.Key, wrongIssuer), true},
		{"wrong audience", "Bearer " + sign(t, s.Key, wrongAudience), true},
		{"unknown agency", "Bearer " + unknownAgency, true},
		{"unknown role", "Bearer " + sign(t, s.Key, devClaims("police-tirane", "superuser")), true},
		{"unknown role among known ones", "Bearer " + sign(t, s.Key, devClaims("police-tirane", "investigator", "root")), true},
		{"no roles", "Bearer " + sign(t, s.Key, noRoles), true},
		{"no exp", "Bearer " + sign(t, s.Key, noExp), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := post(t, s.URL, "", query, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			before := len(testdb.AuditTrail(t, s.DB))
			r := send(t, req)
			if written := len(testdb.AuditTrail(t, s.DB)) - before; written != map[bool]int{true: 1, false: 0}[tc.recorded] {
				t.Errorf("%d audit events written, want recorded %v", written, tc.recorded)
			}
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
			if tok := strings.TrimPrefix(tc.header, "Bearer "); len(tok) > 20 && strings.Contains(s.Logs(), tok) {
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

// TestRefusedTokenIsRecordedWhenItsClientLeaves: a token a trusted key
// signed, refused for its claims (expired), is recorded
// (AUTHENTICATION_REFUSED) even when its client closes the connection while
// the event waits for the trail, behind another batch as under load. The
// event was written with the request's own context, so it dropped out of
// the queue and nothing of it was written (a hunt); the reads' events have
// a context of their own for this reason (audit.DetachedContext).
func TestRefusedTokenIsRecordedWhenItsClientLeaves(t *testing.T) {
	t.Parallel()
	db := testdb.SQLiteFile(t)
	s := testserver.Start(t, db)
	ctx := context.Background()
	expired := testserver.DevClaims("police-tirane", "investigator")
	expired["iat"] = time.Now().Add(-3 * time.Hour).Unix()
	expired["nbf"] = time.Now().Add(-3 * time.Hour).Unix()
	expired["exp"] = time.Now().Add(-2 * time.Hour).Unix()
	token := testserver.Sign(t, s.Key, expired)
	ask := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { subject } }"}`))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}

	// Another writer holds SQLite's write lock for a moment: the trail's
	// next batch waits for it, and the next refusal waits behind that.
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { first <- ask(ctx) }()
	time.Sleep(300 * time.Millisecond)
	leave, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if err := ask(leave); err == nil {
		t.Error("the second refusal was answered while the trail was locked: the test holds nothing up")
	}
	cancel()
	time.Sleep(300 * time.Millisecond) // the server notices its client left
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatalf("the first refusal: %v", err)
	}

	// The second's write may end after the first's answer: wait for it.
	var events []audit.Event
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		events, err = audit.Query(ctx, db.Client, audit.Scope{All: true}, audit.Filter{Kind: audit.AuthenticationRefused}, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 2 {
			break
		}
	}
	if len(events) != 2 {
		t.Errorf("two signed tokens were refused; the trail records %d (the one whose client left is not written)", len(events))
	}
}
