package testdb

import (
	"context"
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
	var n atomic.Int64
	drv := dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), func(context.Context, ...any) { n.Add(1) })
	return &database.DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db.SQL, Dialect: db.Dialect, Location: db.Location}, &n
}
