package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
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
	// raw, when set, is answered instead of keys, with status.
	raw    string
	status int
}

func newKeyServer(t *testing.T) *keyServer {
	s := &keyServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case s.down:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case s.raw != "":
			w.WriteHeader(s.status)
			_, _ = w.Write([]byte(s.raw))
		default:
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: s.keys})
		}
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

// answer makes the server answer status and body instead of its keys
// (until called with an empty body).
func (s *keyServer) answer(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.raw = status, body
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
// cannot be reached is reported as such (isFetchFailure) and asked again
// after a delay that starts at keysRetryFirst and doubles, and the keys
// already held keep verifying meanwhile.
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
	now = now.Add(keysRetryFirst / 2)
	if err := verifies(token3()); !isFetchFailure(err) {
		t.Fatalf("provider down, before the retry: err = %v, want the fetch failure again", err)
	}
	wantFetches("provider down, before the retry", 3)
	if err := verifies(token1()); err != nil {
		t.Errorf("a key held, provider down: %v", err)
	}
	now = now.Add(keysRetryFirst / 2)
	if err := verifies(token3()); !isFetchFailure(err) {
		t.Fatalf("provider down, first retry: err = %v, want a fetch failure", err)
	}
	wantFetches("provider down, first retry", 4)
	now = now.Add(keysRetryFirst) // the second retry waits twice as long
	_ = verifies(token3())
	wantFetches("provider down, before the second retry", 4)

	s.setDown(false)
	now = now.Add(keysRetryFirst)
	if err := verifies(token2()); err != nil {
		t.Fatalf("provider back: %v", err)
	}
	if err := verifies(token3()); err == nil || isFetchFailure(err) {
		t.Fatalf("a key the provider does not publish, provider back: err = %v, want a refusal", err)
	}
	wantFetches("provider back", 5)
}

// TestProviderKeysFromWhatTheProviderAnswers: an error status, or a key set
// with nothing usable in it, is an outage (isFetchFailure: 503, not a bad
// token) that keeps the keys held; keys published for encryption or for
// another algorithm do not verify a signature, and keys of a type go-jose
// does not know are passed over.
func TestProviderKeysFromWhatTheProviderAnswers(t *testing.T) {
	ctx := context.Background()
	s := newKeyServer(t)
	pub1, token1 := signingKey(t, "key-1")
	s.publish(pub1)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	k := newProviderKeys(s.srv.URL, []string{"RS256"})
	k.now = func() time.Time { return now }
	if _, err := k.VerifySignature(ctx, token1()); err != nil {
		t.Fatalf("key-1: %v", err)
	}
	_, token2 := signingKey(t, "key-2")
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"503", "try later", http.StatusServiceUnavailable},
		{"not JSON", "<html>", http.StatusOK},
		{"an unreadable key", `{"keys":[{"kty":"RSA","kid":"key-2","n":"%%%","e":"AQAB"}]}`, http.StatusOK},
		{"no key", `{"keys":[]}`, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.answer(tc.status, tc.body)
			now = now.Add(keysRefetchInterval)
			if _, err := k.VerifySignature(ctx, token2()); !isFetchFailure(err) {
				t.Errorf("err = %v, want a fetch failure", err)
			}
			if _, err := k.VerifySignature(ctx, token1()); err != nil {
				t.Errorf("the key held: %v", err)
			}
		})
	}

	// Published for encryption, or for another algorithm, beside keys of a
	// type or curve go-jose does not read: none verifies, though the
	// signature is the key's, while key-3 of the same set does.
	encryption, tokenEnc := signingKey(t, "key-enc")
	encryption.Use = "enc"
	otherAlg, tokenPS := signingKey(t, "key-ps")
	otherAlg.Algorithm = "PS256"
	pub3, token3 := signingKey(t, "key-3")
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub1, encryption, otherAlg, pub3}})
	if err != nil {
		t.Fatal(err)
	}
	unreadable := `{"kty":"unknown","kid":"x"},` +
		`{"kty":"EC","crv":"secp256k1","kid":"k1","use":"sig","alg":"ES256K","x":"AAAA","y":"AAAA"},`
	s.answer(http.StatusOK, strings.Replace(string(set), `{"keys":[`, `{"keys":[`+unreadable, 1))
	now = now.Add(keysRefetchInterval)
	for name, token := range map[string]string{"use enc": tokenEnc(), "alg PS256": tokenPS()} {
		if _, err := k.VerifySignature(ctx, token); err == nil || isFetchFailure(err) {
			t.Errorf("%s: err = %v, want a refusal", name, err)
		}
	}
	if _, err := k.VerifySignature(ctx, token3()); err != nil {
		t.Errorf("key-3, published beside them: %v", err)
	}
}

// TestProviderKeysRetryCountsFromTheFailure: the delay before asking a
// failing provider again counts from when its answer came, so a provider
// that takes the whole fetch timeout to fail is not asked again at once
// (each request would wait that long again).
func TestProviderKeysRetryCountsFromTheFailure(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC).UnixNano())
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		clock.Add(int64(keysFetchTimeout)) // the provider takes the whole timeout to fail
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	k := newProviderKeys(srv.URL, []string{"RS256"})
	k.now = func() time.Time { return time.Unix(0, clock.Load()) }
	_, token := signingKey(t, "key-1")
	for range 5 { // each request right after the previous answer
		if _, err := k.VerifySignature(context.Background(), token()); !isFetchFailure(err) {
			t.Fatalf("err = %v, want a fetch failure", err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches of a provider that fails slowly, one right after the other; want 1", n)
	}
}
