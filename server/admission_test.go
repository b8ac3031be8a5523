package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
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

	unlock := lockCases(t, db)
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
	unlock()
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

// TestAdmissionSharesTheRoom: a client keeping the queue full does not
// have every other client refused. One arriving at the full queue takes
// the place of the filler's newest waiter, which is refused at once; the
// filler's older waiters keep theirs. Served in order of arrival, a
// dashboard was refused 503 for as long as an integrator's bulk job kept
// the queue full (a review).
func TestAdmissionSharesTheRoom(t *testing.T) {
	db := testdb.Postgres(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{RequestTimeout: 4 * time.Second, MaxOperations: 1, MaxQueuedOperations: 2}})
	bulk := s.Token(t, "police-durres", viewer.RoleInvestigator)
	dashboard := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	s.Do(t, bulk, `{ viewer { subject } }`, nil).MustOK(t)
	s.Do(t, dashboard, `{ viewer { subject } }`, nil).MustOK(t)

	unlock := lockCases(t, db)
	answers := make([]chan *testserver.Response, 4) // bulk's running one, its two waiting, the dashboard's
	send := func(i int, token, query string) {
		answers[i] = make(chan *testserver.Response, 1)
		go func() { answers[i] <- s.Do(t, token, query, nil) }()
	}
	send(0, bulk, `{ cases(first: 1) { edges { node { reference } } } }`)
	waitForMetric(t, s.URL, "casegraph_graphql_operations_in_flight", 1)
	send(1, bulk, `{ viewer { subject } }`)
	waitForMetric(t, s.URL, "casegraph_graphql_operations_queued", 1)
	send(2, bulk, `{ viewer { subject } }`)
	waitForMetric(t, s.URL, "casegraph_graphql_operations_queued", 2)

	send(3, dashboard, `{ viewer { subject } }`)
	wantBusy(t, "bulk's newest waiter, its place taken", <-answers[2])
	if got := metric(t, s.URL, "casegraph_graphql_operations_queued"); got != 2 {
		t.Errorf("casegraph_graphql_operations_queued = %v, want 2 (bulk's oldest and the dashboard's)", got)
	}
	unlock()
	for i, who := range map[int]string{0: "bulk's running", 1: "bulk's oldest waiting", 3: "the dashboard's"} {
		if r := <-answers[i]; r.Status != http.StatusOK || len(r.Errors) != 0 {
			t.Errorf("%s operation: %d %s", who, r.Status, r.Body)
		}
	}
	if got := metric(t, s.URL, "casegraph_graphql_operations_refused_total"); got != 1 {
		t.Errorf("casegraph_graphql_operations_refused_total = %v, want 1", got)
	}
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
	// About the request as a whole, nothing of which ran: no point of the
	// document, no field of an answer (docs/errors.md, "Where an error
	// points").
	if e := r.Errors[0]; e.Path != nil || e.Locations != nil {
		t.Errorf("%s: the refusal has path %v and locations %v, want neither", when, e.Path, e.Locations)
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

// busyServer starts a server that executes one operation at once and
// queues one, and fills both: the operation executing is held by a table
// another transaction locks until the test ends (or free is called).
func busyServer(t *testing.T, cfg server.Config) (s *testserver.Server, token string, free func()) {
	t.Helper()
	db := testdb.Postgres(t)
	cfg.RequestTimeout, cfg.MaxOperations, cfg.MaxQueuedOperations = 4*time.Second, 1, 1
	s = testserver.Start(t, db, testserver.Options{Config: cfg})
	token = s.Token(t, "police-tirane", viewer.RoleInvestigator)
	other := s.Token(t, "police-durres", viewer.RoleInvestigator)
	s.Do(t, other, `{ viewer { subject } }`, nil).MustOK(t)
	unlock := lockCases(t, db)
	held := make(chan struct{}, 2)
	go func() {
		s.Do(t, other, `{ cases(first: 1) { edges { node { reference } } } }`, nil)
		held <- struct{}{}
	}()
	waitForMetric(t, s.URL, "casegraph_graphql_operations_in_flight", 1)
	go func() { s.Do(t, other, `{ viewer { subject } }`, nil); held <- struct{}{} }()
	waitForMetric(t, s.URL, "casegraph_graphql_operations_queued", 1)
	freed := false
	free = func() {
		if !freed {
			freed = true
			unlock()
			<-held
			<-held
		}
	}
	t.Cleanup(free)
	return s, token, free
}

// TestAdmissionLeavesRequestErrorsTheirOwn: a request refused before it
// runs (unparsable, invalid, over the page or cost ceiling) needs no room
// and answers its own error on a busy server: gqlgen runs the response
// interceptors for it too, and it queued, then was told the server was busy
// (200, no Retry-After) about a request that can never succeed (a review).
func TestAdmissionLeavesRequestErrorsTheirOwn(t *testing.T) {
	s, token, _ := busyServer(t, server.Config{})
	for _, q := range []string{`{ nope }`, `{ viewer {`, `{ cases(first: 501) { totalCount } }`,
		`{ agencies(first: 500) { edges { node { cases(first: 500) { edges { node { reference } } } } } } }`} {
		r := s.Do(t, token, q, nil)
		if len(r.Errors) != 1 || r.Errors[0].Code() == "UNAVAILABLE" || r.Header.Get("Retry-After") != "" {
			t.Errorf("%q on a busy server: %d Retry-After=%q %s, want its own error", q, r.Status, r.Header.Get("Retry-After"), r.Body)
		}
	}
	if got := metric(t, s.URL, "casegraph_graphql_operations_refused_total"); got != 0 {
		t.Errorf("casegraph_graphql_operations_refused_total = %v, want 0: requests refused for themselves took room", got)
	}
}

// TestAdmissionRefundsItsRefusals: an operation refused for want of room
// costs its caller nothing. It was charged before it queued, so a client
// retrying as Retry-After says through a busy spell spent its budget on
// refusals and was then refused 429 with the server free (a review).
func TestAdmissionRefundsItsRefusals(t *testing.T) {
	s, token, free := busyServer(t, server.Config{CostPerMinute: 100})
	const page = `{ cases(first: 5) { edges { node { reference title stage } } } }` // costs 20
	for range 6 {
		wantBusy(t, "a retry through a busy spell", s.Do(t, token, page, nil))
	}
	free()
	if r := s.Do(t, token, page, nil); r.Status != http.StatusOK {
		t.Errorf("once there is room, a caller none of whose requests ran is answered %d: %s", r.Status, r.Body)
	}
}

// lockCases holds the cases' table (another transaction's lock) until
// unlock is called or the test ends: an operation reading cases waits on
// it, executing, as long as the test needs.
func lockCases(t *testing.T, db *database.DB) (unlock func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	unlock = func() { _ = tx.Rollback() }
	t.Cleanup(unlock)
	if _, err := tx.ExecContext(ctx, `LOCK TABLE case_files IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return unlock
}
