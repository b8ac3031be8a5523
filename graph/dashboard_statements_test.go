package graph_test

import (
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// dashboardQuery is README's dashboard page (the page issue 11 measures):
// cases with their lead agency, victims with one identity field, and
// proceedings with their charges.
const dashboardQuery = `query ($n: Int!) {
  cases(first: $n, orderBy: [{field: OPENED_AT, direction: DESC}]) {
    edges { node {
      reference stage
      leadAgency { name }
      victims(first: 20) { edges { node { pseudonym sex legalName } } }
      prosecutions(first: 10) { edges { node { registrationNumber stage charges(first: 10) { edges { node { article } } } } } }
    } }
  }
}`

// dashboardStatements is how many SQL statements the dashboard page may
// cost outside the audit trail's transaction, whatever its size: the
// cases, their lead agencies, victims, proceedings and charges (one
// statement a level; the cases the agency works on are a standing table
// each of them reads, see docs/row-scope.md) and the facts that decide
// legalName for every victim of the page (one UNION ALL). The audit
// trail's own statements are the audit writer's to count; they too must
// not grow with the page.
const dashboardStatements = 6

// TestDashboardStatementCount fails if the dashboard page costs a statement
// per row, or more than dashboardStatements: a page of 5 cases and one of
// 50 cost the same. It asks as principals whose rows and fields are decided
// differently: every case and every legalName refused (General Prosecution
// Office), cases of the region with legalName where the office prosecutes
// (Tirana prosecution), and cases of the region with legalName by consent
// (Tirana police).
func TestDashboardStatementCount(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, n := startCountedDemo(t, db)
		for _, who := range []testserver.Principal{
			s.As(t, "prosecution-general", viewer.RoleProsecutor),
			s.As(t, "prosecution-tirane", viewer.RoleProsecutor),
			s.As(t, "police-tirane", viewer.RoleInvestigator),
			s.As(t, "ngo-vatra", viewer.RoleCaseWorker),
		} {
			type cost struct{ page, audit int64 }
			count := func(size int) cost {
				n.Reset()
				r := s.Do(t, who.Token, dashboardQuery, map[string]any{"n": size})
				var data struct {
					Cases struct{ Edges []struct{} }
				}
				r.Decode(t, &data)
				if len(data.Cases.Edges) != size {
					t.Fatalf("%s: want %d cases, got %d\n%s", who.Agency, size, len(data.Cases.Edges), r.Body)
				}
				for _, e := range r.Errors {
					if e.Code() != "FORBIDDEN" {
						t.Fatalf("%s: unexpected error: %s", who.Agency, r.Body)
					}
				}
				all, audit := n.All.Load(), n.InTx.Load()
				return cost{page: all - audit, audit: audit}
			}
			count(5) // the first request of a principal fills the server's caches
			small, big := count(5), count(50)
			t.Logf("%s %s: %d+%d statements (page+audit) for 5 cases, %d+%d for 50",
				db.Dialect, who.Agency, small.page, small.audit, big.page, big.audit)
			if small != big {
				t.Errorf("%s: statements grow with the page: %+v for 5 cases, %+v for 50", who.Agency, small, big)
			}
			if big.page > dashboardStatements {
				t.Errorf("%s: %d statements for the dashboard page, want at most %d", who.Agency, big.page, dashboardStatements)
			}
		}
	})
}
