package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Refetching the provider's keys. OpenID Connect tells a verifier to fetch
// the provider's key set again when a token names a key it does not know
// (that is how a provider rotates keys). go-oidc's remote key set does so
// for every token no cached key verifies, so anyone could make the server
// ask the provider for its keys on every request by sending tokens with a
// made-up key id or a bad signature, and make each of those requests wait
// for the provider. providerKeys refetches at most once every
// keysRefetchInterval (30 s, as panva/jose does by default): a key the
// provider starts using within 30 s of the last fetch is accepted up to
// 30 s late, and a provider that fails is asked again only after the same
// wait, meanwhile every token that needs it is answered unavailable.
const (
	keysRefetchInterval = 30 * time.Second
	// keysFetchTimeout bounds one fetch. The fetch is shared by every
	// request waiting for it, so it does not end with any one of them; a
	// request gives up on it at its own deadline.
	keysFetchTimeout = 10 * time.Second
	// keysMaxBytes bounds the key set read: a provider publishes a few keys.
	keysMaxBytes = 1 << 20
)

// providerKeys is the provider's signing keys, fetched from its jwks_uri on
// first use and again, at most every keysRefetchInterval, when no key held
// verifies a token. It implements go-oidc's oidc.KeySet.
type providerKeys struct {
	url    string
	algs   []jose.SignatureAlgorithm
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	attempted time.Time // when the last fetch started; zero before the first
	lastErr   error     // why the last fetch failed; nil if it did not
	inflight  chan struct{}
}

func newProviderKeys(url string, algs []string) *providerKeys {
	k := &providerKeys{url: url, client: &http.Client{Timeout: keysFetchTimeout}, now: time.Now}
	for _, a := range algs {
		k.algs = append(k.algs, jose.SignatureAlgorithm(a))
	}
	return k
}

// VerifySignature implements oidc.KeySet: it returns the token's payload if
// a key of the provider verifies its signature.
func (k *providerKeys) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	jws, err := jose.ParseSigned(token, k.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed token: %w", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	held := k.keys
	k.mu.Unlock()
	if payload, ok := verifyWith(jws, kid, held); ok {
		return payload, nil
	}
	fetched, err := k.refetch(ctx)
	if err != nil {
		return nil, err
	}
	if payload, ok := verifyWith(jws, kid, fetched); ok {
		return payload, nil
	}
	return nil, errors.New("no key of the provider verifies the token's signature")
}

// verifyWith tries the keys named kid (every key when the token names none).
func verifyWith(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) ([]byte, bool) {
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// refetch fetches the keys again unless a fetch started less than
// keysRefetchInterval ago, in which case it returns what that fetch left:
// its keys, or its error if it failed. Requests arriving while a fetch runs
// wait for that one.
func (k *providerKeys) refetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	wait := k.inflight
	if wait == nil && (k.attempted.IsZero() || k.now().Sub(k.attempted) >= keysRefetchInterval) {
		wait = make(chan struct{})
		k.inflight, k.attempted = wait, k.now()
		go k.fetch(wait)
	}
	k.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, k.lastErr
}

// fetch reads the key set and keeps it (or, on failure, keeps the keys
// held and the error), then closes done.
func (k *providerKeys) fetch(done chan struct{}) {
	keys, err := k.read()
	k.mu.Lock()
	if err == nil {
		k.keys = keys
	}
	k.lastErr = err
	k.inflight = nil
	k.mu.Unlock()
	close(done)
}

func (k *providerKeys) read() ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), keysFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err // a *url.Error: isFetchFailure
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the provider's keys: HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, keysMaxBytes))
	if err != nil {
		return nil, err
	}
	return parseKeySet(body)
}

// parseKeySet reads a JWK set, leaving out the keys of a type or algorithm
// go-jose does not know (a provider may publish keys for other uses).
func parseKeySet(body []byte) ([]jose.JSONWebKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("the provider's keys: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, r := range raw.Keys {
		var key jose.JSONWebKey
		if err := json.Unmarshal(r, &key); err != nil {
			continue
		}
		keys = append(keys, key)
	}
	return keys, nil
}
