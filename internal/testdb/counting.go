package testdb

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
)

// CountingStatements returns db with an ent client that counts the
// statements it sends, and the counter: tests and benchmarks show with it
// that a request's statements do not grow with its size.
func CountingStatements(db *database.DB) (*database.DB, *atomic.Int64) {
	counted, c := CountingByKind(db)
	return counted, &c.All
}

// Statements counts the statements an ent client sends: All of them, and
// those of transactions (their begin and commit included) apart. A query
// page opens a transaction only to write its audit events, so All minus
// InTx is what the page itself costs.
type Statements struct {
	All, InTx atomic.Int64
}

// Reset sets both counts to zero.
func (s *Statements) Reset() { s.All.Store(0); s.InTx.Store(0) }

// CountingByKind is CountingStatements, counting transactions' statements
// apart. ent's debug driver names each statement with the connection that
// sends it: "driver.Query: …" outside a transaction, "driver.BeginTx(…)"
// and "Tx(…).Query: …" in one.
func CountingByKind(db *database.DB) (*database.DB, *Statements) {
	var s Statements
	drv := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(_ context.Context, v ...any) {
		s.All.Add(1)
		if line := fmt.Sprint(v...); strings.HasPrefix(line, "Tx(") || strings.HasPrefix(line, "driver.BeginTx(") {
			s.InTx.Add(1)
		}
	})
	return &database.DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db.SQL, Dialect: db.Dialect, Location: db.Location}, &s
}
