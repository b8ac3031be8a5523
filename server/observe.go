package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/casegraph/casegraph/viewer"
)

// httpMetrics counts requests and their durations by route, method and
// status. Every label value comes from a fixed set, so that no request can
// add a series: made-up methods and paths (20,000 of them once grew
// /metrics to 38 MB and the heap by 118 MB, for good) all count under
// "other" and "unmatched".
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// routes are the router's patterns, the only route labels; filled
	// once the routes are built, read-only after.
	routes map[string]bool
}

// unmatchedRoute is the route label of a path the router does not serve.
const unmatchedRoute = "unmatched"

// otherMethod is the method label of a method outside knownMethods.
const otherMethod = "other"

// knownMethods are the method labels: HTTP's registered methods.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
	http.MethodConnect: true, http.MethodTrace: true,
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casegraph_http_requests_total",
			Help: "HTTP requests by route pattern, method (\"other\" for any but the standard ones) and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "casegraph_http_request_duration_seconds",
			Help:    "HTTP request durations by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		routes: map[string]bool{},
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// learnRoutes records the patterns of router as the route labels.
func (m *httpMetrics) learnRoutes(router chi.Routes) {
	_ = chi.Walk(router, func(_ string, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		m.routes[route] = true
		return nil
	})
}

func (m *httpMetrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := unmatchedRoute
		if rc := chi.RouteContext(r.Context()); rc != nil && m.routes[rc.RoutePattern()] {
			route = rc.RoutePattern()
		}
		method := otherMethod
		if knownMethods[r.Method] {
			method = r.Method
		}
		m.requests.WithLabelValues(route, method, strconv.Itoa(ww.Status())).Inc()
		m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	})
}

type principalSinkKey struct{}

// withPrincipalSink lets the request log learn the principal that the
// authentication middleware, deeper in the chain, found.
func withPrincipalSink(ctx context.Context, sink **viewer.Principal) context.Context {
	return context.WithValue(ctx, principalSinkKey{}, sink)
}

// recordPrincipal runs after authentication and fills the sink.
func recordPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sink, ok := r.Context().Value(principalSinkKey{}).(**viewer.Principal); ok {
			*sink = viewer.FromContext(r.Context())
		}
		next.ServeHTTP(w, r)
	})
}
