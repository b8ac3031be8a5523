package authz

import (
	"log/slog"
	"net/http"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/requestid"
	"github.com/casegraph/casegraph/viewer"
)

// Middleware runs after authentication: it prepares the policy of the
// request (row scope, field decisions) and puts it in the context. A
// request without a principal passes through without one, and ent's
// privacy rules then show it nothing.
func (e *Enforcer) Middleware(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := viewer.FromContext(r.Context())
			if p == nil {
				next.ServeHTTP(w, r)
				return
			}
			req, err := e.NewRequest(r.Context(), p)
			if err != nil {
				logger.ErrorContext(r.Context(), "preparing access policy", "request_id", requestid.FromContext(r.Context()), "error", err.Error())
				id := requestid.FromContext(r.Context())
				apperr.WriteHTTP(w, http.StatusServiceUnavailable, apperr.Unavailable,
					"Service unavailable. Quote the request id "+id+" when you report it.", id)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), req)))
		})
	}
}
