package statistics

import (
	"context"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestMonthOfIsDomains: the month the statements count a time in
// (monthOf: PostgreSQL's zone database, SQLite's call of Go) is
// domain.MonthInTirana's, the one definition, for the second before and
// the second at which every month from 1900 (the earliest time a record
// may name) to 2100 begins in Tirana, across Albania's changes of rule
// (its local mean time until 1914, the summer times before 1985), and
// whatever zone a time was stored in (SQLite keeps its offset and name).
func TestMonthOfIsDomains(t *testing.T) {
	zones := []*time.Location{time.UTC, domain.Tirana, time.FixedZone("", -5*3600), time.FixedZone("", 3600)}
	var instants []time.Time
	for y := 1900; y <= 2100; y++ {
		for m := time.January; m <= time.December; m++ {
			start := time.Date(y, m, 1, 0, 0, 0, 0, domain.Tirana)
			for _, at := range []time.Time{start.Add(-time.Second), start} {
				instants = append(instants, at.In(zones[len(instants)%len(zones)]))
			}
		}
	}
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		column := "at TIMESTAMPTZ"
		if db.Dialect != dialect.Postgres {
			column = "at DATETIME"
		}
		if _, err := db.SQL.ExecContext(ctx, "CREATE TABLE instants (id INTEGER, "+column+")"); err != nil {
			t.Fatal(err)
		}
		for from := 0; from < len(instants); from += 1000 {
			insert := sql.Dialect(db.Dialect).Insert("instants").Columns("id", "at")
			for i := from; i < min(from+1000, len(instants)); i++ {
				insert.Values(i, instants[i])
			}
			query, args := insert.Query()
			if _, err := db.SQL.ExecContext(ctx, query, args...); err != nil {
				t.Fatal(err)
			}
		}
		s := sql.Dialect(db.Dialect).Select().From(sql.Table("instants"))
		s.Select(s.C("id"), sql.As(monthOf(s, s.C("at")).text, "month"))
		query, args := s.Query()
		rows, err := db.SQL.QueryContext(ctx, query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rows.Close() }()
		seen := 0
		for rows.Next() {
			var id int
			var month string
			if err := rows.Scan(&id, &month); err != nil {
				t.Fatal(err)
			}
			seen++
			if want := domain.MonthInTirana(instants[id]); month != want {
				t.Errorf("%s (%s): the statements' month %s, domain's %s", instants[id], instants[id].UTC().Format(time.RFC3339), month, want)
			}
		}
		if err := rows.Err(); err != nil || seen != len(instants) {
			t.Fatalf("%d of %d instants read: %v", seen, len(instants), err)
		}
	})
}
