// Package database opens CaseGraph's database: the embedded SQLite file by
// default, PostgreSQL (through lib/pq, imported here and nowhere else) when
// DATABASE_URL names one.
package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	// PostgreSQL driver, registered as "postgres".
	_ "github.com/lib/pq"
	// The ent runtime: hooks, defaults and, above all, the privacy policies
	// that limit rows. Every client is built here, so none goes without.
	_ "github.com/casegraph/casegraph/ent/runtime"
	// Pure-Go SQLite driver, registered as "sqlite".
	"modernc.org/sqlite"

	"github.com/casegraph/casegraph/ent"
)

// DefaultFile is the embedded database's file name inside the data directory.
const DefaultFile = "casegraph.db"

// DB is an open database: the ent client over it and the raw connection pool
// (for migrations, health checks and the few statements ent cannot express).
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
	// Location names the database for logs without credentials: a file path
	// or host/database.
	Location string
	// dsn is how it was opened (PostgreSQL's URL); never logged.
	dsn string
	// statements counts what Client sends (statements.go).
	statements *atomic.Uint64
	// prepared are Client's statements prepared once (prepared.go).
	prepared *preparedStatements
}

// DSN returns the data source the database was opened with (for a second
// connection such as a notification listener). It may hold credentials:
// never log it.
func (db *DB) DSN() string { return db.dsn }

// Open opens the database that databaseURL names. An empty URL means the
// embedded SQLite file DefaultFile under dataDir, created if missing; a
// postgres:// or postgresql:// URL means PostgreSQL. It does not migrate.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	switch {
	case databaseURL == "":
		return OpenSQLite(ctx, filepath.Join(dataDir, DefaultFile))
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return OpenPostgres(ctx, databaseURL)
	default:
		return nil, fmt.Errorf("DATABASE_URL must be empty (embedded SQLite) or a postgres:// URL")
	}
}

// sqliteTextRules make SQLite compare text as PostgreSQL does (the same
// filter must select the same rows on both): LIKE minds case, as
// PostgreSQL's does, where SQLite's ignored ASCII case, so
// referenceContains: "h2-a_b" found H2-A_B on SQLite alone (a hunt over
// HTTP). The case-folding filters (…EqualFold, …ContainsFold) are
// lower(column) against the value lowered in Go on SQLite, and ILIKE on
// PostgreSQL; SQLite's own lower() folds ASCII only, so lower is
// redefined (unicodeLower, below) to fold as Go does.
const sqliteTextRules = "_pragma=case_sensitive_like(1)"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction("lower", 1, unicodeLower)
}

// unicodeLower is SQLite's lower() folding every letter, not only ASCII
// ones: lower('H2-ËLBA') is 'h2-ëlba', as strings.ToLower makes the value
// compared with it.
func unicodeLower(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	switch v := args[0].(type) {
	case string:
		return strings.ToLower(v), nil
	case []byte:
		return strings.ToLower(string(v)), nil
	}
	return args[0], nil // NULL and numbers, as SQLite's lower() leaves them
}

// OpenSQLite opens (creating it and its directory if needed) the SQLite file
// at path. Foreign keys are on (ent's migrations need them), the journal is
// in WAL mode so readers do not block the writer, and a writer waits for a
// busy lock instead of failing at once. Every commit is synced
// (synchronous=FULL): with NORMAL, WAL is synced only at checkpoints, so a
// commit of the audit trail, whose read was already answered, could be lost
// to a power cut (docs/audit.md: durable before the answer; the cost is in
// docs/performance.md).
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&" + sqliteTextRules + "&_txlock=immediate"
	return open(ctx, "sqlite", dialect.SQLite, dsn, path)
}

// OpenSQLiteMemory opens a private in-memory SQLite database named name; it
// lives as long as one of its connections does.
func OpenSQLiteMemory(ctx context.Context, name string) (*DB, error) {
	dsn := "file:" + url.PathEscape(name) + "?mode=memory&cache=shared&_pragma=foreign_keys(1)&" + sqliteTextRules + "&_txlock=immediate"
	return open(ctx, "sqlite", dialect.SQLite, dsn, "memory:"+name)
}

// OpenPostgres opens the PostgreSQL database that databaseURL names.
//
// Unless the URL says otherwise, it turns PostgreSQL's JIT compilation off
// for its sessions: CaseGraph's queries are short, and the row-scope
// predicates inflate the planner's cost estimates past jit_above_cost, so
// JIT spent ~150 ms compiling for a query that runs in 1 ms.
func OpenPostgres(ctx context.Context, databaseURL string) (*DB, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL is not a valid URL")
	}
	q := u.Query()
	if q.Get("jit") == "" {
		q.Set("jit", "off")
		u.RawQuery = q.Encode()
	}
	return open(ctx, "postgres", dialect.Postgres, u.String(), u.Host+u.Path)
}

func open(ctx context.Context, driver, dialectName, dsn, location string) (*DB, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s database: %w", dialectName, err)
	}
	if dialectName == dialect.SQLite {
		// One writer at a time is SQLite's nature; a small pool keeps
		// readers concurrent without piling up lock waits.
		db.SetMaxOpenConns(8)
	} else {
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connecting to %s database at %s: %w", dialectName, location, err)
	}
	statements := new(atomic.Uint64)
	prepared := &preparedStatements{}
	drv := sharedDriver{Driver: entsql.OpenDB(dialectName, db), n: statements, prepared: prepared}
	return &DB{
		Client:     ent.NewClient(ent.Driver(drv)),
		SQL:        db,
		Dialect:    dialectName,
		Location:   location,
		dsn:        dsn,
		statements: statements,
		prepared:   prepared,
	}, nil
}

// Analyze refreshes the planner's statistics (SQL ANALYZE). Run it after a
// bulk load such as the demo data: without statistics SQLite plans the
// row-scope predicates badly. On PostgreSQL it vacuums too (VACUUM
// (ANALYZE)), which marks the loaded pages all-visible: until a vacuum,
// an index-only scan reads the table's rows anyway, and the first reads
// set every row's hint bits, so the first requests after a bulk load cost
// PostgreSQL more CPU than the same requests later (the HTTP benchmark's
// first run after a seed, docs/performance.md). Autovacuum would do it
// later, where it is on. About half a second for the demo at scale 40.
func (db *DB) Analyze(ctx context.Context) error {
	statement := "ANALYZE"
	if db.Dialect == dialect.Postgres {
		statement = "VACUUM (ANALYZE)" // outside a transaction: db.SQL's own
	}
	_, err := db.SQL.ExecContext(ctx, statement)
	return err
}

// Close closes the ent client and the pool.
func (db *DB) Close() error { return db.Client.Close() }

// Ping reports whether the database answers within ctx.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

// SnapshotOptions are the options of a read-only transaction that reads
// one snapshot of the database: REPEATABLE READ on PostgreSQL; on SQLite
// (nil: the defaults) every transaction is one.
func SnapshotOptions(dialectName string) *sql.TxOptions {
	if dialectName == dialect.Postgres {
		return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	return nil
}
