package authz_test

import (
	"context"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestStartUpChangesTakeThePolicyLock: the changes a server makes to the
// policy as it starts (the default policy into an empty table, here) wait
// for the policy lock like an admin's change, on PostgreSQL, so that the
// history's order is the order in which changes committed, and the
// version a replay reports is the one the change answered
// (authz.VersionAfter).
func TestStartUpChangesTakeThePolicyLock(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	release := holdPolicyLock(t, db)
	started := make(chan error, 1)
	go func() {
		_, err := authz.New(context.Background(), db.Client, db.Dialect, graph.Vocabulary())
		started <- err
	}()
	release(1)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if n := db.Client.PolicyChange.Query().CountX(sys()); n == 0 {
		t.Errorf("the server loaded no default policy")
	}
}

// holdPolicyLock takes, on PostgreSQL, the lock policy changes take
// (authz.PolicyLockKey) and returns release, which waits until n changes
// wait for it and lets them go. On SQLite it takes nothing: write
// transactions are one at a time there, and release returns at once.
func holdPolicyLock(t *testing.T, db *database.DB) (release func(n int)) {
	t.Helper()
	if db.Dialect != dialect.Postgres {
		return func(int) {}
	}
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(authz.PolicyLockKey)); err != nil {
		t.Fatal(err)
	}
	return func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var waiting int
			if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting); err != nil {
				t.Fatal(err)
			}
			if waiting >= n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d changes waiting for the policy lock, want %d", waiting, n)
			}
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", int64(authz.PolicyLockKey)); err != nil {
			t.Fatal(err)
		}
	}
}
