// Package server is CaseGraph's HTTP front: routing, authentication of
// /graphql, request ids, structured logs, limits, health, readiness and
// metrics, and graceful shutdown. GraphQL itself is the graph package's.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/cost"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/requestid"
	"github.com/casegraph/casegraph/server/graphiql"
	"github.com/casegraph/casegraph/statistics"
	"github.com/casegraph/casegraph/trusted"
	"github.com/casegraph/casegraph/viewer"
)

// Config configures a Server.
type Config struct {
	DB       *database.DB
	Verifier auth.Verifier
	Logger   *slog.Logger
	// Enforcer is the access policy. Required.
	Enforcer *authz.Enforcer
	// Audit writes the audit trail; nil installs one on DB (audit.Install).
	Audit *audit.Writer
	// RateLimit is the number of requests a minute one client address may
	// make to /graphql; 0 means no limit.
	RateLimit int
	// MaxBodyBytes bounds a request body; 0 means 1 MiB.
	MaxBodyBytes int64
	// TrustedProxies are the load balancers whose X-Forwarded-For names
	// the client (for rate limits and the audit trail); none: ignored.
	TrustedProxies []netip.Prefix
	// MaxConns bounds the connections ListenAndServe holds open, and
	// MaxConnsPerAddress those of one client address (trusted proxies
	// exempt); 0 means DefaultMaxConns, DefaultMaxConnsPerAddress.
	MaxConns, MaxConnsPerAddress int
	// RequestTimeout bounds one GraphQL request's work; 0 means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxOperations bounds the GraphQL operations executed at once, and
	// MaxQueuedOperations those waiting for one of them to end (for at
	// most half their deadline); past either an operation is refused
	// (UNAVAILABLE, 503, Retry-After). 0 means graph.DefaultOperations of
	// the database's pool and graph.DefaultQueued.
	MaxOperations, MaxQueuedOperations int
	// Limits bound what one operation may ask for (package cost); the
	// zero value means cost.DefaultLimits.
	Limits cost.Limits
	// CostPerMinute is the cost one principal may spend a minute (four
	// times as much per client address); 0 means no limit.
	CostPerMinute int
	// MaxResponseBytes bounds an answer's data; 0 means
	// graph.DefaultMaxResponseBytes.
	MaxResponseBytes int
	// MaxUnsentAnswerBytes bounds the bytes of /graphql answers built and
	// not yet sent to their clients (unsent.go): past it, or past a
	// quarter of it for one principal or half of it for one client
	// address, a request is refused (UNAVAILABLE, 503, Retry-After)
	// before anything of it runs. 0 means DefaultMaxUnsentAnswerBytes.
	MaxUnsentAnswerBytes int
	// AnswerStall is how long a client may take to read each 64 KiB of
	// an answer before it is cut off (within http.Server's WriteTimeout);
	// 0 means DefaultAnswerStall.
	AnswerStall time.Duration
	// StatisticsCache keeps statistics across requests (PostgreSQL, once
	// it follows the database's notifications); nil keeps them for one
	// request.
	StatisticsCache *statistics.Cache
	// TrustedDocuments, when set, are the only GraphQL documents served
	// (production); nil serves any (development, GraphiQL).
	TrustedDocuments *trusted.Documents
	// MetricsToken, when set, is the bearer token /metrics requires
	// (metrics.go); empty: /metrics is open to whoever reaches it.
	MetricsToken string
	// MetricsOnOwnListener leaves /metrics off Handler: serve it on an
	// address of its own with ServeMetrics.
	MetricsOnOwnListener bool
}

// Server serves CaseGraph over HTTP.
type Server struct {
	cfg      Config
	handler  http.Handler
	registry *prometheus.Registry
	// admission bounds the operations of the GraphQL handler.
	admission *graph.Admission
	// unsent bounds the answers built and not yet sent.
	unsent *unsentAnswers
	// agencyIDs caches resolveAgency's answers (code → id): the registry
	// only grows and an agency's code never changes, so a code found once
	// names the same agency for the server's life. Unknown codes are not
	// kept, so an agency added later is found.
	agencyIDs sync.Map
}

// New builds a Server from cfg.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Install(cfg.DB.Client, cfg.DB.Dialect)
	}
	if cfg.MaxOperations == 0 {
		cfg.MaxOperations = graph.DefaultOperations(cfg.DB.SQL.Stats().MaxOpenConnections)
	}
	if cfg.MaxQueuedOperations == 0 {
		cfg.MaxQueuedOperations = graph.DefaultQueued(cfg.MaxOperations)
	}
	admission := graph.NewAdmission(cfg.MaxOperations, cfg.MaxQueuedOperations)
	unsent := newUnsentAnswers(cfg.MaxUnsentAnswerBytes, cfg.AnswerStall)
	s := &Server{cfg: cfg, admission: admission, unsent: unsent, registry: newMetricsRegistry(cfg.DB, cfg.Audit, cfg.StatisticsCache, admission, unsent)}
	s.handler = s.routes()
	return s
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	metrics := newHTTPMetrics(s.registry)

	r := chi.NewRouter()
	r.MethodNotAllowed(methodNotAllowed(r, notFound))
	r.NotFound(notFound)
	r.Use(securityHeaders)
	r.Use(clientBehindProxies(s.cfg.TrustedProxies))
	r.Use(requestid.Middleware)
	r.Use(s.logRequests)
	r.Use(metrics.middleware)
	r.Use(s.recoverPanics)

	// The probes answer HEAD as GET (a load balancer's check may use
	// either); Go's server sends no body to a HEAD.
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		r.MethodFunc(m, "/healthz", healthz)
		r.MethodFunc(m, "/readyz", s.ready)
		if !s.cfg.MetricsOnOwnListener {
			r.Method(m, "/metrics", s.MetricsHandler())
		}
	}
	// OPTIONS says which methods /graphql serves, and needs no token: it
	// tells nothing, and a client (a browser's preflight) asks it without
	// one.
	r.Options("/graphql", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", strings.Join(graph.HTTPMethods, ", "))
		w.WriteHeader(http.StatusNoContent)
	})

	gql := graph.NewHandler(graph.Options{Client: s.cfg.DB.Client, Logger: s.cfg.Logger, Enforcer: s.cfg.Enforcer, Audit: s.cfg.Audit, Limits: s.cfg.Limits, TrustedDocuments: s.cfg.TrustedDocuments, MaxResponseBytes: s.cfg.MaxResponseBytes,
		StatisticsCache: s.cfg.StatisticsCache, StatisticsEditions: statistics.NewEditions(s.cfg.DB.Client, s.cfg.DB.Dialect), Admission: s.admission})
	r.Group(func(r chi.Router) {
		r.Use(middleware.Compress(5))
		// The rate limit before the body is read: a client already over
		// its limit had its megabyte read into memory all the same.
		if s.cfg.RateLimit > 0 {
			r.Use(httprate.LimitBy(s.cfg.RateLimit, time.Minute, addressKey,
				httprate.WithLimitHandler(func(w http.ResponseWriter, _ *http.Request) {
					writeGraphQLError(w, http.StatusTooManyRequests, apperr.RateLimited, "Too many requests; slow down and retry.")
				})))
		}
		// Answers not yet sent, of the server and of the request's
		// address, before the body too; and what is written of the
		// answer counted, and written within the stall time.
		r.Use(s.unsent.watch)
		// The deadline before the body: a body sent slowly is read only
		// until it (limitBody), not for http.Server's ReadTimeout.
		r.Use(withDeadline(s.cfg.RequestTimeout))
		r.Use(s.limitBody)
		r.Use(withPoolShare(s.cfg.DB))
		r.Use(auth.Middleware(s.cfg.Verifier, s.resolveAgency, s.cfg.Logger, auth.WithRefusalHook(s.auditRefusal)))
		r.Use(recordPrincipal)
		// Before the budget is spent or anything audited: a request
		// refused here did nothing.
		r.Use(s.unsent.admitCaller)
		if s.cfg.CostPerMinute > 0 {
			r.Use(newCostBudgets(s.cfg.CostPerMinute).middleware)
		}
		r.Use(startAuditRecord)
		r.Use(s.cfg.Enforcer.Middleware(s.cfg.Logger))
		for _, method := range graph.HTTPMethods {
			if method != http.MethodOptions {
				r.Method(method, "/graphql", gql)
			}
		}
	})

	// GraphiQL compresses its own files, once (graphiql.Handler).
	ui := graphiql.Handler("/graphql")
	r.Handle("/", ui)
	r.Handle("/graphiql/*", ui)
	metrics.learnRoutes(r)
	return r
}

// resolveAgency finds the agency a token names, as system work: the caller
// is not known yet.
func (s *Server) resolveAgency(ctx context.Context, code string) (int, bool, error) {
	if id, ok := s.agencyIDs.Load(code); ok {
		return id.(int), true, nil
	}
	id, err := s.cfg.DB.Client.Agency.Query().Where(agency.Code(code)).OnlyID(viewer.SystemContext(ctx))
	if ent.IsNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	s.agencyIDs.Store(code, id)
	return id, true, nil
}

// healthz answers the liveness probe: the process is up and answering,
// whatever the database does (a liveness probe that failed with it would
// have the server restarted for an outage a restart does not mend), from
// the moment the listener is bound (Start).
func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ready answers 200 while the database answers and the access policy is
// known to be current, 503 otherwise: a server that may enforce a policy
// another has changed refuses sensitive fields, so a load balancer should
// send its traffic elsewhere until it has reloaded (the reason says why).
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.DB.Ping(ctx); err != nil {
		s.cfg.Logger.WarnContext(ctx, "not ready: database unreachable", "request_id", requestid.FromContext(ctx), "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
		return
	}
	if reason := s.cfg.Enforcer.StaleReason(); reason != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "ok", "policy": "unconfirmed", "reason": reason})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok", "policy": "current"})
}

// limitBody refuses a body over MaxBodyBytes with 413 before GraphQL
// reads it, whether its length was declared or it came in chunks, and a
// body that has not arrived by the request's deadline with 408: it was
// read within http.Server's ReadTimeout (30 s), before the deadline
// began, so a client trickling its body held a handler six times as long
// as the longest request (a hunt over HTTP).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tooLarge := func() {
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, apperr.BadUserInput, "The request body is too large.")
		}
		if r.ContentLength > s.cfg.MaxBodyBytes {
			tooLarge()
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			deadline, bounded := r.Context().Deadline()
			bounded = bounded && rc.SetReadDeadline(deadline) == nil
			body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodyBytes+1))
			if errors.Is(err, os.ErrDeadlineExceeded) {
				writeGraphQLError(w, http.StatusRequestTimeout, apperr.BadUserInput,
					"The request body did not arrive within the request's time limit; send it at once.")
				return
			}
			if err != nil {
				writeGraphQLError(w, http.StatusBadRequest, apperr.BadUserInput, "The request body could not be read.")
				return
			}
			if int64(len(body)) > s.cfg.MaxBodyBytes {
				tooLarge()
				return
			}
			if bounded {
				// Read whole: no deadline of the connection's is left, or
				// the server's read after the body (it watches for the
				// client leaving) would end the request at the deadline as
				// a client gone, not as the deadline. The next request on
				// the connection sets its own. A body not read whole keeps
				// it: net/http drains what is left before answering.
				_ = rc.SetReadDeadline(time.Time{})
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// logRequests writes one JSON line a request: method, path (never the
// query string, which can carry a GraphQL query's variables), status,
// duration, request id and, when authenticated, the subject and agency.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		var principal *viewer.Principal
		next.ServeHTTP(ww, r.WithContext(withPrincipalSink(r.Context(), &principal)))
		attrs := []any{
			"request_id", requestid.FromContext(r.Context()),
			"method", r.Method, "path", r.URL.Path,
			"status", ww.Status(), "bytes", ww.BytesWritten(),
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		}
		if principal != nil {
			attrs = append(attrs, "subject", principal.Subject, "agency", principal.AgencyCode)
		}
		s.cfg.Logger.InfoContext(r.Context(), "request", attrs...)
	})
}

// recoverPanics turns a panic outside GraphQL into a 500 with INTERNAL and
// the request id, never a stack trace.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				id := requestid.FromContext(r.Context())
				s.cfg.Logger.ErrorContext(r.Context(), "panic", "request_id", id, "panic", v)
				apperr.WriteHTTP(w, http.StatusInternalServerError, apperr.Internal, "Internal error. Quote the request id "+id+" when you report it.", id)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// ListenAndServe serves on ln until ctx is done, then logs "shutting
// down" with ctx's cause, stops accepting connections and lets requests
// in flight finish (up to grace). Then it closes the audit trail's writer:
// what requests queued is committed, and a request still running past
// grace is refused its sensitive values. It is Start and Serve at once,
// for a server built before its listener was bound.
func (s *Server) ListenAndServe(ctx context.Context, ln net.Listener, grace time.Duration) error {
	return Start(s.cfg, ln, nil).Serve(ctx, s, grace)
}

// httpServer is the HTTP server of each listener: a client that sends its
// headers, its body or reads the answer slowly holds a connection no longer
// than the bounds given (headers: 10 s; idle between requests: 60 s), its
// headers are bounded (MaxHeaderBytes), and the server's own errors go to
// logger.
func httpServer(logger *slog.Logger, h http.Handler, read, write time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       read,
		WriteTimeout:      write,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// MaxHeaderBytes bounds a request's headers (Go's default is 1 MB, held
// in memory before any check: 500 connections trickling a megabyte of one
// header took the server to a gigabyte). A request's own are about a
// kilobyte; a bearer token a few.
const MaxHeaderBytes = 64 << 10

// auditDrainTimeout bounds the wait for the audit writes queued when the
// server stops: longer than one batch may take (audit.Writer).
const auditDrainTimeout = 15 * time.Second

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeGraphQLError(w http.ResponseWriter, status int, code apperr.Code, message string) {
	apperr.WriteHTTP(w, status, code, message, "")
}
