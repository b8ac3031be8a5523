package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keyServer publishes a JWK set that a test changes, counting fetches; when
// down it drops every connection (a transport error, as an unreachable
// provider gives).
type keyServer struct {
	srv     *httptest.Server
	fetches atomic.Int64
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	down    bool
}

func newKeyServer(t *testing.T) *keyServer {
	s := &keyServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: s.keys})
	}))
	// A new connection each fetch: Go's client sends a GET again, once,
	// when a reused connection is dropped, which would count twice.
	s.srv.Config.SetKeepAlivesEnabled(false)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *keyServer) publish(keys ...jose.JSONWebKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *keyServer) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// signingKey returns a new RSA key named kid, and a function that signs a
// token with it.
func signingKey(t *testing.T, kid string) (jose.JSONWebKey, func() string) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}, func() string {
		jws, err := signer.Sign([]byte(`{"sub":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		token, err := jws.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
}

// TestProviderKeysRefetchAtMostEveryInterval: a key the provider starts
// using is accepted once keysRefetchInterval has passed since the last
// fetch, not before (and asking before does not fetch); a provider that
// cannot be reached is reported as such (isFetchFailure), is not asked
// again within the interval, and the keys already held keep verifying
// meanwhile.
func TestProviderKeysRefetchAtMostEveryInterval(t *testing.T) {
	ctx := context.Background()
	s := newKeyServer(t)
	pub1, token1 := signingKey(t, "key-1")
	pub2, token2 := signingKey(t, "key-2")
	s.publish(pub1)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	k := newProviderKeys(s.srv.URL, []string{"RS256"})
	k.now = func() time.Time { return now }
	verifies := func(token string) error {
		_, err := k.VerifySignature(ctx, token)
		return err
	}
	wantFetches := func(step string, n int64) {
		t.Helper()
		if got := s.fetches.Load(); got != n {
			t.Fatalf("%s: %d fetches, want %d", step, got, n)
		}
	}

	if err := verifies(token1()); err != nil {
		t.Fatalf("key-1: %v", err)
	}
	wantFetches("first token", 1)

	s.publish(pub1, pub2) // the provider rotates
	now = now.Add(keysRefetchInterval - time.Second)
	if err := verifies(token2()); err == nil || isFetchFailure(err) {
		t.Fatalf("key-2 within the interval: err = %v, want a refusal", err)
	}
	wantFetches("key-2 within the interval", 1)

	now = now.Add(time.Second)
	if err := verifies(token2()); err != nil {
		t.Fatalf("key-2 once the interval passed: %v", err)
	}
	wantFetches("key-2 once the interval passed", 2)

	s.setDown(true)
	now = now.Add(keysRefetchInterval)
	_, token3 := signingKey(t, "key-3")
	if err := verifies(token3()); !isFetchFailure(err) {
		t.Fatalf("provider down: err = %v, want a fetch failure", err)
	}
	wantFetches("provider down", 3)
	now = now.Add(keysRefetchInterval / 2)
	if err := verifies(token3()); !isFetchFailure(err) {
		t.Fatalf("provider down, within the interval: err = %v, want the fetch failure again", err)
	}
	wantFetches("provider down, within the interval", 3)
	if err := verifies(token1()); err != nil {
		t.Errorf("a key held, provider down: %v", err)
	}
}
