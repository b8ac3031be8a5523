// Package auth authenticates requests to the CaseGraph API.
//
// Every request carries "Authorization: Bearer <JWT>". The token's claims
// name the person (the registered claim "sub"), the one agency they act for
// (the private claim "agency", an agency code such as "police-tirane") and the
// roles they hold there (the private claim "roles", a non-empty JSON array of
// strings, each one of [viewer.Roles]). [Middleware] verifies the token with a
// [Verifier], resolves the agency code to its database id and puts a
// [viewer.Principal] into the request context.
//
// There are two verifiers:
//
//   - [DevIssuer], for development: the server signs its own Ed25519 (EdDSA)
//     tokens with a key kept in its data directory and accepts only those.
//   - [OIDCVerifier], for production: tokens come from an OpenID Connect
//     issuer and are checked against its published keys (JWKS). The issuer
//     must put the "agency" and "roles" claims described above into the
//     tokens it issues for CaseGraph's audience.
//
// A refused token never reaches the client or the log: errors carry only a
// short, client-safe reason (one of the Err* values of this package).
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/casegraph/casegraph/input"
	"github.com/casegraph/casegraph/viewer"
)

// Names of the private claims CaseGraph reads from a token, besides the
// registered ones (sub, iss, aud, exp, nbf, iat).
const (
	// ClaimAgency holds the code of the one agency the subject acts for.
	ClaimAgency = "agency"
	// ClaimRoles holds the subject's roles at that agency: a JSON array of
	// strings, each one of viewer.Roles.
	ClaimRoles = "roles"
)

// ClockSkew is how far the clocks of a token's issuer and of this server may
// disagree: exp, nbf and iat are checked with this much leeway. It is kept
// small because an expired token must stop working promptly.
const ClockSkew = 30 * time.Second

// Claims are the facts a verified token states about its bearer.
type Claims struct {
	Subject string
	// Agency is the agency code, not yet resolved to a database id.
	Agency    string
	Roles     []viewer.Role
	ExpiresAt time.Time
}

// Verifier checks a raw bearer token (signature, algorithm, issuer,
// audience, validity period, required claims) and returns its claims.
//
// Every error a Verifier returns wraps exactly one of the reason errors of
// this package (ErrMalformed, ErrExpired, …; see [Reason]), whose text is safe
// to show to the client. Errors that wrap none of them are reported as
// ErrInvalidToken.
type Verifier interface {
	Verify(ctx context.Context, rawToken string) (*Claims, error)
}

// The reasons a request is refused. Their texts are short, client-safe and
// stable: they are sent in responses, written to the log and passed to a
// [RefusalHook]. They never contain anything taken from the token.
var (
	// ErrNoToken: the request has no Authorization header.
	ErrNoToken = errors.New("no bearer token")
	// ErrBadHeader: the Authorization header is not "Bearer <token>".
	ErrBadHeader = errors.New("malformed authorization header")
	// ErrMalformed: the token is not a well-formed JWT, or a claim has the
	// wrong JSON type.
	ErrMalformed = errors.New("malformed token")
	// ErrAlgorithm: the token is signed (or claims to be) with an algorithm
	// other than the expected ones, including "none".
	ErrAlgorithm = errors.New("unsupported signing algorithm")
	// ErrSignature: the signature does not verify with any trusted key.
	ErrSignature = errors.New("invalid token signature")
	// ErrExpired: the token's exp lies in the past.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid: the token's nbf or iat lies in the future.
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrIssuer: the token was issued by someone else than the trusted issuer.
	ErrIssuer = errors.New("untrusted token issuer")
	// ErrAudience: the token was issued for another service.
	ErrAudience = errors.New("token not issued for this service")
	// ErrClaims: a required claim (sub, agency, roles, exp) is missing or
	// empty, longer than its bound (MaxSubjectLength, MaxAgencyLength,
	// MaxRoleClaims) or not plain text, or roles names an unknown role.
	ErrClaims = errors.New("missing or invalid claims")
	// ErrLifetime: the token's exp lies more than MaxTokenTTL ahead. No
	// issuer CaseGraph trusts makes such a token; one that exists was made
	// with a stolen key or a misconfigured issuer, and would outlive every
	// revocation.
	ErrLifetime = errors.New("token lifetime exceeds the maximum")
	// ErrUnknownAgency: the token's agency code names no known agency.
	ErrUnknownAgency = errors.New("unknown agency")
	// ErrUnavailable: the token could not be checked because something it
	// depends on (the identity provider's keys, the database) is unreachable.
	// Unlike the others, this is not the client's fault.
	ErrUnavailable = errors.New("service unavailable")
	// ErrInvalidToken is the reason of a Verifier error that wraps no other
	// reason.
	ErrInvalidToken = errors.New("invalid token")
)

// reasons lists every reason; Reason tries them in this order.
var reasons = []error{
	ErrNoToken, ErrBadHeader, ErrMalformed, ErrAlgorithm, ErrSignature,
	ErrExpired, ErrNotYetValid, ErrIssuer, ErrAudience, ErrClaims,
	ErrLifetime, ErrUnknownAgency, ErrUnavailable, ErrInvalidToken,
}

// SignatureVerified reports whether a refusal for reason came after the
// token's signature verified with a trusted key: its claims were refused
// (expired or not yet valid, another issuer or audience, a claim missing
// or invalid, too long a lifetime, an agency unknown here). Both
// verifiers check the signature before the claims (golang-jwt's parser;
// the OIDC verifier reads the claims only from a verified token). A
// refusal before that (no token, a malformed one, a forged signature) is
// something anyone can send for free.
func SignatureVerified(reason error) bool {
	for _, r := range []error{ErrExpired, ErrNotYetValid, ErrIssuer, ErrAudience, ErrClaims, ErrLifetime, ErrUnknownAgency} {
		if errors.Is(reason, r) {
			return true
		}
	}
	return false
}

// Reason returns the reason error that err wraps (ErrExpired, …), or
// ErrInvalidToken when err wraps none. It returns nil for a nil err.
func Reason(err error) error {
	if err == nil {
		return nil
	}
	for _, r := range reasons {
		if errors.Is(err, r) {
			return r
		}
	}
	return ErrInvalidToken
}

// refusal wraps cause (the detail, for errors.Is/As and debugging) with
// reason. Callers make sure cause holds no claim values or token text, so the
// error is safe to log as a whole.
func refusal(reason, cause error) error {
	if cause == nil {
		return fmt.Errorf("auth: %w", reason)
	}
	return fmt.Errorf("auth: %w: %w", reason, cause)
}

// Bounds on the claims of any token, checked when verifying (a token may
// come from anywhere that holds a key) as well as when issuing. Without
// them a token could carry megabytes of subject that every audit event and
// log line then repeats.
const (
	// MaxSubjectLength is OpenID Connect's bound on sub: 255 characters.
	MaxSubjectLength = 255
	// MaxAgencyLength bounds the agency code; the registry's are far
	// shorter.
	MaxAgencyLength = 64
	// MaxRoleClaims bounds the roles claim. A person holds a few of the
	// eight roles; an issuer may repeat one, but not without end.
	MaxRoleClaims = 16
)

// checkClaimText refuses a sub or agency claim that is empty, longer than
// limit bytes, or not one line of plain text (the rule of package input:
// it is written to the audit trail and the logs).
func checkClaimText(claim, value string, limit int) error {
	switch {
	case strings.TrimSpace(value) == "":
		return errors.New("claim " + claim + " is missing")
	case len(value) > limit:
		return fmt.Errorf("claim %s is longer than %d bytes", claim, limit)
	case input.CheckText(claim, claim, value) != nil:
		return errors.New("claim " + claim + " is not plain text")
	}
	return nil
}

// tokenClaims is the JSON payload of a CaseGraph token. The JSON names of
// Agency and Roles must stay equal to ClaimAgency and ClaimRoles.
type tokenClaims struct {
	jwt.RegisteredClaims
	Agency string   `json:"agency,omitempty"`
	Roles  []string `json:"roles,omitempty"`
}

// toClaims checks the CaseGraph-specific claims of a token whose signature
// and registered claims have been verified, and converts them.
func (tc *tokenClaims) toClaims() (*Claims, error) {
	if err := checkClaimText("sub", tc.Subject, MaxSubjectLength); err != nil {
		return nil, refusal(ErrClaims, err)
	}
	if err := checkClaimText(ClaimAgency, tc.Agency, MaxAgencyLength); err != nil {
		return nil, refusal(ErrClaims, err)
	}
	switch {
	case len(tc.Roles) == 0:
		return nil, refusal(ErrClaims, errors.New("claim "+ClaimRoles+" is missing or empty"))
	case len(tc.Roles) > MaxRoleClaims:
		return nil, refusal(ErrClaims, fmt.Errorf("claim %s holds more than %d roles", ClaimRoles, MaxRoleClaims))
	case tc.ExpiresAt == nil:
		return nil, refusal(ErrClaims, errors.New("claim exp is missing"))
	case tc.ExpiresAt.After(time.Now().Add(MaxTokenTTL + ClockSkew)):
		return nil, refusal(ErrLifetime, nil)
	}
	roles := make([]viewer.Role, 0, len(tc.Roles))
	for _, s := range tc.Roles {
		r := viewer.Role(s)
		if !r.Valid() {
			// The role itself is not named: it is a claim value, and error
			// texts may end up in logs.
			return nil, refusal(ErrClaims, errors.New("claim "+ClaimRoles+" holds an unknown role"))
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return &Claims{
		Subject:   tc.Subject,
		Agency:    tc.Agency,
		Roles:     roles,
		ExpiresAt: tc.ExpiresAt.Time,
	}, nil
}

// validatorOptions are the golang-jwt options that check the registered
// claims of a token from issuer for audience.
func validatorOptions(issuer, audience string) []jwt.ParserOption {
	return []jwt.ParserOption{
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(ClockSkew),
	}
}

// classifyClaimsError maps an error of golang-jwt's claims validation to a
// reason. A token can fail several checks at once; the order below reports
// the most fundamental one (the token is not meant for us at all) first.
func classifyClaimsError(err error) error {
	var reason error
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = ErrMalformed
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		reason = ErrIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		reason = ErrAudience
	case errors.Is(err, jwt.ErrTokenExpired):
		reason = ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		reason = ErrNotYetValid
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		reason = ErrClaims
	default:
		reason = ErrInvalidToken
	}
	return refusal(reason, err)
}
