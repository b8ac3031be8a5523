package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
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
// keysRefetchInterval after a fetch that succeeded (30 s, as panva/jose
// does by default), so a key the provider starts using within 30 s of the
// last fetch is accepted up to 30 s late. After a fetch that failed it
// tries again sooner, after keysRetryFirst doubling up to the same 30 s,
// so that one failure while the provider restarts does not refuse every
// token for 30 s; meanwhile a token that needs the keys is answered
// unavailable (503), never invalid.
const (
	keysRefetchInterval = 30 * time.Second
	keysRetryFirst      = time.Second
	// keysFetchTimeout bounds one fetch. The fetch is shared by every
	// request waiting for it, so it does not end with any one of them; a
	// request gives up on it at its own deadline.
	keysFetchTimeout = 10 * time.Second
	// keysMaxBytes bounds the key set read: a provider publishes a few keys.
	keysMaxBytes = 1 << 20
)

// errKeysUnavailable marks a fetch of the provider's keys that failed on
// the provider's side (an error status, a key set that cannot be read):
// like a transport error, it is an outage (isFetchFailure), not a bad token.
var errKeysUnavailable = errors.New("the provider's keys are unavailable")

// providerKeys is the provider's signing keys, fetched from its jwks_uri on
// first use and again, at most every keysRefetchInterval, when no key held
// verifies a token. It implements go-oidc's oidc.KeySet.
type providerKeys struct {
	url    string
	algs   []jose.SignatureAlgorithm
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	ended    time.Time     // when the last fetch ended; zero before the first
	lastErr  error         // why the last fetch failed; nil if it did not
	wait     time.Duration // how long after ended the next fetch may start
	inflight chan struct{}
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
	header := jws.Signatures[0].Header
	k.mu.Lock()
	held := k.keys
	k.mu.Unlock()
	if payload, ok := verifyWith(jws, header, held); ok {
		return payload, nil
	}
	fetched, err := k.refetch(ctx)
	if err != nil {
		return nil, err
	}
	if payload, ok := verifyWith(jws, header, fetched); ok {
		return payload, nil
	}
	return nil, errors.New("no key of the provider verifies the token's signature")
}

// verifyWith tries the keys the token's header names (every key when it
// names none) that are meant for its algorithm (a key that names another
// algorithm is not used for this one).
func verifyWith(jws *jose.JSONWebSignature, header jose.Header, keys []jose.JSONWebKey) ([]byte, bool) {
	for i := range keys {
		if header.KeyID != "" && keys[i].KeyID != header.KeyID {
			continue
		}
		if keys[i].Algorithm != "" && keys[i].Algorithm != header.Algorithm {
			continue
		}
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// refetch fetches the keys again unless the last fetch ended too recently
// (keysRefetchInterval after a success, the growing retry delay after a
// failure), in which case it returns what that fetch left: its
// keys, or its error if it failed. Requests arriving while a fetch runs
// wait for that one.
func (k *providerKeys) refetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	wait := k.inflight
	if wait == nil && (k.ended.IsZero() || k.now().Sub(k.ended) >= k.wait) {
		wait = make(chan struct{})
		k.inflight = wait
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
// held and the error), sets when the next fetch may start, then closes
// done.
func (k *providerKeys) fetch(done chan struct{}) {
	keys, err := k.read()
	k.mu.Lock()
	switch {
	case err == nil:
		k.keys, k.wait = keys, keysRefetchInterval
	case k.lastErr == nil:
		k.wait = keysRetryFirst
	default:
		k.wait = min(2*k.wait, keysRefetchInterval)
	}
	// The wait counts from the end: a provider that takes the whole
	// timeout to fail would otherwise be asked again at once.
	k.ended, k.lastErr = k.now(), err
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
		return nil, fmt.Errorf("%w: HTTP %s", errKeysUnavailable, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, keysMaxBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errKeysUnavailable, err)
	}
	keys, err := k.parseKeySet(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errKeysUnavailable, err)
	}
	return keys, nil
}

// parseKeySet reads a JWK set and keeps the public keys meant for
// verifying signatures with an algorithm accepted here. It leaves out the
// keys go-jose cannot read (a type or curve it does not know) and those
// published for another use (encryption) or another algorithm, as a
// provider may publish those too (RFC 7517 says to ignore them); a set
// that is not JSON, or that leaves no key, is an error, so the keys held
// are kept.
func (k *providerKeys) parseKeySet(body []byte) ([]jose.JSONWebKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	var keys []jose.JSONWebKey
	for _, r := range raw.Keys {
		var key jose.JSONWebKey
		if err := json.Unmarshal(r, &key); err != nil {
			continue // a key go-jose cannot read: ignored (RFC 7517, 5)
		}
		switch {
		case key.Use != "" && key.Use != "sig":
		case key.Algorithm != "" && !slices.Contains(k.algs, jose.SignatureAlgorithm(key.Algorithm)):
		case !key.IsPublic() || !key.Valid():
		default:
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set has no key to verify signatures with")
	}
	return keys, nil
}
