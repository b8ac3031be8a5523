package statistics_test

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/viewer"
)

// BenchmarkNationalDashboard measures the national coordinator's dashboard
// (dashboardQuery: eight panels, one request) over real HTTP on demo data
// at scale 40 (about 11,000 cases and 24,000 victims); the target
// on PostgreSQL is under 50 ms. Seeding scale 40 takes minutes.
func BenchmarkNationalDashboard(b *testing.B) {
	for _, d := range testdb.Backends {
		b.Run(d, func(b *testing.B) {
			db := testdb.Open(b, d)
			if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: 40, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			if err := db.Analyze(context.Background()); err != nil {
				b.Fatal(err)
			}
			s := testserver.Start(b, db)
			token := s.Token(b, "onac", viewer.RoleCoordinator)
			// The baseline is the smallest request, over the same server: what
			// any request costs before statistics.
			for name, q := range map[string]string{"dashboard": dashboardQuery, "baseline": `{ viewer { subject } }`} {
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if r := s.Do(b, token, q, nil); len(r.Errors) > 0 {
							b.Fatalf("%s", r.Body)
						}
					}
				})
			}
		})
	}
}
