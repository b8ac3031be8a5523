package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
)

// oidcAlgs are the algorithms an OIDC token may be signed with: asymmetric
// ones only. Symmetric (HS*) algorithms would let anyone holding the public
// key forge tokens, and "none" needs no key at all.
var oidcAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.EdDSA,
}

// OIDCVerifier verifies tokens issued by an OpenID Connect provider, using
// the provider's discovery document and the signing keys it publishes
// (JWKS). It implements [Verifier].
//
// Besides a valid signature, it requires iss to equal the issuer URL, aud to
// contain the configured audience, exp (checked, like nbf and iat, with
// ClockSkew leeway), sub, and the CaseGraph claims "agency" (ClaimAgency) and
// "roles" (ClaimRoles); the provider must be configured to add the latter
// two to the tokens it issues for CaseGraph.
type OIDCVerifier struct {
	// algs are the algorithms accepted: those the provider advertises,
	// restricted to oidcAlgs.
	algs []string
	// ids verifies only the algorithm and signature (go-oidc refuses
	// anything else with errors that cannot be told apart); issuer,
	// audience and times are checked by validator.
	ids       *oidc.IDTokenVerifier
	validator *jwt.Validator
}

var _ Verifier = (*OIDCVerifier)(nil)

// NewOIDCVerifier discovers the provider at issuerURL (fetching
// issuerURL/.well-known/openid-configuration) and returns a verifier for its
// tokens issued to audience. The discovery document's issuer must equal
// issuerURL exactly.
//
// ctx bounds the discovery request. The provider's keys are fetched later:
// on first use, and again when no key held verifies a token, at most once
// every 30 seconds (providerKeys).
func NewOIDCVerifier(ctx context.Context, issuerURL, audience string) (*OIDCVerifier, error) {
	if issuerURL == "" || audience == "" {
		return nil, errors.New("auth: OIDC issuer URL and audience are required")
	}
	provider, err := oidc.NewProvider(ctx, issuerURL)
	if err != nil {
		return nil, fmt.Errorf("auth: OIDC discovery: %w", err)
	}
	var meta struct {
		JWKSURL string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("auth: OIDC discovery: %w", err)
	}
	if meta.JWKSURL == "" {
		return nil, errors.New("auth: OIDC discovery: the provider publishes no jwks_uri")
	}
	var algs []string
	for _, a := range meta.Algs {
		if slices.Contains(oidcAlgs, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		// RS256 is the one algorithm every OpenID provider must support.
		algs = []string{oidc.RS256}
	}
	keys := &recordingKeySet{remote: newProviderKeys(meta.JWKSURL, algs)}
	return &OIDCVerifier{
		algs: algs,
		ids: oidc.NewVerifier(issuerURL, keys, &oidc.Config{
			SupportedSigningAlgs: algs,
			// Checked below by validator, with classified errors and a
			// leeway of ClockSkew rather than go-oidc's five minutes.
			SkipClientIDCheck: true,
			SkipIssuerCheck:   true,
			SkipExpiryCheck:   true,
		}),
		validator: jwt.NewValidator(validatorOptions(issuerURL, audience)...),
	}, nil
}

// Verify checks a token of the provider; see [Verifier]. It fails with
// ErrUnavailable when the provider's keys are needed but cannot be fetched.
func (v *OIDCVerifier) Verify(ctx context.Context, rawToken string) (*Claims, error) {
	// go-oidc refuses malformed tokens and unexpected algorithms too, but
	// with errors that cannot be told apart from a bad signature; look first
	// so the reason is right. Nothing read here is trusted.
	tok, _, err := jwt.NewParser().ParseUnverified(rawToken, &tokenClaims{})
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, refusal(ErrMalformed, err)
	case err != nil: // alg missing or unknown
		return nil, refusal(ErrAlgorithm, err)
	case !slices.Contains(v.algs, tok.Method.Alg()):
		return nil, refusal(ErrAlgorithm, nil)
	}

	var rec sigRecord
	idt, err := v.ids.Verify(context.WithValue(ctx, sigRecordKey{}, &rec), rawToken)
	if err != nil {
		switch {
		case rec.fetchErr != nil:
			return nil, refusal(ErrUnavailable, rec.fetchErr)
		case !rec.called || rec.verified:
			// go-jose refused the JWS before any signature check, or
			// go-oidc could not read the signed payload.
			return nil, refusal(ErrMalformed, err)
		default:
			return nil, refusal(ErrSignature, err)
		}
	}
	var tc tokenClaims
	if err := idt.Claims(&tc); err != nil {
		return nil, refusal(ErrMalformed, err)
	}
	if err := v.validator.Validate(&tc); err != nil {
		return nil, classifyClaimsError(err)
	}
	return tc.toClaims()
}

// sigRecord is what recordingKeySet learned while verifying one token.
type sigRecord struct {
	called, verified bool
	// fetchErr is set when the keys could not be fetched from the provider.
	fetchErr error
}

type sigRecordKey struct{}

// recordingKeySet wraps the provider's key set to learn why a signature
// check failed: go-oidc flattens that error to text, but an unreachable
// provider is an outage (503) while a bad signature is the client's problem
// (401). The record travels in the context so concurrent verifications do
// not share it.
type recordingKeySet struct {
	remote oidc.KeySet
}

// VerifySignature implements oidc.KeySet. It is called by go-oidc's
// IDTokenVerifier only after the token's algorithm was accepted.
func (k *recordingKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	if rec, ok := ctx.Value(sigRecordKey{}).(*sigRecord); ok {
		rec.called = true
		rec.verified = err == nil
		if err != nil && isFetchFailure(err) {
			rec.fetchErr = err
		}
	}
	return payload, err
}

// isFetchFailure reports whether err (from providerKeys) means the keys
// could not be fetched: a transport error, the provider answering with an
// error status or a key set that cannot be used (errKeysUnavailable), or
// the request giving up.
func isFetchFailure(err error) bool {
	var uerr *url.Error
	return errors.As(err, &uerr) || errors.Is(err, errKeysUnavailable) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
