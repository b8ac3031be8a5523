package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/requestid"
	"github.com/casegraph/casegraph/viewer"
)

// AgencyResolver looks up the agency with the given code: it returns its
// database id and ok=true, ok=false when there is no such agency, or an error
// when it cannot tell (e.g. the database is down). The context it receives is
// marked with viewer.SystemContext: the look-up happens before there is a
// principal.
type AgencyResolver func(ctx context.Context, code string) (agencyID int, ok bool, err error)

// RefusalHook is told about every request Middleware refuses, with the
// refusal's reason (one of the Err* values, e.g. ErrExpired; its text never
// holds token contents). It runs on the request's goroutine before the
// response is written, so it should be quick; it must not write to the
// response.
type RefusalHook func(r *http.Request, reason error)

// MiddlewareOption configures Middleware.
type MiddlewareOption func(*middleware)

// WithRefusalHook adds h to the hooks called for each refused request (for
// instance to keep an audit trail of failed authentications). Hooks run in
// the order they were added.
func WithRefusalHook(h RefusalHook) MiddlewareOption {
	return func(m *middleware) {
		if h != nil {
			m.onRefused = append(m.onRefused, h)
		}
	}
}

// Realm is the realm named in WWW-Authenticate challenges.
const Realm = "casegraph"

// Middleware authenticates each request with its bearer token: it verifies
// the token with v, resolves its agency code with agencies, and calls next
// with a *viewer.Principal in the request context (viewer.NewContext).
//
// A request without a valid token, or whose agency is unknown, is answered
// 401 with a WWW-Authenticate challenge and a GraphQL error response whose
// extensions.code is UNAUTHENTICATED and whose message names only the reason
// (e.g. "authentication failed: token expired"). When the token cannot be
// checked because a dependency is down (agency look-up, identity provider),
// the answer is 503 with code UNAVAILABLE. Refusals are logged at Info level
// (outages at Error level) with the reason, and with the subject and agency
// code once the token is verified; never with the token or other claims.
// A nil logger means slog.Default(); a nil v or agencies is a programming
// error and panics.
func Middleware(v Verifier, agencies AgencyResolver, logger *slog.Logger, opts ...MiddlewareOption) func(http.Handler) http.Handler {
	if v == nil || agencies == nil {
		panic("auth: Middleware needs a Verifier and an AgencyResolver")
	}
	if logger == nil {
		logger = slog.Default()
	}
	m := &middleware{verifier: v, agencies: agencies, logger: logger}
	for _, opt := range opts {
		opt(m)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := m.authenticate(w, r)
			if !ok {
				return
			}
			next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), p)))
		})
	}
}

type middleware struct {
	verifier  Verifier
	agencies  AgencyResolver
	logger    *slog.Logger
	onRefused []RefusalHook
}

// authenticate returns the request's principal, or writes the refusal and
// returns false.
func (m *middleware) authenticate(w http.ResponseWriter, r *http.Request) (*viewer.Principal, bool) {
	raw, err := bearerToken(r.Header)
	if err != nil {
		m.refuse(w, r, err, nil)
		return nil, false
	}
	claims, err := m.verifier.Verify(r.Context(), raw)
	if err != nil {
		m.refuse(w, r, Reason(err), err)
		return nil, false
	}
	who := []slog.Attr{slog.String("subject", claims.Subject), slog.String("agency", claims.Agency)}
	id, ok, err := m.agencies(viewer.SystemContext(r.Context()), claims.Agency)
	switch {
	case err != nil:
		m.refuse(w, r, ErrUnavailable, err, who...)
		return nil, false
	case !ok:
		m.refuse(w, r, ErrUnknownAgency, nil, who...)
		return nil, false
	}
	return &viewer.Principal{
		Subject:    claims.Subject,
		AgencyCode: claims.Agency,
		AgencyID:   id,
		Roles:      slices.Clone(claims.Roles),
	}, true
}

// bearerToken returns the token of the request's Authorization header,
// whose scheme is matched case-insensitively (RFC 9110, section 11.1).
func bearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	if len(values) == 0 || len(values) == 1 && strings.TrimSpace(values[0]) == "" {
		return "", ErrNoToken
	}
	if len(values) > 1 {
		// Which one would the client mean? Guessing could pick a token the
		// client did not intend to present.
		return "", ErrBadHeader
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", ErrBadHeader
	}
	return token, nil
}

// refuse logs the refusal, tells the hooks and writes the response. reason
// is one of the Err* values; cause is the underlying error, logged only for
// outages (it then concerns a dependency, not the token). who names the
// verified subject and agency, if known.
func (m *middleware) refuse(w http.ResponseWriter, r *http.Request, reason, cause error, who ...slog.Attr) {
	status, code, message := http.StatusUnauthorized, apperr.Unauthenticated, "authentication failed: "+reason.Error()
	level := slog.LevelInfo
	attrs := append([]slog.Attr{
		slog.String("reason", reason.Error()),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
	}, who...)
	if errors.Is(reason, ErrUnavailable) {
		status, code, message = http.StatusServiceUnavailable, apperr.Unavailable, ErrUnavailable.Error()
		level = slog.LevelError
		if cause != nil {
			attrs = append(attrs, slog.String("error", cause.Error()))
		}
	}
	m.logger.LogAttrs(r.Context(), level, "authentication refused", attrs...)
	for _, h := range m.onRefused {
		h(r, reason)
	}

	switch {
	case status != http.StatusUnauthorized:
	case errors.Is(reason, ErrNoToken):
		// RFC 6750, section 3.1: no error code when no credentials were sent.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+`", error="invalid_token"`)
	}
	apperr.WriteHTTP(w, status, code, message, requestid.FromContext(r.Context()))
}
