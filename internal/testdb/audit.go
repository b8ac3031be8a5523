package testdb

import (
	"context"
	"testing"

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
