package migrations_test

import (
	"context"
	"database/sql"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/migrate"
	"github.com/casegraph/casegraph/internal/testdb"
)

// idRange is the size of each type's range of global ids (ent's
// gql_node.go: an id's type is its id divided by it).
const idRange = 1 << 32

// TestFirstIDsAreTheRangesFirst: on a database the committed migrations
// made, the next id of every ent table is the first of its type's range
// (ent/migrate's IncrementStart, the one definition of the ranges; the
// first id of the range that starts at 0 is 1), or, for a table the
// migrations fill, its rows start there and the next id follows them
// within the range. Held on each database to the same ranges, SQLite and
// PostgreSQL give a new record the same id: a hand-written migration that
// sets a new table's SQLite sequence to its range's first id (as ent
// writes it, so that AUTOINCREMENT gives one above) fails here.
func TestFirstIDsAreTheRangesFirst(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		checked := 0
		for _, table := range migrate.Tables {
			if len(table.PrimaryKey) != 1 || !table.PrimaryKey[0].Increment {
				continue // an edge schema's table (case_victims): its key is its two ids
			}
			if table.Annotation == nil || table.Annotation.IncrementStart == nil {
				t.Errorf("%s has no range of ids in ent's schema (the globalid feature gives every type one)", table.Name)
				continue
			}
			start := int64(*table.Annotation.IncrementStart)
			first := max(start, 1)
			next, err := nextID(ctx, db, table.Name)
			if err != nil {
				t.Fatalf("%s: reading the next id: %v", table.Name, err)
			}
			var rows, least, most sql.NullInt64
			if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*), MIN(id), MAX(id) FROM `+quote(db.Dialect, table.Name)).Scan(&rows, &least, &most); err != nil {
				t.Fatalf("%s: %v", table.Name, err)
			}
			switch {
			case rows.Int64 == 0 && next != first:
				t.Errorf("%s: the next id on %s is %d, the first of its range is %d (off by %d)", table.Name, db.Dialect, next, first, next-first)
			case rows.Int64 > 0 && (least.Int64 != first || next <= most.Int64 || next >= start+idRange):
				t.Errorf("%s: on %s its %d rows hold ids %d to %d and the next id is %d; its range starts at %d", table.Name, db.Dialect, rows.Int64, least.Int64, most.Int64, next, first)
			}
			checked++
		}
		if checked < 15 {
			t.Errorf("only %d tables checked", checked)
		}
		t.Logf("%s: the next id of %d tables checked against their ranges", db.Dialect, checked)
	})
}

// nextID is the id the table's next row without an id is given: on SQLite
// one above its sqlite_sequence row (AUTOINCREMENT; 1 without a row), on
// PostgreSQL its identity's start, or one increment above the last value
// given.
func nextID(ctx context.Context, db *database.DB, table string) (int64, error) {
	if db.Dialect == dialect.SQLite {
		var seq sql.NullInt64
		err := db.SQL.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?`, table).Scan(&seq)
		if err == sql.ErrNoRows {
			return 1, nil
		}
		return seq.Int64 + 1, err
	}
	var start, increment int64
	var last sql.NullInt64
	err := db.SQL.QueryRowContext(ctx, `SELECT start_value, increment_by, last_value FROM pg_sequences
		WHERE schemaname || '.' || sequencename = pg_get_serial_sequence($1, 'id')`, table).Scan(&start, &increment, &last)
	if !last.Valid {
		return start, err
	}
	return last.Int64 + increment, err
}

func quote(dialectName, name string) string {
	if dialectName == dialect.Postgres {
		return `"` + name + `"`
	}
	return "`" + name + "`"
}
