package migrations_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/migrations"
)

// TestWriteByHandStartsAMigrationTheNextDiffTakes: `make migration-by-hand`
// writes one empty migration a dialect, both under the version `make
// migration` would give (after every committed one), with the folders'
// sums rewritten, so that the next `make migration` replays the folder
// (a sum that does not match is refused) and finds nothing to add. A name
// that is not lower snake case, or a file that exists, writes nothing.
func TestWriteByHandStartsAMigrationTheNextDiffTakes(t *testing.T) {
	sqlite, postgres := copyDir(t, dialect.SQLite), copyDir(t, dialect.Postgres)
	committed := map[string][]string{sqlite: sqlFiles(t, sqlite), postgres: sqlFiles(t, postgres)}
	// A clock before the committed versions: the version must still sort last.
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	want, err := migrations.NextVersion(now, sqlite, postgres)
	if err != nil {
		t.Fatal(err)
	}

	for _, bad := range []string{"", "Add_Trigger", "add-trigger", "add__trigger", "_add", "1add", "add trigger", "../add"} {
		if written, err := migrations.WriteByHand(now, bad, sqlite, postgres); err == nil || len(written) != 0 {
			t.Errorf("WriteByHand(%q) = %v, %v; want an error and nothing written", bad, written, err)
		}
	}
	for dir, files := range committed {
		if got := sqlFiles(t, dir); !slices.Equal(got, files) {
			t.Fatalf("a refused name wrote in %s: %v", dir, got)
		}
	}

	written, err := migrations.WriteByHand(now, "add_a_trigger", sqlite, postgres)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{filepath.Join(sqlite, want+"_add_a_trigger.sql"), filepath.Join(postgres, want+"_add_a_trigger.sql")}
	if !slices.Equal(written, wantFiles) {
		t.Fatalf("WriteByHand wrote %v, want %v", written, wantFiles)
	}
	for _, f := range written {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if up, down := strings.Index(string(b), "-- +goose Up\n"), strings.Index(string(b), "-- +goose Down\n"); up < 0 || down < up {
			t.Errorf("%s lacks goose's Up and Down markers in order:\n%s", f, b)
		}
	}
	if again, err := migrations.WriteByHand(now, "add_a_trigger", sqlite, postgres); err != nil || len(again) != 2 || again[0] == written[0] {
		// The same name again takes the next version: nothing is replaced.
		t.Errorf("the same name again: %v, %v; want two new files after %v", again, err, written)
	}

	// The next `make migration` takes both folders and has nothing to add.
	for _, c := range []struct {
		dir  string
		open func(t *testing.T) *database.DB
	}{
		{sqlite, func(t *testing.T) *database.DB {
			db, err := database.OpenSQLiteMemory(context.Background(), "byhand-"+t.Name())
			if err != nil {
				t.Fatal(err)
			}
			return db
		}},
		{postgres, func(t *testing.T) *database.DB {
			db, err := database.OpenPostgres(context.Background(), testdb.CreatePostgres(t))
			if err != nil {
				t.Fatal(err)
			}
			return db
		}},
	} {
		db := c.open(t)
		before := sqlFiles(t, c.dir)
		version, err := migrations.NextVersion(now, c.dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := migrations.Diff(context.Background(), db.Client, db.Dialect, c.dir, version, "after_by_hand"); err != nil {
			t.Errorf("%s: the next diff refused the folder: %v", db.Dialect, err)
		}
		if after := sqlFiles(t, c.dir); !slices.Equal(after, before) {
			t.Errorf("%s: the next diff wrote a migration after an empty one: %v", db.Dialect, after)
		}
		db.Close()
	}
}
