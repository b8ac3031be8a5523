package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/auth"
)

// TestOIDCUnknownKeysDoNotFloodTheProvider: tokens that no key of the
// provider verifies (a made-up key id, a forged signature, no key id) are
// refused as bad signatures without asking the provider for its keys each
// time: once the keys are fetched, the next fetch waits 30 seconds
// whatever arrives (go-oidc's own key set fetched once for every such
// token).
func TestOIDCUnknownKeysDoNotFloodTheProvider(t *testing.T) {
	p := newIDP(t)
	ctx := context.Background()
	v, err := auth.NewOIDCVerifier(ctx, p.srv.URL, oidcAudience)
	if err != nil {
		t.Fatal(err)
	}
	valid := sign(t, jwt.SigningMethodRS256, p.key, claims(p.srv.URL, oidcAudience, nil), map[string]any{"kid": p.kid})
	if _, err := v.Verify(ctx, valid); err != nil {
		t.Fatalf("a valid token: %v", err)
	}
	if n := p.keyFetches.Load(); n != 1 {
		t.Fatalf("%d key fetches for the first token, want 1", n)
	}
	forger := rsaKey(t)
	for i := range 40 {
		header := map[string]any{"kid": fmt.Sprintf("made-up-%d", i)}
		switch i % 3 {
		case 1:
			header["kid"] = p.kid // the provider's key id, a forged signature
		case 2:
			header = nil // no key id: every key is tried
		}
		token := sign(t, jwt.SigningMethodRS256, forger, claims(p.srv.URL, oidcAudience, nil), header)
		if _, err := v.Verify(ctx, token); !errors.Is(err, auth.ErrSignature) {
			t.Fatalf("token %d: err = %v, want %v", i, err, auth.ErrSignature)
		}
	}
	if n := p.keyFetches.Load(); n != 1 {
		t.Errorf("%d key fetches after 40 tokens no key verifies, want still 1", n)
	}
	if _, err := v.Verify(ctx, valid); err != nil {
		t.Errorf("the valid token afterwards: %v", err)
	}
}
