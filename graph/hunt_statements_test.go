package graph_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// grantsPage is what a data protection officer's review of emergency
// access shows: each grant with the reference of its case (caseReference
// exists so that the reviewer, who sees no case, can name it).
const grantsPage = `query ($n: Int!) {
  emergencyGrants(first: $n, orderBy: {field: GRANTED_AT, direction: DESC}) {
    totalCount
    edges { node { subject justification grantedAt expiresAt revokedAt caseReference agency { code } } }
  }
}`

// TestHuntEmergencyGrantsCaseReferenceStatements: a DPO's page of the
// agency's emergency grants with caseReference costs as many SQL
// statements for 50 grants as for 5. Today caseReference reads the case
// of each grant with a statement of its own (53 statements for 50 grants
// against 8 for 5, on SQLite and PostgreSQL), so a DPO's review grows a statement per grant, up to
// 500 a request.
func TestHuntEmergencyGrantsCaseReferenceStatements(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, n := startCountedDemo(t, db)
		// Sixty grants of the General Directorate's investigators (five a
		// person a day at most), each on a case of its own, made through
		// the API.
		ctx := viewer.SystemContext(context.Background())
		cases := db.Client.CaseFile.Query().Limit(60).IDsX(ctx)
		if len(cases) < 60 {
			t.Fatalf("the demo data has %d cases; the test needs 60", len(cases))
		}
		const request = `mutation ($case: ID!) { requestEmergencyAccess(caseID: $case, justification: "Victim missing since last night; need her phone to locate her.", hours: 1) { id } }`
		var who testserver.Principal
		for i, c := range cases {
			if i%5 == 0 {
				subject := fmt.Sprintf("investigator-%d@police-gd", i/5)
				tok, err := s.Issuer.Issue(subject, "police-gd", []viewer.Role{viewer.RoleInvestigator}, time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				who = testserver.Principal{Token: tok, Subject: subject, Agency: "police-gd"}
			}
			testserver.Call[struct{ ID string }](t, s, who, request, map[string]any{"case": testserver.GlobalID(c)})
		}
		dpo := s.Token(t, "police-gd", viewer.RoleDPO)
		count := func(size int) int64 {
			n.Reset()
			r := s.Ask(t, dpo, grantsPage, map[string]any{"n": size}).MustOK(t)
			var data struct {
				EmergencyGrants struct {
					TotalCount int
					Edges      []struct {
						Node struct{ CaseReference string }
					}
				}
			}
			r.Decode(t, &data)
			if len(data.EmergencyGrants.Edges) != size || data.EmergencyGrants.TotalCount != len(cases) {
				t.Fatalf("want %d of %d grants, got %d of %d", size, len(cases), len(data.EmergencyGrants.Edges), data.EmergencyGrants.TotalCount)
			}
			for _, e := range data.EmergencyGrants.Edges {
				if e.Node.CaseReference == "" {
					t.Fatalf("a grant without its case's reference: %s", r.Body)
				}
			}
			return n.All.Load() - n.InTx.Load()
		}
		count(5) // the first request of a principal fills the server's caches
		small, big := count(5), count(50)
		t.Logf("%s: %d statements for 5 grants, %d for 50", db.Dialect, small, big)
		if small != big {
			t.Errorf("statements grow with the page of emergency grants: %d for 5 grants, %d for 50 (caseReference reads each grant's case alone)", small, big)
		}
	})
}

// TestHuntVictimUpdateStatementsGrowWithTheVictimsCases: updateVictim
// costs the same SQL statements for a victim on one case as for a victim
// on twenty. docs/limits.md prices a mutation by its payload and the
// items of its input lists ("what one mutation writes is otherwise
// bounded by its input"), but updateVictim (like recordConsent,
// createReferral, recordSupportService, moveReferralStatus…) writes one
// timeline entry per case of the victim, each its own INSERT: its
// statements grow with the victim's cases, which its input and its price
// do not show (a victim linked to 1,000 cases once, by a registerVictim
// priced for them, makes every later update 1,000 INSERTs for a few
// points).
func TestHuntVictimUpdateStatementsGrowWithTheVictimsCases(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, n := startCountedDemo(t, db)
		police := s.As(t, "police-tirane", viewer.RoleInvestigator)
		ctx := viewer.SystemContext(context.Background())
		tirane := db.Client.CaseFile.Query().Where(casefile.RegionEQ(domain.RegionTirane)).Limit(20).IDsX(ctx)
		if len(tirane) < 20 {
			t.Fatalf("the demo data has %d cases in Tirana; the test needs 20", len(tirane))
		}
		const register = `mutation ($in: CreateVictimInput!, $cases: [ID!]) { registerVictim(input: $in, caseIDs: $cases) { id version } }`
		const update = `mutation ($id: ID!, $v: Int!) { updateVictim(id: $id, expectedVersion: $v, input: {identificationStatus: OFFICIAL_VICTIM}) { id version } }`
		type victimT struct {
			ID      string
			Version int
		}
		// statements registers a victim on cases and returns the
		// statements of one update of it.
		statements := func(pseudonym string, cases []int) int64 {
			ids := make([]string, len(cases))
			for i, c := range cases {
				ids[i] = testserver.GlobalID(c)
			}
			in := map[string]any{
				"pseudonym": pseudonym, "sex": "FEMALE", "ageGroup": "ADULT", "identificationStatus": "POTENTIAL_VICTIM",
				"identifiedBy": "STATE_POLICE", "identifiedAt": time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339), "region": "TIRANE",
				"formsOfExploitation": []string{"SEXUAL"},
			}
			v := testserver.Call[victimT](t, s, police, register, map[string]any{"in": in, "cases": ids})
			n.Reset()
			testserver.Call[victimT](t, s, police, update, map[string]any{"id": v.ID, "v": v.Version})
			return n.All.Load()
		}
		statements("V-2026-90001", tirane[:1]) // the first request of a principal fills the server's caches
		one, twenty := statements("V-2026-90002", tirane[:1]), statements("V-2026-90003", tirane)
		t.Logf("%s: updateVictim sends %d statements for a victim on 1 case, %d on 20", db.Dialect, one, twenty)
		if one != twenty {
			t.Errorf("updateVictim's statements grow with the victim's cases: %d for a victim on 1 case, %d on 20 (one INSERT a timeline entry)", one, twenty)
		}
	})
}
