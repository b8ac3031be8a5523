package main

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/migrations"
)

// commandBackends runs f on every backend, as testdb.Each does, on a
// database the command can open from the environment: an embedded SQLite
// file under CASEGRAPH_DATA_DIR, or PostgreSQL at DATABASE_URL (skipped,
// or failed under CASEGRAPH_REQUIRE_POSTGRES=1, when no server answers).
// The environment is set for f's test (t.Setenv: not parallel).
func commandBackends(t *testing.T, f func(t *testing.T, db *database.DB)) {
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			dataDir := t.TempDir()
			t.Setenv("CASEGRAPH_DATA_DIR", dataDir)
			t.Setenv("CASEGRAPH_DEV", "")
			var db *database.DB
			if backend == dialect.Postgres {
				db = testdb.Postgres(t)
				t.Setenv("DATABASE_URL", db.DSN())
			} else {
				t.Setenv("DATABASE_URL", "")
				var err error
				if db, err = database.Open(context.Background(), "", dataDir); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = db.Close() })
				if _, err := migrations.Apply(context.Background(), db.SQL, db.Dialect); err != nil {
					t.Fatal(err)
				}
			}
			f(t, db)
		})
	}
}

// refuseAuditAppends makes every append to db's audit trail fail (SQLite's
// trigger, as a full disk would) until the test ends: a command whose
// reads cannot be recorded must print nothing of them.
func refuseAuditAppends(t *testing.T, db *database.DB) {
	t.Helper()
	if _, err := db.SQL.Exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.SQL.Exec(`DROP TRIGGER refuse_audit`) })
}
