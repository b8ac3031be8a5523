// Package testdb gives each test a fresh, migrated database: an in-memory
// SQLite one always, and a PostgreSQL one (created for the test and dropped
// after it) when a server answers at CASEGRAPH_TEST_POSTGRES_URL (default:
// the local one). Without a server, PostgreSQL tests skip, saying so, unless
// CASEGRAPH_REQUIRE_POSTGRES=1 (set by CI) makes that a failure.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/migrations"
)

// DefaultPostgresURL is used when CASEGRAPH_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var counter atomic.Int64

// Backends lists the dialects a test can run on.
var Backends = []string{dialect.SQLite, dialect.Postgres}

// Open returns a fresh migrated database of dialectName for tb, closed (and
// for PostgreSQL dropped) at cleanup. SQLite's is in memory, or with
// CASEGRAPH_TEST_SQLITE_FILE=1 a file as the server opens it
// (SQLiteFile): a benchmark in memory measures no sync of a commit
// (docs/performance.md, the cost of synchronous=FULL).
func Open(tb testing.TB, dialectName string) *database.DB {
	tb.Helper()
	if dialectName == dialect.Postgres {
		return Postgres(tb)
	}
	if os.Getenv("CASEGRAPH_TEST_SQLITE_FILE") == "1" {
		return SQLiteFile(tb)
	}
	return SQLite(tb)
}

// SQLite returns a fresh migrated in-memory SQLite database.
func SQLite(tb testing.TB) *database.DB {
	tb.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("casegraph-test-%d-%d", os.Getpid(), counter.Add(1))
	db, err := database.OpenSQLiteMemory(ctx, name)
	if err != nil {
		tb.Fatalf("opening sqlite: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	migrate(tb, db)
	return db
}

// SQLiteFile returns a fresh migrated SQLite file database in a temp dir
// (for tests that need several connections writing at once).
func SQLiteFile(tb testing.TB) *database.DB {
	tb.Helper()
	db, err := database.OpenSQLite(context.Background(), tb.TempDir()+"/test.db")
	if err != nil {
		tb.Fatalf("opening sqlite file: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	migrate(tb, db)
	return db
}

var (
	pgOnce sync.Once
	pgErr  error
)

// PostgresURL returns the admin URL of the test server, or skips tb (fails
// it when PostgreSQL is required) when no server answers.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("CASEGRAPH_TEST_POSTGRES_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	pgOnce.Do(func() {
		db, err := sql.Open("postgres", base)
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	if pgErr != nil {
		PostgresUnusable(tb, "no server answers at %s (%v); set CASEGRAPH_TEST_POSTGRES_URL", redact(base), pgErr)
	}
	return base
}

// PostgresUnusable ends a PostgreSQL test that cannot run here (why says
// what is missing): it skips, saying so, or fails when PostgreSQL is
// required (CASEGRAPH_REQUIRE_POSTGRES=1, as in CI), so that CI never
// passes a test it did not run.
func PostgresUnusable(tb testing.TB, why string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(why, args...)
	if os.Getenv("CASEGRAPH_REQUIRE_POSTGRES") == "1" {
		tb.Fatalf("PostgreSQL is required (CASEGRAPH_REQUIRE_POSTGRES=1) but this test cannot run: %s", msg)
	}
	tb.Skipf("skipping PostgreSQL test: %s; set CASEGRAPH_REQUIRE_POSTGRES=1 to fail instead", msg)
}

// CreatePostgres creates an empty PostgreSQL database for tb, dropped at
// cleanup, and returns its URL.
func CreatePostgres(tb testing.TB) string {
	tb.Helper()
	base := PostgresURL(tb)
	admin, err := sql.Open("postgres", base)
	if err != nil {
		tb.Fatal(err)
	}
	name := fmt.Sprintf("casegraph_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000, counter.Add(1))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		_ = admin.Close()
		tb.Fatalf("creating test database: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Postgres returns a fresh migrated PostgreSQL database.
func Postgres(tb testing.TB) *database.DB {
	tb.Helper()
	dbURL := CreatePostgres(tb)
	db, err := database.OpenPostgres(context.Background(), dbURL)
	if err != nil {
		tb.Fatalf("opening test database: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	migrate(tb, db)
	return db
}

func migrate(tb testing.TB, db *database.DB) {
	tb.Helper()
	if _, err := migrations.Apply(context.Background(), db.SQL, db.Dialect); err != nil {
		tb.Fatalf("migrating %s: %v", db.Dialect, err)
	}
}

// Each runs f as a subtest on every backend.
func Each(t *testing.T, f func(t *testing.T, db *database.DB)) {
	t.Helper()
	for _, d := range Backends {
		t.Run(d, func(t *testing.T) {
			f(t, Open(t, d))
		})
	}
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "the configured URL"
	}
	if p.User != nil {
		p.User = url.User(p.User.Username())
	}
	return strings.TrimSpace(p.String())
}
