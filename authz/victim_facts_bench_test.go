package authz

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/victim"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// BenchmarkVictimFacts times the facts' statement for a page's victims
// (up to 500, the most a dashboard page of 50 cases shows), for the
// prosecution office of Tirana on demo data at scale 10: sent as every
// other query ("unprepared", parsed and planned each time) and as a
// statement prepared once ("prepared", what victimFactsOf does).
func BenchmarkVictimFacts(b *testing.B) {
	testdb.EachDemo(b, 10, func(b *testing.B, db *database.DB) {
		ctx := viewer.SystemContext(context.Background())
		a := db.Client.Agency.Query().Where(agency.Code("prosecution-tirane")).OnlyX(ctx)
		p := &viewer.Principal{Subject: "bench@prosecution-tirane", AgencyCode: a.Code, AgencyID: a.ID,
			Roles: []viewer.Role{viewer.RoleProsecutor}}
		ids := db.Client.Victim.Query().Where(victim.RegionEQ(*a.Region)).Limit(500).IDsX(ctx)
		query, args := newFacts(db.Client, db.Dialect, p, a).victimFactsQuery(ids)
		for _, arm := range []struct {
			name string
			ctx  context.Context
		}{{"unprepared", ctx}, {"prepared", database.WithPrepared(ctx)}} {
			b.Run(arm.name, func(b *testing.B) {
				for b.Loop() {
					rows, err := db.Client.QueryContext(arm.ctx, query, args...)
					if err != nil {
						b.Fatal(err)
					}
					facts, err := readVictimFacts(rows, len(ids))
					_ = rows.Close()
					if err != nil || len(facts) == 0 {
						b.Fatalf("%d victims' facts, %v", len(facts), err)
					}
				}
			})
		}
	})
}
