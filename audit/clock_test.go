package audit_test

// The trail against the server's own role and against clocks that are set
// back or run slow (a review of 2026-12-06's changes to the trail).

import (
	"bytes"
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestServerRoleCannotShadowTheChainsEnd: the trigger
// audit_events_follow_the_chain reads "audit_events" unqualified, with the
// session's search_path, where a temporary table comes first (and every
// role may create temporary tables: PostgreSQL grants TEMPORARY to PUBLIC).
// The server's role makes a temporary audit_events holding the numbers it
// wants the chain's end to be, and inserted into public.audit_events past
// the trigger: an event numbered 9223372036854775807 stopped every later
// write for good, one numbered 1000 after event 3 made verify report events
// 4 to 999 deleted. The trigger's search_path is pinned since.
func TestServerRoleCannotShadowTheChainsEnd(t *testing.T) {
	for _, c := range []struct {
		name   string
		shadow []int64
		forged int64
	}{
		{"numbered the largest", []int64{9223372036854775806, 9223372036854775807}, 9223372036854775807},
		{"numbered past a gap", []int64{999, 1000}, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			_, app, appURL := serverRole(t)
			w := audit.NewWriter(app.Client, app.Dialect)
			write(t, w, sampleEvents(3, time.Now()))

			conn := forgerSession(t, appURL,
				"CREATE TEMP TABLE audit_events (id bigint)",
				fmt.Sprintf("INSERT INTO audit_events VALUES (%d), (%d)", c.shadow[0], c.shadow[1]))
			_, forgeErr := conn.ExecContext(ctx, `INSERT INTO public.audit_events (id, occurred_at, kind, prev_hash, hash)
				VALUES ($1, now(), 'FIELD_ACCESS', '', '')`, c.forged)
			if _, err := conn.ExecContext(ctx, "DROP TABLE pg_temp.audit_events"); err != nil {
				t.Fatal(err)
			}
			_ = conn.Close()
			if forgeErr == nil {
				t.Errorf("the server's role appended event %d after event 3, round audit_events_follow_the_chain, with a temporary table named audit_events", c.forged)
			}
			err := w.Write(ctx, sampleEvents(1, time.Now()))
			var ae *apperr.Error
			if errors.As(err, &ae) {
				t.Errorf("after the forged event the trail can no longer be written: %v", err)
			} else if err != nil {
				t.Fatal(err)
			}
			if v := verify(t, app); !v.Valid {
				t.Errorf("verify: %d breaks, first at %d: %s", v.BreakCount, v.BrokenAt, v.Problem)
			}
		})
	}
}

// shiftedClock returns a migrated PostgreSQL database whose sessions
// read clock_timestamp() through fakeclock.clock_timestamp() (first on the
// database's search_path): the database host's clock, which shift moves
// (test scaffolding standing for the host's real clock being stepped).
func shiftedClock(t *testing.T) (*database.DB, func(time.Duration)) {
	t.Helper()
	ctx := context.Background()
	dsn := testdb.CreatePostgres(t)
	setup := openPool(t, database.OpenPostgres, dsn)
	migrate(t, setup)
	var dbName string
	if err := setup.SQL.QueryRowContext(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE SCHEMA fakeclock",
		"CREATE TABLE fakeclock.shift (d interval NOT NULL)",
		"INSERT INTO fakeclock.shift VALUES ('0')",
		`CREATE FUNCTION fakeclock.clock_timestamp() RETURNS timestamptz LANGUAGE sql VOLATILE
			AS 'SELECT pg_catalog.clock_timestamp() + (SELECT d FROM fakeclock.shift)'`,
		`ALTER DATABASE ` + dbName + ` SET search_path = fakeclock, pg_catalog, "$user", public`,
	} {
		mustExec(t, setup, q)
	}
	_ = setup.Close()
	db := openPool(t, database.OpenPostgres, dsn)
	shift := func(d time.Duration) {
		t.Helper()
		mustExec(t, db, fmt.Sprintf("UPDATE fakeclock.shift SET d = '%d microseconds'", d.Microseconds()))
		var off float64
		if err := db.SQL.QueryRowContext(ctx, "SELECT extract(epoch FROM clock_timestamp() - pg_catalog.clock_timestamp())").Scan(&off); err != nil {
			t.Fatal(err)
		}
		if diff := time.Duration(off*float64(time.Second)) - d; diff > time.Second || diff < -time.Second {
			t.Fatalf("the database's clock is shifted %v, want %v", time.Duration(off*float64(time.Second)), d)
		}
	}
	return db, shift
}

// TestClockSetBackLeavesTheChainValid: the database host's clock,
// which every writer dates events by, is set back five minutes (time
// synchronisation correcting a drift, a failover to a standby whose clock
// is behind, a virtual machine restored). Every event is written by the
// writers; none by hand. Before 4cb96d7 the writers dated the events after
// the step no earlier than the last one, and verify said valid. Now the
// writer dates them "now", before the last one (writer.go: notBefore =
// now), so verify reports the events before the step DATED_IN_FUTURE for
// five minutes, and the first event after it DATED_BEFORE_PREVIOUS for
// good, "added by hand" both (a review). audit.ClockSkew is a day since.
func TestClockSetBackLeavesTheChainValid(t *testing.T) {
	db, shift := shiftedClock(t)
	w := audit.NewWriter(db.Client, db.Dialect)
	write(t, w, sampleEvents(3, time.Now()))
	shift(-5 * time.Minute)
	write(t, w, sampleEvents(3, time.Now()))
	for _, e := range testdb.AuditTrail(t, db) {
		t.Logf("event %d dated %s", e.Seq, e.OccurredAt)
	}
	if v := verify(t, db); !v.Valid || v.BreakCount != 0 {
		t.Errorf("verify right after the clock was set back: %d breaks %v; want none, every event was written by the writers", v.BreakCount, places(v.Breaks))
	}
	shift(0) // five minutes later: the clock has caught up
	if v := verify(t, db); !v.Valid || v.BreakCount != 0 {
		t.Errorf("verify once the clock caught up: %d breaks %v; want none, every event was written by the writers", v.BreakCount, places(v.Breaks))
	}
}

// TestExportVerifiesOnASlowerClock: an export is checked on another
// machine (the DPO's, the Commissioner's) whose clock is three minutes
// behind the servers' and the database's. Every event is genuine; the live
// verify, against the database's clock, says valid. VerifyExport compares
// each event with the checking machine's clock plus a minute (newWalk) and
// reported every event of the export's last two minutes DATED_IN_FUTURE,
// "added by hand" (a review); it allows a day since.
func TestExportVerifiesOnASlowerClock(t *testing.T) {
	db, shift := shiftedClock(t)
	shift(3 * time.Minute)
	w := audit.NewWriter(db.Client, db.Dialect)
	write(t, w, sampleEvents(4, time.Now().Add(3*time.Minute)))
	if v := verify(t, db); !v.Valid {
		t.Fatalf("the live verify: %+v", v)
	}
	var buf bytes.Buffer
	if _, err := audit.Export(context.Background(), db.Client, time.Time{}, audit.FormatJSONL, &buf); err != nil {
		t.Fatal(err)
	}
	v, err := audit.VerifyExport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid || v.BreakCount != 0 {
		t.Errorf("VerifyExport of a genuine export on a machine three minutes slow: %d breaks %v; want none", v.BreakCount, places(v.Breaks))
	}
}

// TestServerRoleCannotShadowTheClock: where the server's role may create
// in the schema public (PostgreSQL 14 and before granted CREATE on it to
// PUBLIC, and a cluster upgraded from one keeps that grant), it puts
// public first on its search_path with its own isfinite() and
// clock_timestamp(): the trigger, which names them unqualified, takes an
// event dated 'infinity', which no writer can read back, and every later
// write failed (a review). The trigger's search_path is pinned since,
// pg_catalog first.
func TestServerRoleCannotShadowTheClock(t *testing.T) {
	ctx := context.Background()
	_, app, appURL := serverRole(t, "GRANT CREATE ON SCHEMA public TO")
	w := audit.NewWriter(app.Client, app.Dialect)
	write(t, w, sampleEvents(3, time.Now()))
	conn := forgerSession(t, appURL,
		"CREATE FUNCTION public.isfinite(timestamptz) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
		"CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE sql AS $$SELECT 'infinity'::timestamptz$$",
		"SET search_path = public, pg_catalog")
	_, forgeErr := conn.ExecContext(ctx, `INSERT INTO audit_events (id, occurred_at, kind, prev_hash, hash) VALUES (4, 'infinity', 'FIELD_ACCESS', '', '')`)
	_ = conn.Close()
	t.Logf("forging: %v", forgeErr)
	if forgeErr == nil {
		t.Errorf("the server's role appended an event dated infinity, round audit_events_follow_the_chain, with its own isfinite() and clock_timestamp()")
	}
	if err := w.Write(ctx, sampleEvents(1, time.Now())); err != nil {
		t.Errorf("after the forged event the trail can no longer be written: %v", err)
	}
}

// forgerSession opens a session of its own at url (the server's role, as a
// forger's would be) and runs statements in it first.
func forgerSession(t *testing.T, url string, statements ...string) *stdsql.Conn {
	t.Helper()
	forger := openPool(t, database.OpenPostgres, url)
	conn, err := forger.SQL.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range statements {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("the server's role: %s: %v", q, err)
		}
	}
	return conn
}
