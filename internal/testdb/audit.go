package testdb

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
)

// AuditTrail returns every audit event of db, in chain order: the trail as
// the DPO would read it, for tests that check what was recorded.
func AuditTrail(tb testing.TB, db *database.DB) []audit.Event {
	tb.Helper()
	events, err := audit.Query(context.Background(), db.Client, audit.Scope{All: true}, audit.Filter{}, false, 0)
	if err != nil {
		tb.Fatalf("reading the trail: %v", err)
	}
	return events
}

// AuditBreakage returns the statements that make every insert into the
// audit trail fail, as a full disk or a broken audit storage would, on a
// database of dialectName, and those that undo them.
func AuditBreakage(dialectName string) (stmts, undo []string) {
	if dialectName == dialect.Postgres {
		return []string{
				`CREATE FUNCTION audit_broken() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit storage failed'; END; $$`,
				`CREATE TRIGGER audit_broken BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_broken()`,
			},
			[]string{`DROP TRIGGER audit_broken ON audit_events`, `DROP FUNCTION audit_broken()`}
	}
	return []string{`CREATE TRIGGER audit_broken BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit storage failed'); END`},
		[]string{`DROP TRIGGER audit_broken`}
}
