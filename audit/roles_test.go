package audit_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// serverRole sets PostgreSQL up as README.md advises: the owner migrates,
// the server's role (extra grants it more, "GRANT … TO" completed with the
// role's name) may only SELECT and INSERT the trail.
func serverRole(t *testing.T, extra ...string) (owner, app *database.DB, appURL string) {
	t.Helper()
	owner = testdb.Postgres(t)
	ctx := context.Background()
	role := fmt.Sprintf("casegraph_app_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN PASSWORD 'app-secret'",
		"GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT, INSERT ON audit_events, audit_event_records TO " + role,
	} {
		mustExec(t, owner, q)
	}
	for _, q := range extra {
		mustExec(t, owner, q+" "+role)
	}
	t.Cleanup(func() {
		_, _ = owner.SQL.Exec("DROP OWNED BY " + role)
		_, _ = owner.SQL.Exec("REVOKE ALL ON audit_events, audit_event_records FROM " + role)
		_, _ = owner.SQL.Exec("REVOKE ALL ON SCHEMA public FROM " + role)
		_, _ = owner.SQL.Exec("DROP ROLE IF EXISTS " + role)
	})
	var dbName string
	if err := owner.SQL.QueryRowContext(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, "app-secret")
	u.Path = "/" + dbName
	app, err = database.OpenPostgres(ctx, u.String())
	if err != nil {
		// pg_hba.conf decides whether a password login works; CI's trusts
		// local connections, so there it must.
		testdb.PostgresUnusable(t, "cannot log in as the role %s the test created (%v): allow password or trust logins on 127.0.0.1 in pg_hba.conf", role, err)
	}
	t.Cleanup(func() { _ = app.Close() })
	return owner, app, u.String()
}

// TestServerRoleCannotGetRoundTheTrail sets up PostgreSQL as README.md
// advises: the migrations run as the table's owner, the server as a role
// granted only SELECT and INSERT on the trail and its records. That role
// writes events, cannot alter, delete or truncate them or their records,
// and cannot disable the triggers either; RoleOwnsTrail tells the two apart (serve warns on the owner).
func TestServerRoleCannotGetRoundTheTrail(t *testing.T) {
	ctx := context.Background()
	owner, app, _ := serverRole(t)
	if owns, err := audit.RoleOwnsTrail(ctx, owner.SQL); err != nil || !owns {
		t.Fatalf("the migrating role owns the trail: %v %v", owns, err)
	}

	if owns, err := audit.RoleOwnsTrail(ctx, app.SQL); err != nil || owns {
		t.Fatalf("the server's role does not own the trail: %v %v", owns, err)
	}
	// The fourth event is about several records (sampleEvents).
	write(t, audit.NewWriter(app.Client, app.Dialect), sampleEvents(4, time.Now()))
	for _, q := range []string{
		"UPDATE audit_events SET reason = 'nothing happened' WHERE id = 2",
		"DELETE FROM audit_events WHERE id = 2",
		"TRUNCATE audit_events",
		"ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
		"DROP TRIGGER audit_events_no_change ON audit_events",
		"UPDATE audit_event_records SET entity_id = 1 WHERE event_id = 4",
		"DELETE FROM audit_event_records WHERE event_id = 4",
		"TRUNCATE audit_event_records",
		"ALTER TABLE audit_event_records DISABLE TRIGGER audit_event_records_no_change",
		"DROP TRIGGER audit_event_records_no_change ON audit_event_records",
		// A record added to an event written before (its digest broken
		// for good, a hunt over HTTP), or to the next event's number (the
		// writer's next batch refused): records come with their event.
		"INSERT INTO audit_event_records VALUES (4, 51539607999, '0123456789abcdef0123456789abcdef')",
		"INSERT INTO audit_event_records VALUES (5, 51539607999, '0123456789abcdef0123456789abcdef')",
		// One event that stopped every later write (the next number
		// overflowing, a time no writer reads back), or dated every later
		// event in its future (a hunt): events follow the chain.
		"INSERT INTO audit_events (id, occurred_at, kind, prev_hash, hash) VALUES (9223372036854775807, now(), 'FIELD_ACCESS', '', '')",
		"INSERT INTO audit_events (id, occurred_at, kind, prev_hash, hash) VALUES (6, now(), 'FIELD_ACCESS', '', '')",
		"INSERT INTO audit_events (id, occurred_at, kind, prev_hash, hash) VALUES (5, 'infinity', 'FIELD_ACCESS', '', '')",
		"INSERT INTO audit_events (id, occurred_at, kind, prev_hash, hash) VALUES (5, '2099-01-01', 'FIELD_ACCESS', '', '')",
		"ALTER TABLE audit_events DISABLE TRIGGER audit_events_follow_the_chain",
	} {
		if err := exec(app, q); err == nil {
			t.Errorf("the server's role could run %q", q)
		}
	}
	if v := verify(t, owner); !v.Valid || v.Checked != 4 {
		t.Errorf("the trail: %+v", v)
	}
	// The writer, adding events with their records, still may.
	write(t, audit.NewWriter(app.Client, app.Dialect), sampleEvents(4, time.Now()))
	if v := verify(t, owner); !v.Valid || v.Checked != 8 {
		t.Errorf("the trail after the writer's second batch: %+v", v)
	}
}

// TestFieldFilterIndexed: on PostgreSQL the DPO's filter by field read
// can use an index (the names of the list, as an array), and by type of
// record too: each was a scan of the whole trail, 0.27 s a statement on a
// million events (a hunt). The field's is the statement the trail's
// queries send (audit.fieldRead, a newest-first page), so that a change
// of its expression that the index no longer matches fails here (a
// review: a hand-written copy could not). Sequential and plain index scans
// are switched off so that the plan says whether a bitmap of the index
// serves, whatever the table's size; which the planner picks for real is
// its choice (docs/audit.md).
func TestFieldFilterIndexed(t *testing.T) {
	db := testdb.Postgres(t)
	write(t, audit.NewWriter(db.Client, db.Dialect), sampleEvents(8, time.Now()))
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, off := range []string{"SET enable_seqscan = off", "SET enable_indexscan = off"} {
		if _, err := conn.ExecContext(ctx, off); err != nil {
			t.Fatal(err)
		}
	}
	fieldQuery, fieldArgs := audit.FieldReadQuery(db.Dialect, "Victim.legalName", 21)
	for _, tc := range []struct {
		query, index string
		args         []any
	}{
		{fieldQuery, "audit_events_field_names", fieldArgs},
		{`SELECT "id" FROM "audit_events" WHERE "entity_type" = $1 ORDER BY "id" DESC LIMIT 21`, "auditevent_entity_type_id", []any{"Victim"}},
	} {
		rows, err := conn.QueryContext(ctx, "EXPLAIN "+tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		rows.Close()
		if !strings.Contains(plan.String(), tc.index) {
			t.Errorf("%s: the plan does not use %s:\n%s", tc.query, tc.index, plan.String())
		}
	}
}
