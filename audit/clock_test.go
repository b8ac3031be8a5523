package audit_test

import (
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestClockAheadDoesNotDateTheChain: a server whose clock runs a year
// ahead writes an event, then an honest one writes another. Both are dated
// no later than the clock the writers share (PostgreSQL's, on SQLite this
// server's), so the honest event keeps its own time and time ranges stay
// true; the chain verifies.
func TestClockAheadDoesNotDateTheChain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		w := audit.NewWriter(db.Client, db.Dialect)
		now := time.Now().UTC()
		ahead, honest := sampleEvents(1, now.AddDate(1, 0, 0)), sampleEvents(1, now)
		write(t, w, ahead)
		write(t, w, honest)
		after := time.Now().UTC()
		got := testdb.AuditTrail(t, db)
		if len(got) != 2 {
			t.Fatalf("%d events, want 2", len(got))
		}
		for i, e := range got {
			if e.OccurredAt.After(after) {
				t.Errorf("event %d dated %s, after the write ended (%s): a clock ahead dated the chain", i+1, e.OccurredAt, after)
			}
		}
		if d := got[1].OccurredAt.Sub(now); d < -time.Second || d > time.Second {
			t.Errorf("the honest event is dated %s, want its own time %s", got[1].OccurredAt, now)
		}
		if v := verify(t, db); !v.Valid {
			t.Fatalf("chain: %+v", v)
		}
	})
}
