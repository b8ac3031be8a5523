package graph_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/server"
	"github.com/casegraph/casegraph/viewer"
)

// TestChangedSinceWithTheOverlap: an integrator mirroring victims asks
// what changed since its last pull, as docs/mutations.md ("When a write
// becomes visible") says: where: {updatedAtGTE: its watermark less the
// request deadline}, keeping what it holds at the same version. A
// victim's updatedAt is stamped when its mutation writes the row, not
// when it commits: here registerVictim writes the victim, then waits for
// the case's row (linkVictim's lockCase) while another agency's write
// holds it; a victim registered meanwhile commits with a later updatedAt,
// and a pull moves the watermark past the first, which commits after.
// Pulling strictly after the watermark never returned it (a hunt); the
// overlap does, since no write commits later than the deadline after its
// stamp (TestDeadlineWhileWaitingForALock: a wait past it writes nothing).
// On PostgreSQL (SQLite writes one transaction at a time).
func TestChangedSinceWithTheOverlap(t *testing.T) {
	db := testdb.Postgres(t)
	s, tok := withCases(t, db, "TIR-FEED-0", "TIR-FEED-1")
	overlap := server.DefaultRequestTimeout
	var cases struct {
		Cases struct {
			Edges []struct {
				Node struct{ ID, Reference string }
			}
		}
	}
	s.Do(t, tok, `{ cases(first: 2, orderBy: [{field: REFERENCE}]) { edges { node { id reference } } } }`, nil).MustOK(t).Decode(t, &cases)
	if len(cases.Cases.Edges) != 2 {
		t.Fatalf("%d cases", len(cases.Cases.Edges))
	}
	held, other := cases.Cases.Edges[0].Node.ID, cases.Cases.Edges[1].Node.ID

	const register = `mutation ($in: CreateVictimInput!, $cases: [ID!]) { registerVictim(input: $in, caseIDs: $cases) { id pseudonym updatedAt } }`
	victim := func(pseudonym string) map[string]any {
		return map[string]any{
			"pseudonym": pseudonym, "sex": "FEMALE", "ageGroup": "ADULT", "identificationStatus": "POTENTIAL_VICTIM",
			"identifiedBy": "STATE_POLICE", "identifiedAt": "2026-02-15T10:00:00Z", "region": "TIRANE",
			"formsOfExploitation": []string{"SEXUAL"},
		}
	}
	type pulled struct {
		Victims struct {
			Edges []struct {
				Node struct{ Pseudonym, UpdatedAt string }
			}
		}
	}
	const pull = `query ($since: Time!) { victims(first: 500, where: {updatedAtGTE: $since}, orderBy: [{field: UPDATED_AT}]) {
  edges { node { pseudonym updatedAt } } } }`
	seen := map[string]string{}
	watermark := time.Now().Add(-time.Hour)
	pullOnce := func() {
		var p pulled
		since := watermark.Add(-overlap).UTC().Format(time.RFC3339Nano)
		s.Do(t, tok, pull, map[string]any{"since": since}).MustOK(t).Decode(t, &p)
		for _, e := range p.Victims.Edges {
			seen[e.Node.Pseudonym] = e.Node.UpdatedAt
			at, err := time.Parse(time.RFC3339Nano, e.Node.UpdatedAt)
			if err != nil {
				t.Fatal(err)
			}
			watermark = at
		}
	}

	// Another writer holds the case's row for a moment.
	ctx := context.Background()
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT id FROM case_files WHERE id = $1 FOR UPDATE`, held); err != nil {
		t.Fatal(err)
	}
	late := make(chan *testserver.Response, 1)
	go func() {
		late <- s.Do(t, tok, register, map[string]any{"in": victim("V-2026-9901"), "cases": []string{held}})
	}()
	// Until registerVictim waits for the case's row.
	for waited := 0; ; waited++ {
		var n int
		if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
  WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if waited > 200 {
			select {
			case r := <-late:
				t.Fatalf("registerVictim never waited for the case's row: %s", r.Body)
			default:
			}
			t.Fatal("registerVictim never waited for the case's row")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Do(t, tok, register, map[string]any{"in": victim("V-2026-9902"), "cases": []string{other}}).MustOK(t)
	pullOnce()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	r := <-late
	r.MustOK(t)
	pullOnce()

	if _, ok := seen["V-2026-9902"]; !ok {
		t.Fatalf("the pulls missed V-2026-9902: %v", seen)
	}
	if _, ok := seen["V-2026-9901"]; !ok {
		var made struct {
			RegisterVictim struct{ UpdatedAt string }
		}
		r.Decode(t, &made)
		t.Errorf("a pull of what changed since the last one, less the deadline, never returned V-2026-9901, committed after the first pull"+
			" with updatedAt %s, before V-2026-9902's %s (the watermark)", made.RegisterVictim.UpdatedAt, seen["V-2026-9902"])
	}
}

// TestCaseEventsPullWhatMovesNoRecord: a link moves neither the case's
// nor the victim's updatedAt (docs/mutations.md), so a mirror pulling the
// root lists by updatedAt misses it; caseEvents lists the timeline
// entries of the cases the caller sees, and a pull by createdAt (less the
// deadline) finds the link. An agency that does not work on the case
// finds none of its entries.
func TestCaseEventsPullWhatMovesNoRecord(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, tok := withCases(t, db, "TIR-LINK-0")
		var opened struct {
			Cases struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		s.Do(t, tok, `{ cases(first: 1) { edges { node { id } } } }`, nil).MustOK(t).Decode(t, &opened)
		if len(opened.Cases.Edges) != 1 {
			t.Fatalf("%d cases", len(opened.Cases.Edges))
		}
		caseID := opened.Cases.Edges[0].Node.ID
		since := time.Now().Add(-server.DefaultRequestTimeout).UTC().Format(time.RFC3339Nano)
		var made struct{ RegisterVictim struct{ ID string } }
		s.Do(t, tok, `mutation ($in: CreateVictimInput!) { registerVictim(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"pseudonym": "V-2026-9911", "sex": "FEMALE", "ageGroup": "ADULT", "identificationStatus": "POTENTIAL_VICTIM",
			"identifiedBy": "STATE_POLICE", "identifiedAt": "2026-02-15T10:00:00Z", "region": "TIRANE",
		}}).MustOK(t).Decode(t, &made)
		s.Do(t, tok, `mutation ($v: ID!, $c: ID!) { linkVictimToCase(victimID: $v, caseID: $c) { id } }`,
			map[string]any{"v": made.RegisterVictim.ID, "c": caseID}).MustOK(t)

		type entry struct{ Kind, SubjectID, CaseID string }
		pull := func(token string) []entry {
			var p struct {
				CaseEvents struct{ Edges []struct{ Node entry } }
			}
			s.Do(t, token, `query ($since: Time!) { caseEvents(first: 100, where: {createdAtGTE: $since}, orderBy: [{field: CREATED_AT}]) {
  edges { node { kind subjectID caseID } } } }`, map[string]any{"since": since}).MustOK(t).Decode(t, &p)
			var out []entry
			for _, e := range p.CaseEvents.Edges {
				out = append(out, e.Node)
			}
			return out
		}
		want := entry{Kind: "VICTIM_LINKED", SubjectID: made.RegisterVictim.ID, CaseID: caseID}
		if got := pull(tok); !slices.Contains(got, want) {
			t.Errorf("caseEvents since the link's stamp less the deadline = %v, want it to hold %v", got, want)
		}
		if got := pull(s.Token(t, "police-durres", viewer.RoleInvestigator)); len(got) != 0 {
			t.Errorf("an agency that does not work on the case pulled its entries: %v", got)
		}
	})
}
