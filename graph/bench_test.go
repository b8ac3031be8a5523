package graph_test

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/seed/demo"
	"github.com/casegraph/casegraph/viewer"
)

// BenchmarkNestedCasesPage measures a dashboard's page of 50 cases with
// their victims (identity fields included), prosecutions, charges,
// decisions and agencies, over real HTTP, on demo data at scale 10 (about
// 2,700 cases and 6,000 victims).
func BenchmarkNestedCasesPage(b *testing.B) {
	for _, d := range testdb.Backends {
		b.Run(d, func(b *testing.B) {
			db := testdb.Open(b, d)
			benchSeed(b, db, 10)
			s := testserver.Start(b, db)
			token := s.Token(b, "prosecution-tirane", viewer.RoleProsecutor)
			vars := map[string]any{"n": 50}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r := s.Do(b, token, nestedCasesQuery, vars)
				if len(r.Errors) > 0 {
					b.Fatalf("%s", r.Body)
				}
			}
		})
	}
}

func benchSeed(b *testing.B, db *database.DB, scale int) {
	b.Helper()
	if _, err := demo.Load(context.Background(), db.Client, demo.Options{Scale: scale, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := db.Analyze(context.Background()); err != nil {
		b.Fatal(err)
	}
}
