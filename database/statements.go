package database

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Statements sent, counted where every statement of the server passes:
// the ent driver that open builds (sharedDriver), under every ent client, transaction
// and raw ExecContext/QueryContext. BEGIN, COMMIT and ROLLBACK count as
// statements too: each is a round trip to the database like a SELECT.
// The count is what /metrics shows as casegraph_sql_statements_total, so
// that a load test can divide it by the requests it sent (docs/benchmark-http.md).
// Statements sent on DB.SQL itself (migrations, ANALYZE, health checks)
// are not counted: no request sends them.

// StatementsSent returns how many statements db's client has sent since
// db was opened; 0 for a DB not built by Open (a test's own wrapper).
func (db *DB) StatementsSent() uint64 {
	if db.statements == nil {
		return 0
	}
	return db.statements.Load()
}

// countingTx is a transaction of sharedDriver: its statements, COMMIT
// and ROLLBACK counted in n.
type countingTx struct {
	dialect.Tx
	n *atomic.Uint64
}

func (t countingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Exec(ctx, query, wallClock(args), v)
}

func (t countingTx) Query(ctx context.Context, query string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Query(ctx, query, wallClock(args), v)
}

// ExecContext and QueryContext are the raw statements ent's transactional
// client passes through (tx.Client().ExecContext, as the audit writer's
// advisory lock): ent finds them on the transaction by these names.
func (t countingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	raw, ok := t.Tx.(entsql.ExecQuerier)
	if !ok {
		return nil, errNoRawStatements
	}
	t.n.Add(1)
	return raw.ExecContext(ctx, query, wallClockList(args)...)
}

func (t countingTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	raw, ok := t.Tx.(entsql.ExecQuerier)
	if !ok {
		return nil, errNoRawStatements
	}
	t.n.Add(1)
	return raw.QueryContext(ctx, query, wallClockList(args)...)
}

// errNoRawStatements is what ent itself says of a transaction without
// them; ent's own SQL transactions always have them.
var errNoRawStatements = errors.New("database: this transaction cannot run raw statements")

func (t countingTx) Commit() error {
	t.n.Add(1)
	return t.Tx.Commit()
}

func (t countingTx) Rollback() error {
	t.n.Add(1)
	return t.Tx.Rollback()
}
