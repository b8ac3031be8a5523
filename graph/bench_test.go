package graph_test

import (
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// BenchmarkNestedCasesPage measures a dashboard's page of 50 cases with
// their victims (identity fields included), prosecutions, charges,
// decisions and agencies, over real HTTP, on demo data at scale 10 (about
// 2,700 cases and 6,000 victims).
func BenchmarkNestedCasesPage(b *testing.B) {
	testdb.EachDemo(b, 10, func(b *testing.B, db *database.DB) {
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
