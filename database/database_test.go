package database_test

import (
	"context"
	"testing"

	"github.com/casegraph/casegraph/internal/testdb"
)

// TestPostgresSessionsRunWithoutJIT: JIT compilation cost ~150 ms on every
// scoped query whose estimated cost passed jit_above_cost; sessions opened
// by OpenPostgres turn it off.
func TestPostgresSessionsRunWithoutJIT(t *testing.T) {
	db := testdb.Postgres(t)
	var jit string
	if err := db.SQL.QueryRowContext(context.Background(), "SHOW jit").Scan(&jit); err != nil {
		t.Fatal(err)
	}
	if jit != "off" {
		t.Fatalf("jit = %q in a CaseGraph session, want off", jit)
	}
}

// TestSQLiteCommitsAreSynced: docs/audit.md promises that a request's
// events are durable before its answer leaves. In WAL mode with
// synchronous=NORMAL, SQLite syncs the log only at checkpoints, so a commit
// Write reported may roll back after a power cut or an operating system
// crash, and since the lost events are the chain's tail verify says OK (a
// hunt). FULL syncs the log at every commit.
func TestSQLiteCommitsAreSynced(t *testing.T) {
	db := testdb.SQLiteFile(t)
	ctx := context.Background()
	var journal string
	var synchronous int
	if err := db.SQL.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&synchronous); err != nil {
		t.Fatal(err)
	}
	if synchronous < 2 { // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
		t.Errorf("synchronous = %d in %s mode, want FULL (2): a commit may be lost to a power cut", synchronous, journal)
	}
}

// TestAnalyzeMarksABulkLoadVisible: after a bulk load, Analyze leaves
// PostgreSQL's visibility map set (pg_class.relallvisible), so that the
// first requests read as later ones do: index-only scans that do not read
// the table's rows, no hint bits left to set. ANALYZE alone left it at 0.
func TestAnalyzeMarksABulkLoadVisible(t *testing.T) {
	db := testdb.Postgres(t)
	ctx := context.Background()
	for _, stmt := range []string{
		"CREATE TABLE bulk (id bigint PRIMARY KEY, note text)",
		"INSERT INTO bulk SELECT n, 'row ' || n FROM generate_series(1, 20000) AS n",
	} {
		if _, err := db.SQL.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := db.Analyze(ctx); err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	var visible, pages int
	if err := db.SQL.QueryRowContext(ctx, "SELECT relallvisible, relpages FROM pg_class WHERE relname = 'bulk'").Scan(&visible, &pages); err != nil {
		t.Fatal(err)
	}
	if pages == 0 || visible < pages {
		t.Errorf("after Analyze %d of the bulk load's %d pages are marked all-visible, want all", visible, pages)
	}
}
