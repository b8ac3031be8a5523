package database_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestIsUnavailable classifies errors the drivers really return when the
// database cannot be used, and errors of statements it refused, which
// must not pass for an outage (they are the client's or a bug).
func TestIsUnavailable(t *testing.T) {
	ctx := context.Background()
	wrap := func(err error) error { return fmt.Errorf("ent: querying cases: %w", err) }

	unavailable := map[string]error{
		"bad connection":          driver.ErrBadConn,
		"wrapped bad connection":  wrap(driver.ErrBadConn),
		"connection done":         sql.ErrConnDone,
		"EOF":                     wrap(io.EOF),
		"unexpected EOF":          io.ErrUnexpectedEOF,
		"postgres 08006":          &pq.Error{Code: "08006", Severity: "FATAL"},
		"postgres 08001":          wrap(&pq.Error{Code: "08001", Severity: "ERROR"}),
		"postgres admin shutdown": &pq.Error{Code: "57P01", Severity: "FATAL"},
		"postgres crash shutdown": &pq.Error{Code: "57P02", Severity: "FATAL"},
		"postgres starting up":    &pq.Error{Code: "57P03", Severity: "FATAL"},
		"postgres too many conns": &pq.Error{Code: "53300", Severity: "FATAL"},
		// The server ended a session idle too long (in a transaction, or
		// out of one) or a transaction past transaction_timeout.
		"postgres idle session":        &pq.Error{Code: "57P05", Severity: "FATAL"},
		"postgres idle in transaction": &pq.Error{Code: "25P03", Severity: "FATAL"},
		"postgres transaction timeout": &pq.Error{Code: "25P04", Severity: "FATAL"},
	}
	// A port nothing listens on: the dial is refused.
	refused, err := sql.Open("postgres", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	unavailable["connection refused"] = wrap(refused.PingContext(ctx))
	_ = refused.Close()
	unavailable["postgres not accepting connections"] = notAcceptingConnections(t)
	// A pool closed under a request.
	closed := testdb.SQLite(t)
	_ = closed.SQL.Close()
	_, unavailable["database closed"] = closed.SQL.ExecContext(ctx, "SELECT 1")
	unavailable["sqlite busy"] = sqliteBusy(t)

	for name, err := range unavailable {
		if err == nil {
			t.Errorf("%s: no error to classify", name)
			continue
		}
		if !database.IsUnavailable(err) {
			t.Errorf("%s: IsUnavailable(%v) = false, want true", name, err)
		}
	}

	db := testdb.SQLite(t)
	_, syntax := db.SQL.ExecContext(ctx, "SELEKT 1")
	refusedStatements := map[string]error{
		"nil":                nil,
		"syntax error":       syntax,
		"no rows":            sql.ErrNoRows,
		"unique violation":   &pq.Error{Code: "23505", Severity: "ERROR"},
		"serialization":      &pq.Error{Code: "40001", Severity: "ERROR"},
		"statement canceled": &pq.Error{Code: "57014", Severity: "ERROR"},
		// 55000 of a statement (currval before nextval, say) is the
		// statement's fault, not the database's.
		"object not in prerequisite state": &pq.Error{Code: "55000", Severity: "ERROR", Routine: "currval_oid"},
		"empty sqlstate":                   &pq.Error{},
		"cancelled request":                wrap(context.Canceled),
		"request deadline":                 wrap(context.DeadlineExceeded),
		"plain error":                      errors.New("something else"),
	}
	for name, err := range refusedStatements {
		if database.IsUnavailable(err) {
			t.Errorf("%s: IsUnavailable(%v) = true, want false", name, err)
		}
	}
}

// notAcceptingConnections returns what a new connection to a PostgreSQL
// database is told when an operator stopped its connections (ALTER
// DATABASE … ALLOW_CONNECTIONS false, as before maintenance): reads
// answered INTERNAL while mutations answered UNAVAILABLE (a new user's
// report, 2026-12-06).
func notAcceptingConnections(t *testing.T) error {
	t.Helper()
	dsn := testdb.CreatePostgres(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("postgres", testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := strings.TrimPrefix(u.Path, "/")
	if _, err := admin.Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	closed, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer closed.Close()
	return closed.PingContext(context.Background())
}

// sqliteBusy returns the error of a write to a SQLite file that another
// connection holds locked beyond the writer's busy timeout.
func sqliteBusy(t *testing.T) error {
	t.Helper()
	ctx := context.Background()
	dsn := "file:" + filepath.Join(t.TempDir(), "busy.db") + "?_pragma=busy_timeout(50)&_pragma=journal_mode(WAL)"
	holder, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")
	other, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = other.ExecContext(wctx, "INSERT INTO t VALUES (1)")
	return err
}

// TestIsCollision: the error PostgreSQL really returns to the transaction
// it aborts to break a deadlock is a collision (the request may be sent
// again), and neither an outage nor a refused statement is one.
func TestIsCollision(t *testing.T) {
	db := testdb.Postgres(t)
	ctx := context.Background()
	if _, err := db.SQL.ExecContext(ctx, `CREATE TABLE collide (id int PRIMARY KEY, n int); INSERT INTO collide VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	deadlock := deadlockLoser(t, db.SQL)
	if !database.IsCollision(deadlock) {
		t.Errorf("IsCollision(%v) = false for a real deadlock, want true", deadlock)
	}
	if !database.IsCollision(fmt.Errorf("ent: updating case: %w", &pq.Error{Code: "40001", Severity: "ERROR"})) {
		t.Error("IsCollision(wrapped serialization failure) = false, want true")
	}
	_, unique := db.SQL.ExecContext(ctx, `INSERT INTO collide VALUES (1, 0)`)
	for name, err := range map[string]error{
		"nil": nil, "unique violation": unique, "bad connection": driver.ErrBadConn,
		"postgres shutdown": &pq.Error{Code: "57P01", Severity: "FATAL"}, "sqlite busy": sqliteBusy(t),
	} {
		if database.IsCollision(err) {
			t.Errorf("%s: IsCollision(%v) = true, want false", name, err)
		}
	}
}

// deadlockLoser makes two transactions take rows 1 and 2 of collide in
// opposite orders and returns the error of the one PostgreSQL aborts.
func deadlockLoser(t *testing.T, pool *sql.DB) error {
	t.Helper()
	ctx := context.Background()
	first, err := pool.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback() //nolint:errcheck // ends whichever is still open
	second, err := pool.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Rollback() //nolint:errcheck
	take := func(tx *sql.Tx, id int) error {
		_, err := tx.ExecContext(ctx, `UPDATE collide SET n = n + 1 WHERE id = $1`, id)
		return err
	}
	if err := take(first, 1); err != nil {
		t.Fatal(err)
	}
	if err := take(second, 2); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() { waiting <- take(first, 2) }() // waits for second
	time.Sleep(100 * time.Millisecond)
	errSecond := take(second, 1) // closes the circle: one of the two is aborted
	if errSecond != nil {
		_ = second.Rollback()
		if err := <-waiting; err != nil {
			t.Fatalf("both transactions failed: %v; %v", errSecond, err)
		}
		return errSecond
	}
	errFirst := <-waiting
	if errFirst == nil {
		t.Fatal("no deadlock detected")
	}
	return errFirst
}
