package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/statistics"
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
// runtime, httpMetrics, the SQL statements db has sent and its pool of
// connections, the audit writer's batches and queue, and the statistics
// cache when there is one.
func newMetricsRegistry(db *database.DB, writer *audit.Writer, cache *statistics.Cache, admission *graph.Admission, unsent *unsentAnswers) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The pool (go_sql_*{db_name="casegraph"}: connections open and in
	// use, waits for one and their time) and the audit writer: a hunt of
	// answers leaving 13 s past their deadline under load could tell where
	// the time went only with a build that logged them.
	reg.MustRegister(collectors.NewDBStatsCollector(db.SQL, "casegraph"))
	reg.MustRegister(newSnapshotCollector(writer.Stats, auditMetrics))
	reg.MustRegister(newSnapshotCollector(admission.Stats, admissionMetrics))
	reg.MustRegister(newSnapshotCollector(unsent.stats, unsentMetrics))
	// Read from the database's own count when scraped: a load test
	// divides its growth by the requests it sent (docs/benchmark-http.md).
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "casegraph_sql_statements_total",
		Help: "SQL statements sent to the database, BEGIN, COMMIT and ROLLBACK included.",
	}, func() float64 { return float64(db.StatementsSent()) }))
	if cache != nil {
		reg.MustRegister(newSnapshotCollector(cache.Stats, cacheMetrics))
	}
	return reg
}

// auditMetrics are the audit writer's figures on /metrics
// (audit.WriterStats): its group commit (docs/audit.md), the batches it
// began and the events they committed, and the writes waiting for a batch
// or in the one being written.
var auditMetrics = []snapshotMetric[audit.WriterStats]{
	{"casegraph_audit_batches_total", "Transactions the audit writer began, each the events of the requests waiting then (committed or not).", prometheus.CounterValue, func(s audit.WriterStats) float64 { return float64(s.Batches) }},
	{"casegraph_audit_events_total", "Audit events the writer's batches committed.", prometheus.CounterValue, func(s audit.WriterStats) float64 { return float64(s.Events) }},
	{"casegraph_audit_writes_queued", "Requests whose audit events wait for a batch.", prometheus.GaugeValue, func(s audit.WriterStats) float64 { return float64(s.Queued) }},
	{"casegraph_audit_writes_writing", "Requests whose audit events are in the batch being written.", prometheus.GaugeValue, func(s audit.WriterStats) float64 { return float64(s.Writing) }},
}

// admissionMetrics are the GraphQL operations executing and waiting to
// (graph.Admission).
var admissionMetrics = []snapshotMetric[graph.AdmissionStats]{
	{"casegraph_graphql_operations_limit", "GraphQL operations executed at once at most (CASEGRAPH_MAX_OPERATIONS).", prometheus.GaugeValue, func(s graph.AdmissionStats) float64 { return float64(s.Limit) }},
	{"casegraph_graphql_operations_in_flight", "GraphQL operations executing.", prometheus.GaugeValue, func(s graph.AdmissionStats) float64 { return float64(s.Running) }},
	{"casegraph_graphql_operations_queued", "GraphQL operations waiting for room to execute.", prometheus.GaugeValue, func(s graph.AdmissionStats) float64 { return float64(s.Queued) }},
	{"casegraph_graphql_operations_refused_total", "GraphQL operations refused for want of room (UNAVAILABLE, 503), nothing of them run.", prometheus.CounterValue, func(s graph.AdmissionStats) float64 { return float64(s.Refused) }},
}

// unsentMetrics are the answers built and not yet sent (unsent.go).
var unsentMetrics = []snapshotMetric[unsentStats]{
	{"casegraph_graphql_unsent_answer_bytes", "Bytes of /graphql answers built and not yet written to their clients.", prometheus.GaugeValue, func(s unsentStats) float64 { return float64(s.Bytes) }},
	{"casegraph_graphql_unsent_answer_bytes_limit", "The server's budget of bytes of answers not yet written (CASEGRAPH_MAX_UNSENT_BYTES); a principal's share is a quarter of it, a client address's half.", prometheus.GaugeValue, func(s unsentStats) float64 { return float64(s.Limit) }},
	{"casegraph_graphql_unsent_answers_refused_total", "Requests to /graphql refused (UNAVAILABLE, 503) while the answers not yet written to their principal, their address or the server were over budget; nothing of them run.", prometheus.CounterValue, func(s unsentStats) float64 { return float64(s.Refused) }},
}

// cacheMetrics are the statistics cache's figures on /metrics
// (statistics.CacheStats, docs/statistics.md): whether it keeps anything
// (its listener up), how often it answers, and what it holds. A cache
// that is not listening answers nothing: every dashboard then reads its
// tables afresh.
var cacheMetrics = []snapshotMetric[statistics.CacheStats]{
	{"casegraph_statistics_cache_listening", "1 while the statistics cache hears changes and keeps values; 0 while its listener is down.", prometheus.GaugeValue, func(s statistics.CacheStats) float64 { return oneIf(s.Listening) }},
	{"casegraph_statistics_cache_hits_total", "Statistics reads of callers who see every row, answered from the cache.", prometheus.CounterValue, func(s statistics.CacheStats) float64 { return float64(s.Hits) }},
	{"casegraph_statistics_cache_misses_total", "Statistics reads of callers who see every row, not answered from the cache.", prometheus.CounterValue, func(s statistics.CacheStats) float64 { return float64(s.Misses) }},
	{"casegraph_statistics_cache_notifications_total", "Changes to counted tables heard by the statistics cache.", prometheus.CounterValue, func(s statistics.CacheStats) float64 { return float64(s.Heard) }},
	{"casegraph_statistics_cache_refreshes_total", "Statistics reads made again in the background after a change, so that the next request finds them kept.", prometheus.CounterValue, func(s statistics.CacheStats) float64 { return float64(s.Refreshes) }},
	{"casegraph_statistics_cache_values", "Values the statistics cache keeps.", prometheus.GaugeValue, func(s statistics.CacheStats) float64 { return float64(s.Kept) }},
	{"casegraph_statistics_cache_answer_cells", "Cells of the answers the statistics cache keeps (bounded).", prometheus.GaugeValue, func(s statistics.CacheStats) float64 { return float64(s.Weight) }},
}

func oneIf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// snapshotMetric is one figure read from a snapshot S of a component's
// counters.
type snapshotMetric[S any] struct {
	name, help string
	kind       prometheus.ValueType
	value      func(S) float64
}

// snapshotCollector reads a component's counters once a scrape, so that
// the figures of one scrape agree with each other (a cache's hits and
// misses, a writer's queued and writing, of the same moment).
type snapshotCollector[S any] struct {
	read    func() S
	metrics []snapshotMetric[S]
	descs   []*prometheus.Desc // metrics', in order
}

func newSnapshotCollector[S any](read func() S, metrics []snapshotMetric[S]) snapshotCollector[S] {
	c := snapshotCollector[S]{read: read, metrics: metrics}
	for _, m := range metrics {
		c.descs = append(c.descs, prometheus.NewDesc(m.name, m.help, nil, nil))
	}
	return c
}

func (c snapshotCollector[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c snapshotCollector[S]) Collect(ch chan<- prometheus.Metric) {
	s := c.read()
	for i, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(c.descs[i], m.kind, m.value(s))
	}
}

// MetricsHandler serves the metrics in Prometheus' text format, behind the
// token when one is configured. Mount it on its own listener when
// Config.MetricsOnOwnListener is set (ServeMetrics does).
func (s *Server) MetricsHandler() http.Handler {
	return metricsHandler(s.registry, s.cfg.MetricsToken)
}

// metricsHandler serves reg in Prometheus' text format, to a request
// with "Authorization: Bearer <token>" when token is not empty.
func metricsHandler(reg *prometheus.Registry, token string) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
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

// startingRegistry is the registry /metrics shows while the server starts
// (Start): the process and the Go runtime, all there is before the
// database is open.
func startingRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// ServeMetrics serves /metrics alone on ln until ctx is done (any other
// path is 404). It is for Config.MetricsOnOwnListener; `casegraph serve`
// has Start and Serve serve that listener instead, from the moment it is
// bound.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	return serveListener(s.cfg, ln, metricsRoutes(s.MetricsHandler()), metricsTimeouts, nil).serveUntil(ctx, metricsGrace, nil)
}

// metricsRoutes serves metrics at /metrics alone, on a listener of its
// own: any other path is 404.
func metricsRoutes(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return securityHeaders(mux)
}

// A scrape is small both ways: the metrics listener's bounds are shorter
// than /graphql's, and so is the wait for a scrape in flight at shutdown.
var metricsTimeouts = timeouts{read: 10 * time.Second, write: 30 * time.Second}

const metricsGrace = 5 * time.Second
