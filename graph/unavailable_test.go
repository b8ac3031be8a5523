package graph_test

// What a client is told when the database goes away at one precise step of
// its request (issue 8): a statement of a query, BEGIN or the answer to
// COMMIT of a mutation. testdb.WithFaults aims the failure; the server,
// HTTP and GraphQL are real. server/outage_test.go cuts a real PostgreSQL.

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// lostConnections are errors the drivers return when the connection to
// the database is gone, as ent hands them on.
var lostConnections = map[string]error{
	"bad connection":   fmt.Errorf("ent: querying: %w", driver.ErrBadConn),
	"connection reset": &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET},
	"EOF":              io.EOF,
	"refused":          &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
}

// TestQueryOnLostConnectionIsUnavailable: a read whose statement finds the
// connection gone answers UNAVAILABLE with a request id, never INTERNAL.
func TestQueryOnLostConnectionIsUnavailable(t *testing.T) {
	db, faults := testdb.WithFaults(testdb.SQLite(t))
	s := testserver.Start(t, db)
	tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	const query = `{ cases(first: 2) { totalCount edges { node { reference } } } }`
	s.Do(t, tok, query, nil).MustOK(t)

	for name, lost := range lostConnections {
		t.Run(name, func(t *testing.T) {
			faults.FailStatements("case_files", -1, lost)
			defer faults.Clear()
			wantUnavailable(t, s.Do(t, tok, query, nil), "the list's statement lost its connection")
		})
	}
	s.Do(t, tok, query, nil).MustOK(t)
}

// wantUnavailable checks the answer to a request that lost its connection
// to the database (what says where): errors, each UNAVAILABLE with a
// request id.
func wantUnavailable(t *testing.T, res *testserver.Response, what string) {
	t.Helper()
	if len(res.Errors) == 0 {
		t.Fatalf("%s: want an error, got %s", what, res.Body)
	}
	for _, e := range res.Errors {
		if e.Code() != string(apperr.Unavailable) || e.Extensions["requestId"] == nil {
			t.Errorf("%s: code %q (requestId %v), want UNAVAILABLE with a request id:\n%s", what, e.Code(), e.Extensions["requestId"], res.Body)
		}
	}
}

// TestMutationBeginRetriedOnce: a transaction whose BEGIN found the
// connection gone is begun once more (nothing was done yet); when that
// fails too, the answer is UNAVAILABLE and nothing is written.
func TestMutationBeginRetriedOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, base *database.DB) {
		db, faults := testdb.WithFaults(base)
		s := testserver.Start(t, db)
		tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
		lead := agencyGlobalID(t, db, "police-tirane")
		reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

		faults.FailBegins(1, reset)
		res := s.Do(t, tok, openCaseDoc, map[string]any{"in": faultCaseInput("TIR-FAULT-1", lead)})
		res.MustOK(t)

		faults.FailBegins(2, reset)
		res = s.Do(t, tok, openCaseDoc, map[string]any{"in": faultCaseInput("TIR-FAULT-2", lead)})
		if codes := res.Codes(); len(codes) != 1 || codes[0] != string(apperr.Unavailable) {
			t.Fatalf("BEGIN failed twice: codes %v, want [UNAVAILABLE]:\n%s", codes, res.Body)
		}
		if res.Errors[0].Extensions["outcome"] != nil {
			t.Errorf("a transaction that never began has a known outcome (nothing saved), got %v", res.Errors[0].Extensions["outcome"])
		}
		if n := casesWithReference(t, db, "TIR-FAULT-2"); n != 0 {
			t.Errorf("%d cases written by a mutation that could not begin", n)
		}
	})
}

// TestMutationFaultAnswers: a fault at one step of a mutation's
// transaction; what the client is told (UNAVAILABLE with a request id,
// never INTERNAL, never the driver's words), what was written, and that
// sending it again with its idempotencyKey leaves one record.
//   - The answer to COMMIT lost: the change may have been made, so
//     outcome UNKNOWN (never "not saved"); the server does not retry it,
//     and the retry returns the record made instead of making a second.
//   - A statement PostgreSQL aborted to break a deadlock: nothing was
//     written; the client is told this change was not saved and to send
//     it again.
func TestMutationFaultAnswers(t *testing.T) {
	for _, c := range []struct {
		name    string
		fault   func(*testdb.Faults)
		outcome any    // extensions.outcome
		says    string // in the message
		written int    // cases after the fault
	}{
		{"CommitAnswerLost", func(f *testdb.Faults) { f.LoseCommitAnswers(1, fmt.Errorf("pq: %w", io.EOF)) }, "UNKNOWN", "may or may not have been saved", 1},
		{"Deadlock", func(f *testdb.Faults) {
			f.FailStatements("INSERT INTO", 1, fmt.Errorf("ent: %w", &pq.Error{Code: "40P01", Severity: "ERROR", Message: "deadlock detected"}))
		}, nil, "it was not saved", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, base *database.DB) {
				db, faults := testdb.WithFaults(base)
				s := testserver.Start(t, db)
				tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
				ref := "TIR-FAULT-" + c.name
				vars := map[string]any{"in": faultCaseInput(ref, agencyGlobalID(t, db, "police-tirane")), "key": "intake-" + c.name}

				c.fault(faults)
				res := s.Do(t, tok, openCaseDoc, vars)
				if codes := res.Codes(); len(codes) != 1 || codes[0] != string(apperr.Unavailable) {
					t.Fatalf("codes %v, want [UNAVAILABLE]:\n%s", codes, res.Body)
				}
				e := res.Errors[0]
				if e.Extensions["requestId"] == nil || e.Extensions["outcome"] != c.outcome || !strings.Contains(e.Message, c.says) {
					t.Errorf("want a request id, outcome %v and a message saying %q:\n%s", c.outcome, c.says, res.Body)
				}
				if strings.Contains(string(res.Body), "deadlock") || strings.Contains(string(res.Body), "EOF") {
					t.Errorf("the driver's words reached the client:\n%s", res.Body)
				}
				if n := casesWithReference(t, db, ref); n != c.written {
					t.Fatalf("%d cases after the fault, want %d", n, c.written)
				}
				s.Do(t, tok, openCaseDoc, vars).MustOK(t)
				if n := casesWithReference(t, db, ref); n != 1 {
					t.Errorf("%d cases after sending it again with its idempotency key, want 1", n)
				}
			})
		})
	}
}

// TestUpdateWhoseCommitAnswerWasLost: the answer to an update's COMMIT
// is lost after the change was made, and another person changes the
// record next. The client is told how to find out safely: send the
// update again with the expectedVersion it sent, which is CONFLICT when
// it was made (docs/errors.md) and changes nothing. Until 2026-12-07
// (twenty-fourth session) the message said to "read the record and retry
// with its current expectedVersion": a client doing as told wrote its
// change again over the other person's, a lost write, and never learnt
// whether its own had been made.
func TestUpdateWhoseCommitAnswerWasLost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, base *database.DB) {
		db, faults := testdb.WithFaults(base)
		s := testserver.Start(t, db)
		tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
		other, err := s.Issuer.Issue("colleague@police-tirane", "police-tirane", []viewer.Role{viewer.RoleInvestigator}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var made struct {
			OpenCase struct{ ID string } `json:"openCase"`
		}
		s.Do(t, tok, openCaseDoc, map[string]any{"in": faultCaseInput("TIR-LOST-UPDATE", agencyGlobalID(t, db, "police-tirane"))}).MustOK(t).Decode(t, &made)
		const update = `mutation ($id: ID!, $v: Int!, $title: String!) { updateCase(id: $id, expectedVersion: $v, input: {title: $title}) { version title } }`
		mine := map[string]any{"id": made.OpenCase.ID, "v": 1, "title": "Forced begging, two minors"}

		faults.LoseCommitAnswers(1, fmt.Errorf("pq: %w", io.EOF))
		res := s.Do(t, tok, update, mine)
		if codes := res.Codes(); len(codes) != 1 || codes[0] != string(apperr.Unavailable) || res.Errors[0].Extensions["outcome"] != "UNKNOWN" {
			t.Fatalf("want UNAVAILABLE with outcome UNKNOWN:\n%s", res.Body)
		}
		says := res.Errors[0].Message
		if strings.Contains(says, "current expectedVersion") || !strings.Contains(says, "expectedVersion you sent") {
			t.Errorf("the message does not tell the client to retry with the expectedVersion it sent (retrying with the current one writes the change again over others'):\n%s", says)
		}
		s.Do(t, other, update, map[string]any{"id": made.OpenCase.ID, "v": 2, "title": "Forced begging and labour"}).MustOK(t)

		// Done as told: CONFLICT, and the other person's change stands.
		retry := s.Do(t, tok, update, mine)
		if codes := retry.Codes(); len(codes) != 1 || codes[0] != string(apperr.Conflict) {
			t.Fatalf("the retry with the version sent: want CONFLICT:\n%s", retry.Body)
		}
		var now struct {
			Node struct{ Title string } `json:"node"`
		}
		s.Do(t, tok, `query ($id: ID!) { node(id: $id) { ... on Case { title } } }`, map[string]any{"id": made.OpenCase.ID}).MustOK(t).Decode(t, &now)
		if now.Node.Title != "Forced begging and labour" {
			t.Errorf("the case's title is %q, want the other person's change", now.Node.Title)
		}
	})
}

const openCaseDoc = `mutation ($in: CreateCaseInput!, $key: String) { openCase(input: $in, idempotencyKey: $key) { id reference } }`

func faultCaseInput(ref, lead string) map[string]any {
	return map[string]any{
		"reference": ref, "title": "Suspected forced begging", "region": "TIRANE",
		"formsOfExploitation": []string{"FORCED_BEGGING"}, "leadAgencyID": lead,
	}
}

func agencyGlobalID(t *testing.T, db *database.DB, code string) string {
	t.Helper()
	id, err := db.Client.Agency.Query().Where(agency.Code(code)).OnlyID(viewer.SystemContext(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(id)
}

func casesWithReference(t *testing.T, db *database.DB, ref string) int {
	t.Helper()
	n, err := db.Client.CaseFile.Query().Where(casefile.Reference(ref)).Count(viewer.SystemContext(context.Background()))
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	return n
}

// TestCreateWithoutKeyWhoseCommitAnswerWasLost: the answer to the COMMIT
// of a create sent without an idempotencyKey is lost. Sending it again
// would make a second record if the first was made (an emergency grant
// here: a second EMERGENCY_ACCESS_GRANTED, one more of the five a day;
// a consent or a referral likewise), so the client is told to read
// first, not to send it again unchanged, which the twenty-fourth
// session's message told every mutation (a review, twenty-fifth
// session). The same create sent with a key is told to send it again
// with that key.
func TestCreateWithoutKeyWhoseCommitAnswerWasLost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, base *database.DB) {
		db, faults := testdb.WithFaults(base)
		s := testserver.Start(t, db)
		tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
		var made struct {
			OpenCase struct{ ID string } `json:"openCase"`
		}
		s.Do(t, tok, openCaseDoc, map[string]any{"in": faultCaseInput("TIR-LOST-GRANT", agencyGlobalID(t, db, "police-tirane"))}).MustOK(t).Decode(t, &made)
		const request = `mutation ($case: ID!, $key: String) { requestEmergencyAccess(caseID: $case, justification: "A victim may be moved tonight; the shelter must be warned.", idempotencyKey: $key) { id } }`

		lost := func(vars map[string]any) string {
			t.Helper()
			faults.LoseCommitAnswers(1, fmt.Errorf("pq: %w", io.EOF))
			res := s.Do(t, tok, request, vars)
			if codes := res.Codes(); len(codes) != 1 || codes[0] != string(apperr.Unavailable) || res.Errors[0].Extensions["outcome"] != "UNKNOWN" {
				t.Fatalf("want UNAVAILABLE with outcome UNKNOWN:\n%s", res.Body)
			}
			return res.Errors[0].Message
		}
		if says := lost(map[string]any{"case": made.OpenCase.ID}); strings.Contains(says, "Send it again unchanged") || !strings.Contains(says, "without an idempotencyKey") {
			t.Errorf("a create sent without a key is told to send it again (a second grant if the first was made), or not told why not:\n%s", says)
		}
		if says := lost(map[string]any{"case": made.OpenCase.ID, "key": "grant-lost-1"}); !strings.Contains(says, "same idempotencyKey") {
			t.Errorf("a create sent with a key is not told to send it again with that key:\n%s", says)
		}

		// Two mutations in one document each commit on their own: the
		// one whose answer was lost is to be sent alone, since the
		// other, answered, would be made again (a keyless create).
		faults.LoseCommitAnswers(1, fmt.Errorf("pq: %w", io.EOF))
		res := s.Do(t, tok, `mutation ($case: ID!) {
			first: requestEmergencyAccess(caseID: $case, justification: "A victim may be moved tonight; the shelter must be warned.", idempotencyKey: "grant-lost-2") { id }
			second: requestEmergencyAccess(caseID: $case, justification: "A victim may be moved tonight; the shelter must be warned.") { id } }`, map[string]any{"case": made.OpenCase.ID})
		if len(res.Errors) != 1 || res.Errors[0].Extensions["outcome"] != "UNKNOWN" || !strings.Contains(res.Errors[0].Message, "alone") {
			t.Errorf("the lost mutation of a document of two is not told to be sent alone:\n%s", res.Body)
		}
	})
}

// TestPolicyChangeWithoutKeyWhoseCommitAnswerWasLost: changePolicy takes
// an idempotencyKey but makes no record: sent again once made, it is
// refused (its lines are in the policy already), and read, the policy's
// version says whether it was made. The message of its lost COMMIT, sent
// without a key or a version, told the admin that sending it again would
// make "a second record", and to send a key "with every create", as a
// create without a key is told (a review, twenty-sixth session).
func TestPolicyChangeWithoutKeyWhoseCommitAnswerWasLost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, base *database.DB) {
		db, faults := testdb.WithFaults(base)
		s := testserver.Start(t, db)
		tok := s.Token(t, "onac", viewer.RoleAdmin)
		faults.LoseCommitAnswers(1, fmt.Errorf("pq: %w", io.EOF))
		res := s.Do(t, tok, `mutation { changePolicy(add: [["p", "judge", "court", "Victim:CONTACT", "read", "proceedings"]], reason: "Courts read the contact details of their proceedings' victims") { policyVersion } }`, nil)
		if codes := res.Codes(); len(codes) != 1 || codes[0] != string(apperr.Unavailable) || res.Errors[0].Extensions["outcome"] != "UNKNOWN" {
			t.Fatalf("want UNAVAILABLE with outcome UNKNOWN:\n%s", res.Body)
		}
		if says := res.Errors[0].Message; strings.Contains(says, "second record") || strings.Contains(says, "create") || !strings.Contains(says, "Read to see whether it was made") {
			t.Errorf("a policy change sent without a key or a version is told it is a create, or not told to read first:\n%s", says)
		}
	})
}
