package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/graph"
)

// Start-up.
//
// `casegraph serve` binds its listeners first, so that an address in use
// is said at once, and only then migrates the embedded database, checks
// PostgreSQL's migrations, may load the demo data and builds the server:
// a second or two, longer for a long migration. Until 2026-12-07
// (twenty-third session) nothing answered meanwhile: a client's
// connection waited in the kernel's listen queue, so an integrator's
// request hung, a load balancer's or Kubernetes' probe timed out, and a
// liveness probe could have the server killed in the middle of its
// migration. Start serves the listeners from the moment they are bound,
// as a server that is starting:
//
//   - /healthz (liveness): 200 {"status":"ok"}, as when serving: the
//     process is up and working.
//   - /readyz (readiness): 503 {"server":"starting","status":"unavailable"},
//     the shape of its other 503s.
//   - /graphql, any method: 503 with Retry-After, one UNAVAILABLE error
//     and no "data", in the media type Accept asks for
//     (graph.WriteUnavailable), as a refusal for want of room.
//   - /metrics, on the metrics listener or next to /graphql: the process's
//     and the Go runtime's metrics, behind the metrics token when there is
//     one, as Prometheus serves its own while it starts: a scrape
//     succeeds and shows what the start-up costs; the server's own series
//     come once it serves.
//   - anything else: 503 with Retry-After and UNAVAILABLE.
//
// Nothing of it reads the database, and none of it is logged or counted
// (there is no request to quote, and the process's "starting" and
// "serving" lines bound the phase). Serve then hands the same listeners,
// served by the same http.Servers, to the server: only the handler is
// swapped, atomically, so a request is answered by one or the other and
// never dropped, and a connection kept alive across the switch carries on.

// startingRetryAfter is the Retry-After, in seconds, of an answer while the
// server starts: how long start-up lasts is not known, and an answer
// costs nothing, so a client soon tries again.
const startingRetryAfter = "1"

// startingMessage is the message of every UNAVAILABLE while starting.
const startingMessage = "The server is starting; nothing of this request was done. Retry after the time in Retry-After."

// Front serves a server's listeners from the moment they are bound: first
// as a server that is starting (Start), then as the server (Serve), on
// the same listeners and http.Servers.
type Front struct {
	main    *frontListener
	metrics *frontListener // nil: /metrics has no listener of its own
}

// Start serves ln, and metricsLn unless it is nil (for
// Config.MetricsOnOwnListener), as a server that is starting, until Serve
// hands them to the server or Close closes them. Of cfg it reads the
// bounds on connections (MaxConns, MaxConnsPerAddress, TrustedProxies),
// Logger and the metrics' settings (MetricsToken, MetricsOnOwnListener);
// the server given to Serve is built from the same.
func Start(cfg Config, ln, metricsLn net.Listener) *Front {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	metrics := metricsHandler(startingRegistry(), cfg.MetricsToken)
	f := &Front{main: serveListener(cfg, ln, startingRoutes(cfg, metrics), apiTimeouts, nil)}
	if metricsLn != nil {
		logger := cfg.Logger
		f.metrics = serveListener(cfg, metricsLn, metricsRoutes(metrics), metricsTimeouts, func(err error) {
			// The API goes on without its metrics, as it always has.
			logger.Error("serving /metrics", "error", err.Error())
		})
	}
	return f
}

// Serve hands the listeners to srv and serves until ctx is done, then
// logs "shutting down" with ctx's cause, stops accepting connections and
// lets the requests in flight finish (up to grace; a scrape of the
// metrics listener, up to 5 s). Then it closes the audit trail's writer:
// what requests queued is committed, and a request still running past
// grace is refused its sensitive values. It returns the error of a
// listener that failed, or of requests cut off at grace.
func (f *Front) Serve(ctx context.Context, srv *Server, grace time.Duration) error {
	f.main.swap(srv.handler)
	if f.metrics != nil {
		f.metrics.swap(metricsRoutes(srv.MetricsHandler()))
	}
	err := f.main.serveUntil(ctx, grace, func() {
		// Why it stops: a server that exits 0 with no error was told to,
		// and the cause says what told it (a signal: "terminated signal
		// received", through cmd/casegraph's signal.NotifyContext).
		srv.cfg.Logger.Info("shutting down", "cause", context.Cause(ctx).Error(), "grace", grace.String())
	})
	if f.metrics != nil {
		_ = f.metrics.shutdown(metricsGrace) // a failure was logged when it came
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), auditDrainTimeout)
	defer cancel()
	if cerr := srv.cfg.Audit.Close(closeCtx); cerr != nil {
		srv.cfg.Logger.Error("audit trail: writes still queued at shutdown did not finish", "error", cerr.Error())
		err = errors.Join(err, cerr)
	}
	return err
}

// Close stops answering as a server that is starting, for a start-up that
// failed or was stopped: the listeners are closed, and the answers being
// written are finished (for up to a second). After Serve it does nothing.
func (f *Front) Close() {
	_ = f.main.shutdown(time.Second)
	if f.metrics != nil {
		_ = f.metrics.shutdown(time.Second)
	}
}

// startingRoutes answers as a server that is starting (Start), with
// metrics at /metrics unless it has a listener of its own.
func startingRoutes(cfg Config, metrics http.Handler) http.Handler {
	r := chi.NewRouter()
	// A path not routed here is /graphql or one the server will serve, or
	// 404 once it serves: all wait for the server.
	r.NotFound(starting)
	r.MethodNotAllowed(methodNotAllowed(r, starting))
	r.Use(securityHeaders)
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		r.MethodFunc(m, "/healthz", healthz)
		r.MethodFunc(m, "/readyz", startingReady)
		if !cfg.MetricsOnOwnListener {
			r.Method(m, "/metrics", metrics)
		}
	}
	return r
}

// startingReady answers the readiness probe while the server starts.
func startingReady(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "server": "starting"})
}

// starting answers a request the server cannot serve yet: /graphql as
// GraphQL over HTTP does (graph.WriteUnavailable), any other path as
// every refusal before GraphQL is answered (apperr.WriteHTTP).
func starting(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/graphql" {
		graph.WriteUnavailable(w, r, startingMessage, startingRetryAfter)
		return
	}
	w.Header().Set("Retry-After", startingRetryAfter)
	apperr.WriteHTTP(w, http.StatusServiceUnavailable, apperr.Unavailable, startingMessage, "")
}

// timeouts are an http.Server's bounds on reading a request and writing
// its answer (httpServer).
type timeouts struct{ read, write time.Duration }

// apiTimeouts are the main listener's: /graphql's requests and answers.
var apiTimeouts = timeouts{read: 30 * time.Second, write: 60 * time.Second}

// frontListener is one listener, served by one http.Server whose handler
// is swapped without a pause.
type frontListener struct {
	hs       *http.Server
	handler  atomic.Pointer[http.Handler]
	served   chan struct{} // closed when hs.Serve has returned serveErr
	serveErr error
	stopOnce sync.Once
	stopErr  error
}

// serveListener serves ln with h, within the connection bounds of cfg,
// until it is shut down; failed, if not nil, is told an error that stopped
// it otherwise.
func serveListener(cfg Config, ln net.Listener, h http.Handler, t timeouts, failed func(error)) *frontListener {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	l := &frontListener{served: make(chan struct{})}
	l.handler.Store(&h)
	l.hs = httpServer(cfg.Logger, l, t.read, t.write)
	limited := limitConnections(cfg, ln, l.hs.SetKeepAlivesEnabled)
	go func() {
		defer close(l.served)
		l.serveErr = l.hs.Serve(limited)
		if failed != nil && !errors.Is(l.serveErr, http.ErrServerClosed) {
			failed(l.serveErr)
		}
	}()
	return l
}

// ServeHTTP answers with the handler of the moment: each request loads it
// once.
func (l *frontListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*l.handler.Load()).ServeHTTP(w, r)
}

// swap has the requests that come from now on answered by h.
func (l *frontListener) swap(h http.Handler) { l.handler.Store(&h) }

// serveUntil waits until ctx is done, then calls stopping (if not nil)
// and shuts the listener down (shutdown); or returns the error of a
// listener that failed first.
func (l *frontListener) serveUntil(ctx context.Context, grace time.Duration, stopping func()) error {
	select {
	case <-l.served:
		return l.serveErr
	case <-ctx.Done():
	}
	if stopping != nil {
		stopping()
	}
	return l.shutdown(grace)
}

// shutdown stops accepting connections, closes the idle ones and lets the
// requests in flight finish, up to grace; past it, it closes the
// connections still open, which cancels their requests: a write not yet
// committed is rolled back, and none goes on after the server said it
// stopped (http.Server.Shutdown alone leaves them running). It returns the
// error of a listener that had failed, or the cut-off's; called again, the
// same.
func (l *frontListener) shutdown(grace time.Duration) error {
	l.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := l.hs.Shutdown(ctx); err != nil {
			l.hs.Close()
			// Said in words: "context deadline exceeded" alone told an
			// operator nothing of the requests cut off.
			l.stopErr = fmt.Errorf("stopped after a grace period of %s, cutting off the requests still running (their writes not committed are rolled back): %w", grace, err)
		}
		<-l.served
		if l.serveErr != nil && !errors.Is(l.serveErr, http.ErrServerClosed) {
			l.stopErr = l.serveErr
		}
	})
	return l.stopErr
}
