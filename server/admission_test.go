package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// TestAdmission: a server executes at most MaxOperations operations at
// once, cheap ones included (they never waited, and eighty at once took a
// server under a memory limit to a third of its CPU collecting garbage, a
// hunt over HTTP). Others wait, at most MaxQueuedOperations of them and
// for half their deadline; past either they are refused with 503,
// UNAVAILABLE and Retry-After, and nothing of them runs. One operation
// is held executing by a table another transaction holds.
func TestAdmission(t *testing.T) {
	db := testdb.Postgres(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{RequestTimeout: 4 * time.Second, MaxOperations: 1, MaxQueuedOperations: 1}})
	token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	s.Do(t, token, `{ viewer { subject } }`, nil).MustOK(t) // the agency is known: authentication reads nothing
	if got := metric(t, s.URL, "casegraph_graphql_operations_limit"); got != 1 {
		t.Fatalf("casegraph_graphql_operations_limit = %v, want 1", got)
	}

	ctx := context.Background()
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `LOCK TABLE case_files IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	held := make(chan *testserver.Response, 1)
	go func() { held <- s.Do(t, token, `{ cases(first: 5){ edges{ node{ reference } } } }`, nil) }()
	waitForMetric(t, s.URL, "casegraph_graphql_operations_in_flight", 1)

	queued := make(chan *testserver.Response, 1)
	go func() { queued <- s.Do(t, token, `{ viewer { subject } }`, nil) }()
	waitForMetric(t, s.URL, "casegraph_graphql_operations_queued", 1)

	// The queue is full: refused at once, nothing written.
	ref := "BUSY-1"
	full := s.Do(t, token, `mutation($a: ID!, $r: String!) { openCase(input: {reference: $r, title: "Busy", region: TIRANE, leadAgencyID: $a}) { id } }`,
		map[string]any{"a": s.AgencyIDs(t)["police-tirane"], "r": ref})
	wantBusy(t, "with the queue full", full)

	// The one waiting is refused at half its deadline, the one held still
	// running.
	wantBusy(t, "after waiting", <-queued)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	(<-held).MustOK(t)
	if got := metric(t, s.URL, "casegraph_graphql_operations_refused_total"); got != 2 {
		t.Errorf("casegraph_graphql_operations_refused_total = %v, want 2", got)
	}
	var found struct{ Cases struct{ TotalCount int } }
	s.Do(t, token, `query($r: String!) { cases(where: {reference: $r}) { totalCount } }`, map[string]any{"r": ref}).MustOK(t).Decode(t, &found)
	if found.Cases.TotalCount != 0 {
		t.Errorf("a mutation refused for want of room made its case")
	}
	waitForMetric(t, s.URL, "casegraph_graphql_operations_in_flight", 0)
}

func wantBusy(t *testing.T, when string, r *testserver.Response) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].Code() != "UNAVAILABLE" || r.Data != nil {
		t.Fatalf("%s: want 503 with one UNAVAILABLE and no data, got %d\n%s", when, r.Status, r.Body)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After", when)
	}
	if id, _ := r.Errors[0].Extensions["requestId"].(string); id == "" {
		t.Errorf("%s: no requestId", when)
	}
}

// waitForMetric waits (up to 10 s) until the metric name reads want.
func waitForMetric(t *testing.T, base, name string, want float64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got := metric(t, base, name)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", name, got, want)
		}
	}
}
