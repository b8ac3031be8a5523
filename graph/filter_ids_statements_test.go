package graph_test

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
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
		var seen struct {
			Victims struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		s.Ask(t, token, `{ victims(first: 3) { edges { node { id } } } }`, nil).MustOK(t).Decode(t, &seen)
		if len(seen.Victims.Edges) != 3 {
			t.Fatalf("police-tirane sees %d victims", len(seen.Victims.Edges))
		}
		visible := []string{seen.Victims.Edges[0].Node.ID, seen.Victims.Edges[1].Node.ID, seen.Victims.Edges[2].Node.ID}
		hidden := make([]string, len(other))
		for i, id := range other {
			hidden[i] = testserver.GlobalID(id)
		}
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
