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
	r := send(t, get(t, base, "/metrics"))
	if r.Status != http.StatusOK {
		t.Fatalf("/metrics: status %d", r.Status)
	}
	for line := range strings.SplitSeq(string(r.Body), "\n") {
		if value, ok := strings.CutPrefix(line, "casegraph_sql_statements_total "); ok {
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("casegraph_sql_statements_total %q: %v", value, err)
			}
			return uint64(n)
		}
	}
	t.Fatalf("/metrics has no casegraph_sql_statements_total:\n%s", r.Body)
	return 0
}
