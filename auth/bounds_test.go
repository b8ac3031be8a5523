package auth_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/auth"
)

// claimBounds are tokens that a trusted key signed but no issuer CaseGraph
// trusts would make: refused when verifying, whoever holds the key, on the
// development and the OIDC path alike. edit changes valid claims; a nil
// want means the token is accepted (the edges of each bound).
func claimBounds() []struct {
	name string
	edit map[string]any
	want error
} {
	now := time.Now()
	roles := func(n int) []string { return slices.Repeat([]string{"analyst"}, n) }
	return []struct {
		name string
		edit map[string]any
		want error
	}{
		{"exp a year ahead", map[string]any{"exp": now.AddDate(1, 0, 0).Unix()}, auth.ErrLifetime},
		{"exp in year 9999", map[string]any{"exp": time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).Unix()}, auth.ErrLifetime},
		{"exp just over the maximum lifetime", map[string]any{"exp": now.Add(auth.MaxTokenTTL + auth.ClockSkew + time.Minute).Unix()}, auth.ErrLifetime},
		{"exp at the maximum lifetime", map[string]any{"exp": now.Add(auth.MaxTokenTTL).Unix()}, nil},
		{"sub of a megabyte", map[string]any{"sub": strings.Repeat("s", 1<<20)}, auth.ErrClaims},
		{"sub one byte too long", map[string]any{"sub": strings.Repeat("s", auth.MaxSubjectLength+1)}, auth.ErrClaims},
		{"sub at its bound", map[string]any{"sub": strings.Repeat("s", auth.MaxSubjectLength)}, nil},
		{"sub with NUL", map[string]any{"sub": "officer\x0042"}, auth.ErrClaims},
		{"sub with a bidi override", map[string]any{"sub": "officer\u202e24"}, auth.ErrClaims},
		{"agency one byte too long", map[string]any{"agency": strings.Repeat("a", auth.MaxAgencyLength+1)}, auth.ErrClaims},
		{"agency with a line break", map[string]any{"agency": "police-tirane\nadmin"}, auth.ErrClaims},
		{"roles over the bound", map[string]any{"roles": roles(auth.MaxRoleClaims + 1)}, auth.ErrClaims},
		{"roles of a hundred thousand", map[string]any{"roles": roles(100_000)}, auth.ErrClaims},
		{"roles at the bound", map[string]any{"roles": roles(auth.MaxRoleClaims)}, nil},
	}
}

func TestDevVerifyRefusesAbsurdClaims(t *testing.T) {
	d, key := newDevIssuer(t)
	for _, tt := range claimBounds() {
		t.Run(tt.name, func(t *testing.T) {
			raw := sign(t, jwt.SigningMethodEdDSA, key, devClaims(tt.edit), nil)
			checkBound(t, d, raw, tt.want)
		})
	}
}

func TestOIDCVerifyRefusesAbsurdClaims(t *testing.T) {
	p := newIDP(t)
	v, err := auth.NewOIDCVerifier(context.Background(), p.srv.URL, oidcAudience)
	if err != nil {
		t.Fatalf("NewOIDCVerifier: %v", err)
	}
	for _, tt := range claimBounds() {
		t.Run(tt.name, func(t *testing.T) {
			raw := sign(t, jwt.SigningMethodRS256, p.key, claims(p.srv.URL, oidcAudience, tt.edit), map[string]any{"kid": p.kid})
			checkBound(t, v, raw, tt.want)
		})
	}
}

// checkBound verifies raw with v and, through the real middleware, that a
// refused token is UNAUTHENTICATED and never reaches the API.
func checkBound(t *testing.T, v auth.Verifier, raw string, want error) {
	t.Helper()
	c, err := v.Verify(context.Background(), raw)
	if want == nil {
		if err != nil || c == nil {
			t.Fatalf("Verify: %v, want the token accepted", err)
		}
		return
	}
	if c != nil || !errors.Is(err, want) {
		t.Fatalf("Verify = %+v, %v; want %v", c, err, want)
	}
	res := serve(t, v, knownAgencies, "Bearer "+raw)
	if res.status != http.StatusUnauthorized || res.code != string(apperr.Unauthenticated) || res.nextCalled {
		t.Errorf("middleware: status %d, code %s, next called %v; want 401 UNAUTHENTICATED", res.status, res.code, res.nextCalled)
	}
	if !strings.Contains(res.message, want.Error()) {
		t.Errorf("message %q does not give the reason %q", res.message, want.Error())
	}
}
