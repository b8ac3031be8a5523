package server

import (
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

// auditRefusal records a refused authentication of a token whose
// signature verified (expired, for an agency unknown here, …): someone
// holding a token a trusted issuer signed tried it. The refusal is
// answered whether or not the record could be written: it discloses
// nothing. A request with no credentials, a malformed token or a forged
// signature is logged, not recorded: anyone can send those for free, and
// "Bearer x" from one address added 1,200 rows a minute (1.7 million a
// day) to the append-only trail (a helper's hunt; before it, requests
// without credentials, a review's finding).
func (s *Server) auditRefusal(r *http.Request, reason error) {
	if !auth.SignatureVerified(reason) {
		return
	}
	rec := audit.NewRecorder(requestid.FromContext(r.Context()), clientAddress(r), nil)
	rec.SetOperation(r.Method + " " + r.URL.Path)
	rec.Refusal(audit.AuthenticationRefused, nil, reason.Error())
	// A context of its own, as the reads' events have: with the
	// request's, a client that left while the event waited for the trail
	// (behind another batch, under load) took it out of the queue, and the
	// refusal went unrecorded (a hunt).
	ctx, cancel := audit.DetachedContext(r.Context())
	defer cancel()
	if err := s.cfg.Audit.Write(ctx, rec.Take()); err != nil {
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
