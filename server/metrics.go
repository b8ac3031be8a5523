package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
)

// /metrics, and who may read it.
//
// By default /metrics is served next to /graphql, open, as before: it
// shows request counts and Go runtime figures, never a person's data, and
// its size is fixed (httpMetrics). Two settings close it, alone or
// together:
//
//   - Config.MetricsOnOwnListener (CASEGRAPH_METRICS_ADDR in
//     `casegraph serve`): /metrics leaves the main address (404 there) and
//     is served by ServeMetrics on an address of its own, one the load
//     balancer does not expose, which is how Prometheus usually scrapes.
//   - Config.MetricsToken (CASEGRAPH_METRICS_TOKEN): /metrics answers only
//     a request with "Authorization: Bearer <token>", compared in constant
//     time; otherwise 401 UNAUTHENTICATED. For set-ups with one port only.
//
// `casegraph serve` warns at start when production tokens are on
// (CASEGRAPH_DEV=0) and neither is set.

// newMetricsRegistry is the registry /metrics shows: the process, the Go
// runtime, httpMetrics and the SQL statements db has sent.
func newMetricsRegistry(db *database.DB) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Read from the database's own count when scraped: a load test
	// divides its growth by the requests it sent (docs/benchmark-http.md).
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "casegraph_sql_statements_total",
		Help: "SQL statements sent to the database, BEGIN, COMMIT and ROLLBACK included.",
	}, func() float64 { return float64(db.StatementsSent()) }))
	return reg
}

// MetricsHandler serves the metrics in Prometheus' text format, behind the
// token when one is configured. Mount it on its own listener when
// Config.MetricsOnOwnListener is set (ServeMetrics does).
func (s *Server) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	if s.cfg.MetricsToken == "" {
		return h
	}
	want := sha256.Sum256([]byte(s.cfg.MetricsToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Hashing first makes the comparison's time independent of the
		// length of either token too.
		got := sha256.Sum256([]byte(bearerToken(r)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="casegraph-metrics"`)
			apperr.WriteHTTP(w, http.StatusUnauthorized, apperr.Unauthenticated,
				"/metrics needs the metrics token: send Authorization: Bearer <CASEGRAPH_METRICS_TOKEN>.", "")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// ServeMetrics serves /metrics alone on ln until ctx is done (any other
// path is 404). It is for Config.MetricsOnOwnListener.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.MetricsHandler())
	hs := &http.Server{
		Handler:           securityHeaders(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	return serveUntilDone(ctx, hs, ln, 5*time.Second)
}
