package authz

import (
	"encoding/json"
	"log/slog"
	"net/http"

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
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
					"message":    "Service unavailable. Quote the request id " + requestid.FromContext(r.Context()) + " when you report it.",
					"extensions": map[string]any{"code": "UNAVAILABLE", "requestId": requestid.FromContext(r.Context())},
				}}})
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), req)))
		})
	}
}
