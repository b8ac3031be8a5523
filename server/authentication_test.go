package server_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/internal/testdb"
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
