package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestMetricsCountSQLStatements: /metrics shows the statements the server
// has sent as casegraph_sql_statements_total, which grows with each
// GraphQL request by what the request sent: the HTTP benchmark divides
// its growth by the requests of a run (docs/benchmark-http.md).
func TestMetricsCountSQLStatements(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		token := s.Token(t, "police-tirane", viewer.RoleInvestigator)

		before := statementsMetric(t, s.URL)
		if sent := db.StatementsSent(); before != sent {
			t.Fatalf("casegraph_sql_statements_total = %d, the database counted %d", before, sent)
		}
		r := s.Ask(t, token, `{ agencies(first: 3) { edges { node { code } } } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("errors: %s", r.Body)
		}
		after := statementsMetric(t, s.URL)
		if after <= before {
			t.Fatalf("casegraph_sql_statements_total went from %d to %d over a request that reads agencies", before, after)
		}
		if sent := db.StatementsSent(); after != sent {
			t.Errorf("casegraph_sql_statements_total = %d after the request, the database counted %d", after, sent)
		}
	})
}

// statementsMetric reads casegraph_sql_statements_total from base's /metrics.
func statementsMetric(t *testing.T, base string) uint64 {
	t.Helper()
	return uint64(metric(t, base, "casegraph_sql_statements_total"))
}

// metric reads the sample named (with its labels, if any) from base's
// /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	r := send(t, get(t, base, "/metrics"))
	if r.Status != http.StatusOK {
		t.Fatalf("/metrics: status %d", r.Status)
	}
	for line := range strings.SplitSeq(string(r.Body), "\n") {
		if value, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("%s %q: %v", name, value, err)
			}
			return n
		}
	}
	t.Fatalf("/metrics has no %s:\n%s", name, r.Body)
	return 0
}

// TestMetricsShowThePoolAndTheAuditWriter: /metrics shows the database
// pool (go_sql_*) and the audit writer's batches and events, which grow
// with a request that leaves an event (a DPO's read of the trail): under load, where
// an answer's time goes (waiting for a connection, for the trail) could be
// told only from a build that logged it (a hunt).
func TestMetricsShowThePoolAndTheAuditWriter(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		token := s.Token(t, "onac", viewer.RoleDPO)
		batches, events := metric(t, s.URL, "casegraph_audit_batches_total"), metric(t, s.URL, "casegraph_audit_events_total")
		r := s.Ask(t, token, `{ auditEvents(first: 1) { edges { node { seq } } } }`, nil)
		if r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if got := metric(t, s.URL, "casegraph_audit_batches_total"); got <= batches {
			t.Errorf("casegraph_audit_batches_total went from %v to %v over a request that read the trail", batches, got)
		}
		if got := metric(t, s.URL, "casegraph_audit_events_total"); got <= events {
			t.Errorf("casegraph_audit_events_total went from %v to %v over a request that read the trail", events, got)
		}
		if got := metric(t, s.URL, "casegraph_audit_writes_queued"); got != 0 {
			t.Errorf("casegraph_audit_writes_queued = %v with nothing running", got)
		}
		if got := metric(t, s.URL, `go_sql_open_connections{db_name="casegraph"}`); got < 1 {
			t.Errorf("go_sql_open_connections = %v after a request", got)
		}
	})
}
