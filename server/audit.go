package server

import (
	"errors"
	"net"
	"net/http"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/requestid"
	"github.com/casegraph/casegraph/viewer"
)

// startAuditRecord gives each authenticated request its audit record,
// which the GraphQL handler fills and writes before the response leaves.
func startAuditRecord(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := audit.NewRecorder(requestid.FromContext(r.Context()), clientAddress(r), viewer.FromContext(r.Context()))
		next.ServeHTTP(w, r.WithContext(audit.NewContext(r.Context(), rec)))
	})
}

// auditRefusal records a refused authentication. The refusal is answered
// whether or not the record could be written: it discloses nothing. A
// request that sent no credentials at all (a probe, a browser's preflight)
// tried nothing: it is logged and counted, not recorded, or anyone could
// add rows to the append-only trail without limit (a review's finding).
func (s *Server) auditRefusal(r *http.Request, reason error) {
	if errors.Is(reason, auth.ErrNoToken) {
		return
	}
	rec := audit.NewRecorder(requestid.FromContext(r.Context()), clientAddress(r), nil)
	rec.SetOperation(r.Method + " " + r.URL.Path)
	rec.Refusal(audit.AuthenticationRefused, nil, reason.Error())
	if err := s.cfg.Audit.Write(r.Context(), rec.Take()); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "audit trail unavailable: a refused authentication is not recorded",
			"request_id", requestid.FromContext(r.Context()), "error", err.Error())
	}
}

// clientAddress is the address the request came from: the client's, or
// behind a load balancer not in TrustedProxies, the balancer's (see
// clientBehindProxies).
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
