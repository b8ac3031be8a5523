package graph_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestListFilterByIDCostsOneStatement: a list whose where names records by
// id (id, idIn, under and and or) costs one statement more than the same
// list filtered otherwise, however many ids it names and whether or not
// the caller sees them: the ids are looked up at once under the caller's
// rows, to record those not shown (docs/audit.md, "Records asked for by
// id"). A where that names no id positively (idNotIn, not) costs nothing
// more. The page's statements exclude the audit trail's transaction.
func TestListFilterByIDCostsOneStatement(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, n := startCountedDemo(t, db)
		token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
		ctx := viewer.SystemContext(context.Background())
		// Victims of another region, which police-tirane does not see
		// (most of them; whether it sees some does not change the count).
		other, err := db.Client.Victim.Query().Where(victim.RegionEQ(domain.RegionShkoder)).Limit(30).IDs(ctx)
		if err != nil || len(other) < 30 {
			t.Fatalf("the demo data has %d victims of Shkodër (%v); the test needs 30", len(other), err)
		}
		visible := firstSeen(t, s, token, "victims", 3)
		hidden := testserver.GlobalIDs(other...)
		count := func(where map[string]any) int64 {
			n.Reset()
			s.Ask(t, token, `query ($w: VictimWhereInput) { victims(first: 5, where: $w) { totalCount edges { node { id pseudonym } } } }`,
				map[string]any{"w": where}).MustOK(t)
			return n.All.Load() - n.InTx.Load()
		}
		count(map[string]any{"pseudonymNEQ": "x"}) // the first request of a principal fills the server's caches
		base := count(map[string]any{"pseudonymNEQ": "x"})
		for _, c := range []struct {
			name  string
			where map[string]any
			more  int64
		}{
			{"idNotIn", map[string]any{"idNotIn": hidden}, 0},
			{"not idIn", map[string]any{"not": map[string]any{"idIn": hidden}}, 0},
			{"id, hidden", map[string]any{"id": hidden[0]}, 1},
			{"id, visible", map[string]any{"id": visible[0]}, 1},
			{"idIn, 3 visible", map[string]any{"idIn": visible}, 1},
			{"idIn, 30 hidden and 3 visible", map[string]any{"idIn": append(append([]string{}, hidden...), visible...)}, 1},
			{"or and and", map[string]any{"or": []any{
				map[string]any{"id": visible[0]},
				map[string]any{"and": []any{map[string]any{"idIn": hidden[:10]}, map[string]any{"pseudonymNEQ": "x"}}},
				map[string]any{"idIn": hidden[10:]},
			}}, 1},
		} {
			got := count(c.where)
			t.Logf("%s %s: %d statements (%d without ids)", db.Dialect, c.name, got, base)
			if got != base+c.more {
				t.Errorf("%s: %d statements, want %d (%d for the list filtered without ids, plus %d)", c.name, got, base+c.more, base, c.more)
			}
		}
	})
}

// firstSeen returns the ids of the first n records of the root list that
// token's principal sees, failing the test unless it sees n.
func firstSeen(t *testing.T, s *testserver.Server, token, list string, n int) []string {
	t.Helper()
	var seen map[string]struct {
		Edges []struct{ Node struct{ ID string } }
	}
	s.Ask(t, token, fmt.Sprintf(`{ %s(first: %d) { edges { node { id } } } }`, list, n), nil).MustOK(t).Decode(t, &seen)
	ids := []string{}
	for _, e := range seen[list].Edges {
		ids = append(ids, e.Node.ID)
	}
	if len(ids) != n {
		t.Fatalf("the principal sees %d %s, want %d", len(ids), list, n)
	}
	return ids
}

// TestNestedFilterByIDCostsOneStatementAField: a case's prosecutions whose
// where names records by id, under a page of cases, look the ids up once
// for the field of the document, not once for each case of the page: a
// page of 2 cases and one of 40 cost the same statements (until
// 2026-12-07, nineteenth session, one look-up a case: 38 statements more
// for 40 cases than for 2). The RECORD_REFUSED events are those the
// same ids named by the root list's where leave, whatever the page: each
// hidden record once, 20 itemised and one summary of the rest
// (docs/audit.md, "Records asked for by id").
func TestNestedFilterByIDCostsOneStatementAField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s, n := startCountedDemo(t, db)
		token := s.Token(t, "police-tirane", viewer.RoleInvestigator)
		ctx := viewer.SystemContext(context.Background())
		// Proceedings of other regions' cases, which police-tirane does
		// not see (most of them: more than 20, so that some are
		// summarised), and three it sees.
		other, err := db.Client.Prosecution.Query().Where(prosecution.HasCaseWith(casefile.RegionNEQ(domain.RegionTirane))).Limit(40).IDs(ctx)
		if err != nil || len(other) < 40 {
			t.Fatalf("the demo data has %d proceedings of cases outside Tiranë (%v); the test needs 40", len(other), err)
		}
		ids := append(testserver.GlobalIDs(other...), firstSeen(t, s, token, "prosecutions", 3)...)
		// A summary's digest covers its records' nonces, drawn for each
		// event: what it summarises is its records and notItemised.
		digest := regexp.MustCompile(`"recordsDigest":"[0-9a-f]{64}"`)
		refusals := func(r *testserver.Response) []string {
			var out []string
			for _, e := range testdb.AuditTrail(t, db) {
				if e.RequestID == r.Header.Get("X-Request-Id") && e.Kind == audit.RecordRefused {
					out = append(out, fmt.Sprintf("%s %d %v %s %q %q", e.EntityType, e.EntityID, e.EntityIDs(), e.Decision, e.Reason, digest.ReplaceAllString(e.Detail, `"recordsDigest":…`)))
				}
			}
			slices.Sort(out)
			return out
		}
		vars := map[string]any{"ids": ids}
		want := refusals(s.Ask(t, token, `query ($ids: [ID!]) { prosecutions(where: {idIn: $ids}) { totalCount } }`, vars).MustOK(t))
		if len(want) != audit.MaxRefusedRecords+1 {
			t.Fatalf("the root list's where of %d proceedings outside Tiranë leaves %d refusals, want %d itemised and one summary:\n%s",
				len(other), len(want), audit.MaxRefusedRecords, strings.Join(want, "\n"))
		}
		const page = `query ($n: Int!, $ids: [ID!]) { cases(first: $n) { edges { node {
			reference prosecutions(first: 5, where: {idIn: $ids}) { totalCount edges { node { id } } }
		} } } }`
		count := func(size int) int64 {
			n.Reset()
			vars := map[string]any{"n": size, "ids": ids}
			r := s.Ask(t, token, page, vars).MustOK(t)
			var data struct {
				Cases struct {
					Edges []struct{ Node struct{ Reference string } }
				}
			}
			r.Decode(t, &data)
			if len(data.Cases.Edges) != size {
				t.Fatalf("want %d cases, got %d", size, len(data.Cases.Edges))
			}
			statements := n.All.Load() - n.InTx.Load()
			if got := refusals(r); !slices.Equal(got, want) {
				t.Errorf("under a page of %d cases the where's refusals are\n%s\nwant those of the root list's\n%s",
					size, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			return statements
		}
		count(2) // the first request of a principal fills the server's caches
		small, big := count(2), count(40)
		t.Logf("%s: %d statements for 2 cases, %d for 40", db.Dialect, small, big)
		if small != big {
			t.Errorf("statements grow with the parents of a where naming ids: %d for 2 cases, %d for 40 (a look-up a case)", small, big)
		}
	})
}
