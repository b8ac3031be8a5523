package casework_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestMutationRegistrationAndDecisionAtOnce: a proceeding's registration
// date and its court decisions' dates are checked against each other by
// the mutations that write them, so each must see what the other
// committed, however close together they run (and a charge, whether the
// proceeding has ended). Each subtest holds one side
// in flight in a transaction of its own, as that mutation leaves the rows
// before it commits, sends the other side over GraphQL, and checks that
// it waits and then is refused. PostgreSQL only: SQLite's write
// transactions are one at a time already.
func TestMutationRegistrationAndDecisionAtOnce(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	h := start(t, db)
	decision := func(p prosecutionT, on time.Time) map[string]any {
		return map[string]any{"in": map[string]any{
			"instance": "FIRST_INSTANCE", "decidedOn": stamp(on), "verdict": "ACQUITTED",
			"prosecutionID": p.ID, "courtID": h.agency(t, "court-tirane")}}
	}

	// refusedAfter holds one side in flight (held: statements and their
	// arguments, as inFlight takes them), sends the other, and checks that
	// it waits for the held side and is then refused as w says.
	refusedAfter := func(t *testing.T, held []any, send func() *testserver.Response, w want) {
		t.Helper()
		testserver.WantRefusal(t, waitsFor(t, db.SQL, inFlight(t, db.SQL, held...), send), w)
	}
	// updateProsecution moving p's registration to, not committed.
	movingRegistration := func(p prosecutionT, to time.Time) []any {
		return []any{`SELECT id FROM prosecutions WHERE id = $1 FOR NO KEY UPDATE`, testserver.Atoi(t, p.ID),
			`UPDATE prosecutions SET registered_at = $2, version = version + 1 WHERE id = $1`, testserver.Atoi(t, p.ID), to}
	}

	t.Run("DecisionWaitsForTheRegistration", func(t *testing.T) {
		p := h.bringToTrial(t, h.registerProsecution(t, h.openAssigned(t, "ADJUDICATING", "court-tirane").ID, date(3, 2)))
		refusedAfter(t, movingRegistration(p, date(3, 20)), func() *testserver.Response {
			return h.do(t, h.judge, recordDecisionMutation, decision(p, date(3, 5)))
		}, badField("input.decidedOn"))
	})

	t.Run("RegistrationWaitsForTheDecision", func(t *testing.T) {
		p := h.bringToTrial(t, h.registerProsecution(t, h.openAssigned(t, "ADJUDICATING", "court-tirane").ID, date(3, 2)))
		d := call[decisionT](t, h, h.judge, recordDecisionMutation, decision(p, date(3, 20)))
		// updateCourtDecision moving the decision to 3-05, not committed.
		held := []any{`SELECT id FROM prosecutions WHERE id = $1 FOR NO KEY UPDATE`, testserver.Atoi(t, p.ID),
			`UPDATE court_decisions SET decided_on = $2, version = version + 1 WHERE id = $1`, testserver.Atoi(t, d.ID), date(3, 5)}
		refusedAfter(t, held, func() *testserver.Response {
			return h.do(t, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
				"in": map[string]any{"registeredAt": stamp(date(3, 10))}})
		}, badField("input.registeredAt"))
	})

	t.Run("DecisionUpdateWaitsForTheRegistration", func(t *testing.T) {
		p := h.bringToTrial(t, h.registerProsecution(t, h.openAssigned(t, "ADJUDICATING", "court-tirane").ID, date(3, 2)))
		d := call[decisionT](t, h, h.judge, recordDecisionMutation, decision(p, date(3, 20)))
		refusedAfter(t, movingRegistration(p, date(3, 10)), func() *testserver.Response {
			return h.do(t, h.judge, updateDecisionMutation, map[string]any{"id": d.ID, "v": d.Version,
				"in": map[string]any{"decidedOn": stamp(date(3, 5))}})
		}, badField("input.decidedOn"))
	})

	// Not a date: a charge is not added to a proceeding that ended while
	// it was being added.
	t.Run("ChargeWaitsForTheEnd", func(t *testing.T) {
		p := h.registerProsecution(t, h.openCase(t).ID, date(3, 2))
		// moveProsecutionStage ending the proceeding, not committed.
		held := []any{`UPDATE prosecutions SET stage = 'MERGED', closed_at = $2, version = version + 1 WHERE id = $1`, testserver.Atoi(t, p.ID), date(3, 4)}
		refusedAfter(t, held, func() *testserver.Response {
			return h.do(t, h.prosecutor, addChargeMutation, map[string]any{"in": map[string]any{"article": "CC_110A", "prosecutionID": p.ID}})
		}, badField("input.prosecutionID"))
	})

	// A business key taken by a create that commits while another create
	// of the same key waits on its unique index is refused as any key in
	// use is, naming the field: the losers of twenty creates at once were
	// told of a conflict with no field (a hunt over HTTP).
	t.Run("KeyTakenAtOnce", func(t *testing.T) {
		c := h.openCase(t)
		number := newRegistration()
		held := []any{`INSERT INTO prosecutions (created_at, updated_at, registration_number, registered_at, case_id, office_id)
			VALUES (now(), now(), '` + number + `', $1, $2, $3)`, date(3, 2), testserver.Atoi(t, c.ID), testserver.Atoi(t, h.agency(t, "prosecution-tirane"))}
		refusedAfter(t, held, func() *testserver.Response {
			return h.do(t, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": number, "registeredAt": stamp(date(3, 2)), "caseID": c.ID, "officeID": h.agency(t, "prosecution-tirane")}})
		}, want{Code: "CONFLICT", Field: "input.registrationNumber"})
	})

	// A case's stage is moved by hand only while it has no proceeding:
	// moved while one was being registered, it no longer followed its
	// proceedings (found by a helper's hunt, 4 runs in 26).
	t.Run("CaseStageWaitsForTheRegistration", func(t *testing.T) {
		c := h.openCase(t)
		// registerProsecution, not committed: the proceeding inserted, the
		// case locked (as followProceedings does before it commits).
		// (The number is in the text: inFlight takes a string for the
		// next statement.)
		held := []any{`INSERT INTO prosecutions (created_at, updated_at, registration_number, registered_at, case_id, office_id)
			VALUES (now(), now(), '` + newRegistration() + `', $1, $2, $3)`, date(3, 2), testserver.Atoi(t, c.ID), testserver.Atoi(t, h.agency(t, "prosecution-tirane")),
			`SELECT id FROM case_files WHERE id = $1 FOR NO KEY UPDATE`, testserver.Atoi(t, c.ID)}
		refusedAfter(t, held, func() *testserver.Response {
			return h.do(t, h.prosecutor, moveCaseStageMutation, map[string]any{"id": c.ID, "v": c.Version, "stage": "REGISTERED"})
		}, badField("stage"))
	})
}

// heldTx is a transaction a test holds open, and its server process.
type heldTx struct {
	*sql.Tx
	pid int
}

// inFlight begins a transaction and runs each statement with its
// arguments in it (a statement, then its arguments up to the next
// string), leaving it open; the test ends it.
func inFlight(t *testing.T, db *sql.DB, steps ...any) heldTx {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	held := heldTx{Tx: tx}
	if err := tx.QueryRow(`SELECT pg_backend_pid()`).Scan(&held.pid); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(steps); {
		query := steps[i].(string)
		var args []any
		for i++; i < len(steps); i++ {
			if _, next := steps[i].(string); next {
				break
			}
			args = append(args, steps[i])
		}
		if _, err := tx.Exec(query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	return held
}

// waitsFor sends a request while tx is open, checks that the server waits
// for one of tx's locks rather than answering, commits tx, and returns the
// answer that follows.
func waitsFor(t *testing.T, db *sql.DB, tx heldTx, send func() *testserver.Response) *testserver.Response {
	t.Helper()
	answer := make(chan *testserver.Response, 1)
	go func() { answer <- send() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case r := <-answer:
			t.Fatalf("answered while the other write was in flight (it did not wait for it):\n%s", r.Body)
		default:
		}
		var waiting int
		// A session blocked by tx's own locks: not, say, the audit
		// writer waiting on the chain's.
		err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE $1 = ANY(pg_blocking_pids(pid))`, tx.pid).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the request neither answered nor waited for a lock in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-answer:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no answer 10 s after the other write committed")
		return nil
	}
}

// TestEmergencyRevokedWhileRevoking: a revocation that waits for another
// in flight on the same grant answers the grant as the other left it,
// revoked by the other officer, as when it comes after (it was told
// CONFLICT, "changed meanwhile", found by a helper's hunt; then
// BAD_USER_INPUT "already revoked" until the twenty-fourth session).
// PostgreSQL only, as above.
func TestEmergencyRevokedWhileRevoking(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	h := start(t, db)
	c := h.openCase(t)
	var g struct{ RequestEmergencyAccess struct{ ID string } }
	h.do(t, h.police, `mutation($c: ID!) { requestEmergencyAccess(caseID: $c, justification: "Victim missing since last night; need her phone.", hours: 1) { id } }`,
		map[string]any{"c": c.ID}).MustOK(t).Decode(t, &g)
	// revokeEmergencyAccess by another data protection officer, not committed.
	held := inFlight(t, db.SQL, `UPDATE emergency_grants SET revoked_at = now(), revoked_by = 'other-dpo', version = version + 1 WHERE id = $1`,
		testserver.Atoi(t, g.RequestEmergencyAccess.ID))
	r := waitsFor(t, db.SQL, held, func() *testserver.Response {
		return h.do(t, h.principal(t, "police-tirane", viewer.RoleDPO), `mutation($id: ID!) { revokeEmergencyAccess(id: $id) { id revokedAt revokedBy } }`,
			map[string]any{"id": g.RequestEmergencyAccess.ID})
	})
	var revoked struct {
		RevokeEmergencyAccess struct {
			ID        string
			RevokedAt *time.Time
			RevokedBy *string
		}
	}
	r.MustOK(t).Decode(t, &revoked)
	if got := revoked.RevokeEmergencyAccess; got.ID != g.RequestEmergencyAccess.ID || got.RevokedAt == nil || got.RevokedBy == nil || *got.RevokedBy != "other-dpo" {
		t.Errorf("the second revocation answered %+v, want the grant revoked by other-dpo", got)
	}
}
