package server_test

// Writes interrupted: a client that goes away while its mutation runs, and
// a server stopped while one is in flight (docs/mutations.md, "When the
// answer never comes"). The integrators' promise: never a lost write, and no write told
// as failed that was made, or the reverse. A write is held at a known step
// by testdb.Faults (its audit events about to be written, or its COMMIT
// just made), or on PostgreSQL by the audit trail's lock another session
// holds; the test then cuts the client off or stops the server, and looks
// at the database itself as well as over GraphQL.

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/auth"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/requestid"
	"github.com/casegraph/casegraph/seed"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// interruptedAt is a step a write is held at.
type interruptedAt struct {
	name string
	hold func(testing.TB, *testdb.Faults) *testdb.Hold
	made bool // the write stands once its client or its server is gone
}

var interruptionSteps = []interruptedAt{
	// Its case, assignment, timeline entry and idempotency record are
	// written, uncommitted; its audit events not yet.
	{"before its audit events", func(tb testing.TB, f *testdb.Faults) *testdb.Hold {
		return f.HoldStatement(tb, "INSERT INTO audit_events (")
	}, false},
	// COMMIT has taken effect; the server has not heard back yet.
	{"after its commit", func(tb testing.TB, f *testdb.Faults) *testdb.Hold { return f.HoldCommitted(tb) }, true},
}

// eachServedBackend runs f on SQLite as the server opens it (a file, in
// WAL mode: the test reads while a write is held open, as other requests
// would) and on PostgreSQL.
func eachServedBackend(t *testing.T, f func(t *testing.T, db *database.DB)) {
	t.Run("sqlite", func(t *testing.T) { f(t, testdb.SQLiteFile(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, testdb.Postgres(t)) })
}

const openCaseOnce = `mutation ($in: CreateCaseInput!, $key: String) { openCase(input: $in, idempotencyKey: $key) { id reference } }`

// aWrite is one idempotent create, as an integrator sends it and retries it.
type aWrite struct {
	ref, key string
	vars     map[string]any
	body     []byte
}

func newWrite(t *testing.T, db *database.DB, name string) aWrite {
	t.Helper()
	lead, err := db.Client.Agency.Query().Where(agency.Code("police-tirane")).OnlyID(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatalf("the registry: %v", err)
	}
	ref := "TIR-INTERRUPTED-" + name
	w := aWrite{ref: ref, key: "intake-" + name, vars: map[string]any{"key": "intake-" + name, "in": map[string]any{
		"reference": ref, "title": "Suspected forced begging", "region": "TIRANE",
		"formsOfExploitation": []string{"FORCED_BEGGING"}, "leadAgencyID": testserver.GlobalID(lead),
	}}}
	if w.body, err = json.Marshal(map[string]any{"query": openCaseOnce, "variables": w.vars}); err != nil {
		t.Fatal(err)
	}
	return w
}

// inFlight is a request sent on a connection of its own, which the test
// reads the answer of or closes (the client gone).
type inFlight struct {
	conn net.Conn
	br   *bufio.Reader
}

func (w aWrite) send(t *testing.T, addr, token string) *inFlight {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, token, len(w.body), w.body)
	return &inFlight{conn: conn, br: bufio.NewReader(conn)}
}

// answer reads the response: the id openCase answers, "" for null.
func (f *inFlight) answer(t *testing.T) (string, []byte) {
	t.Helper()
	res, err := http.ReadResponse(f.br, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	var r struct {
		Data struct{ OpenCase *struct{ ID string } }
	}
	if err == nil {
		err = json.Unmarshal(raw, &r)
	}
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the answer: %d %v\n%s", res.StatusCode, err, raw)
	}
	if r.Data.OpenCase == nil {
		return "", raw
	}
	return r.Data.OpenCase.ID, raw
}

// stored is what the database holds of a write, read with SQL.
type stored struct {
	cases, keys int
	caseID      int
	events      int // of the request that was interrupted
	creations   int // MUTATION events on the case
}

func (w aWrite) stored(t *testing.T, db *database.DB, requestID string) stored {
	t.Helper()
	q := func(query string, args ...any) int {
		t.Helper()
		if db.Dialect == "postgres" {
			for i := range args {
				query = strings.Replace(query, "?", "$"+strconv.Itoa(i+1), 1)
			}
		}
		var n int
		if err := db.SQL.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	s := stored{
		cases:  q(`SELECT count(*) FROM case_files WHERE reference = ?`, w.ref),
		keys:   q(`SELECT count(*) FROM idempotency_records WHERE key = ?`, w.key),
		caseID: q(`SELECT coalesce(max(id), 0) FROM case_files WHERE reference = ?`, w.ref),
		events: q(`SELECT count(*) FROM audit_events WHERE request_id = ?`, requestID),
	}
	s.creations = q(`SELECT count(*) FROM audit_events WHERE kind = 'MUTATION' AND entity_type = 'Case' AND entity_id = ?`, s.caseID)
	return s
}

// wantStored checks the database after an interrupted write: all of it,
// its events with it, or nothing at all (before: the row counts before).
func (w aWrite) wantStored(t *testing.T, db *database.DB, requestID string, made bool, before map[string]int) stored {
	t.Helper()
	got := w.stored(t, db, requestID)
	if !made {
		if got.cases != 0 || got.keys != 0 || got.events != 0 {
			t.Errorf("the write was not made, yet the database holds %d cases, %d idempotency records and %d audit events of the request", got.cases, got.keys, got.events)
		}
		testserver.WantUnchanged(t, db.Client, before)
		return got
	}
	if got.cases != 1 || got.keys != 1 || got.creations != 1 || got.events == 0 {
		t.Errorf("the write was made: want its case, its idempotency record and its events, got %+v (changes %s)",
			got, testserver.RowChanges(before, testdb.RowCounts(t, db.Client)))
	}
	return got
}

// retried sends the write again with its key and checks the end: exactly
// one case, the one made before if it was (a replay), its one creation
// in the trail, the same over GraphQL, and the trail's chain whole.
func (w aWrite) retried(t *testing.T, s *testserver.Server, token string, first stored) {
	t.Helper()
	var made struct{ OpenCase struct{ ID string } }
	s.Do(t, token, openCaseOnce, w.vars).MustOK(t).Decode(t, &made)
	after := w.stored(t, s.DB, "")
	if after.cases != 1 || after.keys != 1 || after.creations != 1 {
		t.Errorf("after the retry: %d cases, %d idempotency records, %d creations in the trail; want one of each", after.cases, after.keys, after.creations)
	}
	if first.cases == 1 && made.OpenCase.ID != testserver.GlobalID(first.caseID) {
		t.Errorf("the retry answered case %s, want the replay of the case made, %d", made.OpenCase.ID, first.caseID)
	}
	var found struct {
		Cases struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	s.Do(t, token, `query ($r: String!) { cases(where: {reference: $r}) { totalCount edges { node { id } } } }`,
		map[string]any{"r": w.ref}).MustOK(t).Decode(t, &found)
	if found.Cases.TotalCount != 1 || found.Cases.Edges[0].Node.ID != made.OpenCase.ID {
		t.Errorf("over GraphQL: %+v, want the one case %s", found.Cases, made.OpenCase.ID)
	}
	if v, err := audit.Verify(context.Background(), s.DB.Client); err != nil || !v.Valid {
		t.Errorf("the audit trail does not verify: %+v %v", v, err)
	}
}

// ended waits until ctx, a held request's, is done: the server saw its
// client go.
func ended(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the request's context did not end", what)
	}
}

// waitAnswered waits until logs have the "request" line of request id:
// the handler has returned, whatever it answered.
func waitAnswered(t *testing.T, logs func() string, id string) testserver.LogRecord {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		for _, r := range testserver.DecodeLog(t, logs()) {
			if r.Msg() == "request" && r.String("request_id") == id {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s never ended:\n%s", id, logs())
		}
	}
}

// noPanic fails t when logs show a panic.
func noPanic(t *testing.T, logs string) {
	t.Helper()
	for _, r := range testserver.DecodeLog(t, logs) {
		if strings.HasPrefix(r.Msg(), "panic") {
			t.Errorf("the server panicked: %v", r)
		}
	}
}

// nothingHeld checks that the server holds nothing for requests that have
// ended: no slot of its admission, no answer counted as unsent, no audit
// write queued, no connection of the pool.
func nothingHeld(t *testing.T, metric func(name string) float64) {
	t.Helper()
	for _, name := range []string{"casegraph_graphql_operations_in_flight", "casegraph_graphql_operations_queued",
		"casegraph_graphql_unsent_answer_bytes", "casegraph_audit_writes_queued", "casegraph_audit_writes_writing",
		`go_sql_in_use_connections{db_name="casegraph"}`} {
		if got := metric(name); got != 0 {
			t.Errorf("%s = %v once every request has ended, want 0", name, got)
		}
	}
}

// TestClientGoneWhileItsMutationRuns: a client closes its connection
// while its create is held before its audit events are written, or once
// its COMMIT has taken effect. The create is then made whole or not at
// all; the server goes on serving and holds nothing for it; the retry with
// the same key answers the case made, or makes it, once.
func TestClientGoneWhileItsMutationRuns(t *testing.T) {
	for _, step := range interruptionSteps {
		t.Run(step.name, func(t *testing.T) {
			eachServedBackend(t, func(t *testing.T, base *database.DB) {
				db, faults := testdb.WithFaults(base)
				s := testserver.Start(t, db)
				tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
				w := newWrite(t, db, "GONE")
				before := testdb.RowCounts(t, db.Client)

				hold := step.hold(t, faults)
				f := w.send(t, s.HTTP.Listener.Addr().String(), tok)
				ctx := hold.Reached(t, 10*time.Second)
				id := requestid.FromContext(ctx)
				f.conn.Close()
				ended(t, ctx, "the client closed its connection")
				hold.Release()
				waitAnswered(t, s.Logs, id)

				first := w.wantStored(t, db, id, step.made, before)
				nothingHeld(t, func(name string) float64 { return metric(t, s.URL, name) })
				noPanic(t, s.Logs())
				if !step.made {
					toldAsClientGone(t, s.LogRecords(t), id)
				}
				w.retried(t, s, tok, first)
			})
		})
	}
}

// toldAsClientGone: the log tells the operator a change ended by its
// client's going as that, at INFO, not as the request's deadline (a WARN
// saying the server took too long, until the twenty-fifth session).
func toldAsClientGone(t *testing.T, records []testserver.LogRecord, id string) {
	t.Helper()
	told := false
	for _, r := range records {
		if r.String("request_id") != id {
			continue
		}
		switch r.Msg() {
		case "the client went away: the change was not made":
			told = told || r.String("level") == "INFO"
		case "the request's deadline ended the change":
			t.Errorf("a change ended by its client's going was logged as the deadline's: %v", r)
		}
	}
	if !told {
		t.Error("no INFO line says the client went away and the change was not made")
	}
}

// TestClientGoneWhileItsMutationWaitsInTheDatabase: on PostgreSQL, a
// create whose rows are written waits inside the database for the audit
// trail's lock, which another session holds; its client goes. The server
// cancels the statement there and rolls the create back at once, without
// waiting for the lock: nothing of it is written, and its connection and
// slot are free while the lock is still held.
func TestClientGoneWhileItsMutationWaitsInTheDatabase(t *testing.T) {
	db := testdb.Postgres(t)
	s := testserver.Start(t, db, testserver.Options{Config: server.Config{RequestTimeout: time.Minute}})
	tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	w := newWrite(t, db, "WAITING")
	before := testdb.RowCounts(t, db.Client)
	ctx := context.Background()

	// Another session, outside the server's pool.
	other, err := sql.Open("postgres", db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback() }()
	if _, err := lock.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(audit.ChainLockKey)); err != nil {
		t.Fatal(err)
	}
	f := w.send(t, s.HTTP.Listener.Addr().String(), tok)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := db.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
  AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the create never waited for the audit trail's lock")
		}
	}
	f.conn.Close()
	var id string
	for deadline := time.Now().Add(20 * time.Second); id == ""; time.Sleep(10 * time.Millisecond) {
		for _, r := range s.LogRecords(t) {
			if r.Msg() == "request" && r.String("path") == "/graphql" {
				id = r.String("request_id")
			}
		}
		if id == "" && time.Now().After(deadline) {
			t.Fatalf("the create whose client went still waits for the lock:\n%s", s.Logs())
		}
	}
	w.wantStored(t, db, id, false, before)
	nothingHeld(t, func(name string) float64 { return metric(t, s.URL, name) })
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	noPanic(t, s.Logs())
	w.retried(t, s, tok, stored{})
}

// TestServerStoppedWhileAMutationRuns: the server is told to stop while a
// create is held. Within the grace period the create finishes and is
// answered as made. Past it, the server closes the connections still
// open, which cancels their requests: the create is then as its step left
// it (its COMMIT made, or nothing of it), nothing more of it runs after
// ListenAndServe returned, and its client, which gets no answer, retries
// against a new server on the same database with the same key and ends
// with exactly one case.
func TestServerStoppedWhileAMutationRuns(t *testing.T) {
	cases := []struct {
		step  interruptedAt
		grace time.Duration
	}{
		{interruptionSteps[0], 15 * time.Second},
		{interruptionSteps[0], 200 * time.Millisecond},
		{interruptionSteps[1], 200 * time.Millisecond},
	}
	for _, c := range cases {
		within := c.grace > time.Second
		name := c.step.name + ", past the grace period"
		if within {
			name = c.step.name + ", within the grace period"
		}
		t.Run(name, func(t *testing.T) {
			eachServedBackend(t, func(t *testing.T, base *database.DB) {
				db, faults := testdb.WithFaults(base)
				logs := &testserver.LockedBuffer{}
				srv, issuer := loggingServer(t, db, logs)
				subject := testserver.Subject("police-tirane", viewer.RoleInvestigator)
				tok, err := issuer.Issue(subject, "police-tirane", []viewer.Role{viewer.RoleInvestigator}, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				w := newWrite(t, db, "STOPPED")
				before := testdb.RowCounts(t, db.Client)

				ln := testserver.Loopback(t)
				serveCtx, stop := context.WithCancel(context.Background())
				defer stop()
				done := make(chan error, 1)
				go func() { done <- srv.ListenAndServe(serveCtx, ln, c.grace) }()

				hold := c.step.hold(t, faults)
				f := w.send(t, ln.Addr().String(), tok)
				ctx := hold.Reached(t, 10*time.Second)
				stop()
				testserver.WaitRefused(t, ln.Addr().String(), 10*time.Second)
				var first stored
				if within {
					select {
					case err := <-done:
						t.Fatalf("the server stopped (%v) with a create in flight, within its grace period", err)
					default:
					}
					hold.Release()
					id, body := f.answer(t)
					if id == "" {
						t.Fatalf("the create in flight at the stop was not answered as made:\n%s", body)
					}
					if err := <-done; err != nil {
						t.Errorf("ListenAndServe returned %v, want nil", err)
					}
					first = w.wantStored(t, db, requestid.FromContext(ctx), true, before)
					if id != testserver.GlobalID(first.caseID) {
						t.Errorf("answered case %s, the database holds %d", id, first.caseID)
					}
				} else {
					select {
					case err := <-done:
						if !errors.Is(err, context.DeadlineExceeded) {
							t.Errorf("ListenAndServe past its grace period returned %v, want the cut-off", err)
						}
					case <-time.After(c.grace + 10*time.Second):
						t.Fatal("ListenAndServe did not return past its grace period")
					}
					// The server closed the connection still open: the
					// create's request is cancelled, as if the process
					// had ended, and nothing more of it runs. At once,
					// well before the request's own deadline (5 s) would
					// have cancelled it anyway.
					select {
					case <-ctx.Done():
					case <-time.After(2 * time.Second):
						t.Fatal("the create cut off past the grace period still runs after ListenAndServe returned")
					}
					first = w.wantStored(t, db, requestid.FromContext(ctx), c.step.made, before)
					hold.Release()
					waitAnswered(t, logs.String, requestid.FromContext(ctx))
					if after := w.stored(t, db, requestid.FromContext(ctx)); after != first {
						t.Errorf("the create cut off at the stop went on: %+v, then %+v", first, after)
					}
				}
				nothingHeld(t, func(name string) float64 { return handlerMetric(t, srv.Handler(), name) })
				noPanic(t, logs.String())

				next := testserver.Start(t, base, testserver.Options{NoAgencies: true})
				w.retried(t, next, next.Token(t, "police-tirane", viewer.RoleInvestigator), first)
			})
		})
	}
}

// handlerMetric reads a sample of h's /metrics without a listener (the
// server's are closed once it stopped).
func handlerMetric(t *testing.T, h http.Handler, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if value, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// loggingServer is newServer logging into logs.
func loggingServer(t *testing.T, db *database.DB, logs *testserver.LockedBuffer) (*server.Server, *auth.DevIssuer) {
	t.Helper()
	if err := seed.Agencies(context.Background(), db.Client); err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.LoadOrCreateDevKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return server.New(server.Config{DB: db, Verifier: issuer, Enforcer: enforcer(t, db),
		Logger: slog.New(slog.NewJSONHandler(logs, nil))}), issuer
}
