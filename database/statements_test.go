package database_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/viewer"
)

// TestStatementsSentCountsWhatTheClientSends: every statement the ent
// client sends counts once, inside a transaction or not, raw or built by
// ent, and BEGIN, COMMIT and ROLLBACK count as one each, so that
// casegraph_sql_statements_total divided by requests is the number of
// round trips a request costs.
func TestStatementsSentCountsWhatTheClientSends(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		// The system's context: the row rules allow its queries.
		ctx := viewer.SystemContext(context.Background())
		steps := []struct {
			what string
			want uint64
			run  func() error
		}{
			{"an ent query", 1, func() error { _, err := db.Client.Agency.Query().Count(ctx); return err }},
			{"a raw statement", 1, func() error { _, err := db.Client.ExecContext(ctx, "SELECT 1"); return err }},
			{"a raw query", 1, func() error {
				rows, err := db.Client.QueryContext(ctx, "SELECT 1")
				if err != nil {
					return err
				}
				return rows.Close()
			}},
			{"BEGIN, an ent query, a raw statement, COMMIT", 4, func() error {
				tx, err := db.Client.Tx(ctx)
				if err != nil {
					return err
				}
				if _, err := tx.Agency.Query().All(ctx); err != nil {
					return err
				}
				if _, err := tx.Client().ExecContext(ctx, "SELECT 1"); err != nil {
					return err
				}
				return tx.Commit()
			}},
			{"BEGIN, ROLLBACK", 2, func() error {
				tx, err := db.Client.BeginTx(ctx, nil)
				if err != nil {
					return err
				}
				return tx.Rollback()
			}},
			{"a rows-returning query under a request's share", 1, func() error {
				_, err := db.Client.Agency.Query().IDs(database.WithRequestShare(ctx, 1))
				return err
			}},
		}
		for _, s := range steps {
			before := db.StatementsSent()
			if err := s.run(); err != nil {
				t.Fatalf("%s: %v", s.what, err)
			}
			if got := db.StatementsSent() - before; got != s.want {
				t.Errorf("%s: counted %d statements, want %d", s.what, got, s.want)
			}
		}
	})
}

// TestTimesStoredWithoutMonotonicReading: a time the server writes, with
// the monotonic clock reading time.Now gives it, is stored as the instant
// alone, in a transaction or not, through ent or raw: the SQLite driver
// stored the reading too ("… UTC m=+66.47"), and the time then compared
// unequal to the same instant sent back.
func TestTimesStoredWithoutMonotonicReading(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := db.SQL.ExecContext(ctx, "CREATE TABLE wall_clock (n integer, at timestamp)"); err != nil {
			t.Fatal(err)
		}
		insert := "INSERT INTO wall_clock (n, at) VALUES (?, ?)"
		if db.Dialect == "postgres" {
			insert = "INSERT INTO wall_clock (n, at) VALUES ($1, $2)"
		}
		now := time.Now()
		if _, err := db.Client.ExecContext(ctx, insert, 1, now); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Client().ExecContext(ctx, insert, 2, now); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		rows, err := db.SQL.QueryContext(ctx, "SELECT n, CAST(at AS TEXT) FROM wall_clock ORDER BY n")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var i int
			var text string
			if err := rows.Scan(&i, &text); err != nil {
				t.Fatal(err)
			}
			n++
			if strings.Contains(text, "m=") {
				t.Errorf("row %d stored %q: the monotonic reading with the time", i, text)
			}
		}
		if n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
	})
}
