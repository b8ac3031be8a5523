package authz_test

import (
	"context"
	"database/sql"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// The audit trail's group commit (audit/groupcommit.go) seen from a
// client: many requests that read a sensitive field at once share audit
// transactions, and each answer still leaves only after its events are
// committed, or without its sensitive values when their batch failed.

const readLegalName = `query ($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`

// startWithWriter starts a server whose audit writer the test holds, to
// read its counts.
func startWithWriter(t *testing.T, db *database.DB) (*env, *audit.Writer) {
	t.Helper()
	w := audit.Install(db.Client, db.Dialect)
	return start(t, db, testserver.Options{Config: manyClientsConfig(w)}), w
}

// manyClientsConfig is the configuration of a server that tests send many
// requests at once, with audit writer w: its requests may take a while
// on a loaded machine, and these tests are about the trail, not deadlines
// nor room to run, so all of them execute at once (the default, a few a
// CPU, would have them wait their turn and never share a batch).
func manyClientsConfig(w *audit.Writer) server.Config {
	return server.Config{Audit: w, RequestTimeout: time.Minute, MaxOperations: 128}
}

// readAtOnce sends n reads of the legal name of victim at once, as a
// dashboard under load would, and returns the answers.
func readAtOnce(e *env, token string, victim, n int) []exchange {
	return sendAtOnce(e, token, readLegalName, map[string]any{"id": gid(victim)}, n)
}

// sendAtOnce sends query with vars n times at once and returns the answers.
func sendAtOnce(e *env, token, query string, vars map[string]any, n int) []exchange {
	answers := make([]exchange, n)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() { answers[i] = postGraphQL(e.s.URL, token, query, vars) })
	}
	wg.Wait()
	return answers
}

// manyClients is how many requests a test of the group commit sends at once.
const manyClients = 64

// recordedByRequest is what manyClients requests sent at once left in the
// audit trail, past the before events it held: each request's events, by
// request id (none for a request that left none). It fails the test unless
// requests are manyClients ids, and unless the chain, those events
// included, verifies.
func recordedByRequest(t *testing.T, db *database.DB, w *audit.Writer, before int, requests map[string]bool) map[string][]audit.Event {
	t.Helper()
	if len(requests) != manyClients {
		t.Fatalf("%d distinct request ids for %d requests", len(requests), manyClients)
	}
	events := testdb.AuditTrail(t, db)
	byRequest := make(map[string][]audit.Event, len(requests))
	for id := range requests {
		byRequest[id] = nil
	}
	for _, ev := range events[before:] {
		if requests[ev.RequestID] {
			byRequest[ev.RequestID] = append(byRequest[ev.RequestID], ev)
		}
	}
	if v, err := audit.Verify(context.Background(), db.Client); err != nil || !v.Valid || v.Checked != int64(len(events)) {
		t.Errorf("verify = %+v, %v; want valid over %d events", v, err, len(events))
	}
	t.Logf("%d requests, %d audit transactions", manyClients, w.Stats().Batches)
	return byRequest
}

// TestConcurrentSensitiveReadsAreRecorded: 64 requests read a sensitive
// field at once; all are answered with the value, each has its one read
// event, and the chain verifies.
func TestConcurrentSensitiveReadsAreRecorded(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e, w := startWithWriter(t, db)
		f := e.f
		before := len(testdb.AuditTrail(t, db))
		answers := readAtOnce(e, e.tok(t, "prosecution-tirane", viewer.RoleProsecutor), f.vT, manyClients)
		want := secret(f.pseudonym[f.vT], "legalName")
		requests := map[string]bool{}
		eachLegalNameAnswer(t, answers, func(x exchange, legalName *string, errs []testserver.Error) {
			if x.status != http.StatusOK || len(errs) > 0 || legalName == nil || *legalName != want {
				t.Errorf("want status 200 with legalName %q, got %d:\n%s", want, x.status, x.body)
			}
			requests[x.requestID] = true
		})
		for id, events := range recordedByRequest(t, db, w, before, requests) {
			recorded := 0
			for _, ev := range events {
				if ev.Kind == audit.FieldAccess && ev.EntityID == f.vT && ev.Decision == audit.Allowed {
					recorded++
				}
			}
			if recorded != 1 {
				t.Errorf("request %s has %d read events, want 1", id, recorded)
			}
		}
	})
}

// TestConcurrentReadsOfSeveralRecordsAreRecorded: 64 requests each read
// two victims' legalName at once and are refused both alike; each request
// has one event about the two, written by the group commit among the
// others', and the chain, records included, verifies.
func TestConcurrentReadsOfSeveralRecordsAreRecorded(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		e, w := startWithWriter(t, db)
		f := e.f
		before := len(testdb.AuditTrail(t, db))
		answers := sendAtOnce(e, e.tok(t, "onac", viewer.RoleCoordinator),
			`query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Victim { legalName } } }`, map[string]any{"ids": gids(f.vT, f.vD)}, manyClients)
		requests := map[string]bool{}
		for _, x := range answers {
			if x.err != nil || x.status != http.StatusOK || x.requestID == "" {
				t.Errorf("want status 200 with a request id, got %d, %v:\n%s", x.status, x.err, x.body)
				continue
			}
			requests[x.requestID] = true
		}
		both := []int{min(f.vT, f.vD), max(f.vT, f.vD)}
		for id, events := range recordedByRequest(t, db, w, before, requests) {
			var reads []audit.Event
			for _, ev := range events {
				if ev.Kind == audit.FieldAccess {
					reads = append(reads, ev)
				}
			}
			if len(reads) != 1 || reads[0].Decision != audit.Denied || reads[0].EntityID != 0 || !slices.Equal(reads[0].EntityIDs(), both) {
				t.Errorf("request %s has read events %+v, want one refusal about both victims", id, reads)
			}
		}
	})
}

// TestFailedBatchWithholdsEveryAnswer: the chain is held (as another
// server appending would hold it) while 16 requests read a sensitive field,
// so their events gather into one or two batches; then every insert into
// the trail fails. Every request is answered without the value, with
// AUDIT_UNAVAILABLE, and none of their events is stored.
func TestFailedBatchWithholdsEveryAnswer(t *testing.T) {
	t.Parallel()
	// SQLite's file database: its writers wait for one another (the
	// in-memory one's fail at once), as in production.
	for name, open := range map[string]func(testing.TB) *database.DB{
		dialect.SQLite: testdb.SQLiteFile, dialect.Postgres: testdb.Postgres,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			e, w := startWithWriter(t, db)
			f := e.f
			token := e.tok(t, "prosecution-tirane", viewer.RoleProsecutor)
			ctx := context.Background()

			hold, err := db.SQL.BeginTx(ctx, nil) // IMMEDIATE on SQLite: the write lock
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = hold.Rollback() }()
			if db.Dialect == dialect.Postgres {
				if _, err := hold.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(audit.ChainLockKey)); err != nil {
					t.Fatal(err)
				}
			}
			batchesBefore := w.Stats().Batches
			const clients = 16
			done := make(chan []exchange)
			go func() { done <- readAtOnce(e, token, f.vT, clients) }()
			waitWriting(t, w, clients)
			breakInside(t, hold, db.Dialect)
			if err := hold.Commit(); err != nil {
				t.Fatal(err)
			}
			answers := <-done
			_, undo := testdb.AuditBreakage(db.Dialect)
			execEach(t, db.SQL, "mending the audit trail", undo)

			value := secret(f.pseudonym[f.vT], "legalName")
			eachLegalNameAnswer(t, answers, func(x exchange, legalName *string, errs []testserver.Error) {
				if x.status != http.StatusOK || legalName != nil || strings.Contains(string(x.body), value) ||
					len(errs) != 1 || errs[0].Code() != "AUDIT_UNAVAILABLE" {
					t.Errorf("want status 200, legalName null and AUDIT_UNAVAILABLE, got %d:\n%s", x.status, x.body)
				}
				if ev := eventsOf(t, db, x.requestID); len(ev) != 0 {
					t.Errorf("request %s, whose batch failed, has events: %s", x.requestID, dump(ev))
				}
			})
			if n := w.Stats().Batches - batchesBefore; n > 2 {
				t.Errorf("%d requests waiting together took %d audit transactions, want at most 2", clients, n)
			}
			if v, err := audit.Verify(ctx, db.Client); err != nil || !v.Valid {
				t.Errorf("the chain does not verify: %+v %v", v, err)
			}
			// Mended, the same read is served again.
			if got := decode[struct{ Node struct{ LegalName string } }](t, e.do(t, token, readLegalName, map[string]any{"id": gid(f.vT)}).MustOK(t)); got.Node.LegalName != value {
				t.Errorf("once mended: %+v", got)
			}
		})
	}
}

// waitWriting waits until n writes of w are queued or being written.
func waitWriting(t *testing.T, w *audit.Writer, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s := w.Stats(); s.Queued+s.Writing != n; s = w.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("audit writes waiting: %+v, want %d", s, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// breakInside makes every insert into the trail fail, in tx: it takes
// effect when tx commits.
func breakInside(t *testing.T, tx *sql.Tx, dialectName string) {
	t.Helper()
	stmts, _ := testdb.AuditBreakage(dialectName)
	execEach(t, tx, "breaking the audit trail", stmts)
}
