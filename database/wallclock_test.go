package database_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

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
