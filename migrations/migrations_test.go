package migrations_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/migrations"
)

// copyDir copies the committed migrations of a dialect into a temp dir.
func copyDir(t *testing.T, dialectName string) string {
	t.Helper()
	src, err := migrations.FS(dialectName)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	err = fs.WalkDir(src, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func sqlFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkNoDrift replays the committed migrations on an empty database and
// asks ent for the difference to the current schema: there must be none.
// When this fails, run `make migration NAME=…` and commit the result.
func checkNoDrift(t *testing.T, db *database.DB) {
	t.Helper()
	dir := copyDir(t, db.Dialect)
	before := sqlFiles(t, dir)
	if len(before) == 0 {
		t.Fatal("no migrations committed")
	}
	version, err := migrations.NextVersion(time.Now(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.Diff(context.Background(), db.Client, db.Dialect, dir, version, "drift"); err != nil {
		t.Fatalf("diffing: %v", err)
	}
	for _, f := range sqlFiles(t, dir) {
		if !slices.Contains(before, f) {
			b, _ := os.ReadFile(f)
			t.Fatalf("the ent schema differs from the committed %s migrations; run `make migration NAME=…`. Missing:\n%s", db.Dialect, b)
		}
	}
}

func TestMigrationsMatchSchema(t *testing.T) {
	t.Run(dialect.SQLite, func(t *testing.T) {
		db, err := database.OpenSQLiteMemory(context.Background(), "drift-"+t.Name())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		checkNoDrift(t, db)
	})
	t.Run(dialect.Postgres, func(t *testing.T) {
		db, err := database.OpenPostgres(context.Background(), testdb.CreatePostgres(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		checkNoDrift(t, db)
	})
}

// TestApplyIsIdempotent applies the migrations twice: the second time there
// is nothing to do, and nothing is pending.
func TestApplyIsIdempotent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		applied, err := migrations.Apply(ctx, db.SQL, db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second apply applied %v", applied)
		}
		n, err := migrations.Pending(ctx, db.SQL, db.Dialect)
		if err != nil || n != 0 {
			t.Fatalf("pending = %d, %v", n, err)
		}
	})
}

// TestPendingOnEmptyDatabase reports every migration as pending on a new
// database, which is what makes `casegraph serve` refuse an unmigrated
// PostgreSQL.
func TestPendingOnEmptyDatabase(t *testing.T) {
	db, err := database.OpenSQLiteMemory(context.Background(), "pending-"+t.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := migrations.Pending(context.Background(), db.SQL, db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := migrations.FS(db.Dialect)
	files, _ := fs.Glob(src, "*.sql")
	if want := len(files) + 2; n != want || len(files) == 0 { // and the Go ones, ConsentAgesVersion and ConsentAgesOnTiranasCalendarVersion
		t.Fatalf("pending = %d, want %d", n, want)
	}
}
