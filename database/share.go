package database

import (
	"context"
	"database/sql"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// A request's fair share of the connection pool. GraphQL resolves the
// items of a list concurrently, so one request could otherwise hold every
// pooled connection at once and leave other requests, health checks
// included, waiting: a request carrying a share (WithRequestShare) runs at
// most that many statements at a time outside a transaction. Statements in
// a transaction use the transaction's one connection and are not counted.

type shareKey struct{}

// WithRequestShare returns ctx whose statements run at most n at a time.
func WithRequestShare(ctx context.Context, n int) context.Context {
	if n <= 0 {
		return ctx
	}
	return context.WithValue(ctx, shareKey{}, make(chan struct{}, n))
}

// RequestShare is the share of the pool one request gets: an eighth of
// it, at least one statement, so that several heavy requests at once
// still leave connections for others (and for /readyz).
func (db *DB) RequestShare() int {
	return max(1, db.SQL.Stats().MaxOpenConnections/8)
}

// acquire waits for a free slot of ctx's share, or for ctx to end; a nil
// release means ctx has no share (work that is no request's).
func acquire(ctx context.Context) (release func(), err error) {
	slots, ok := ctx.Value(shareKey{}).(chan struct{})
	if !ok {
		return nil, nil
	}
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// sharedDriver is ent's SQL driver as every client of the server uses it:
// each statement outside a transaction runs within its request's share,
// and every statement sent, in a transaction or not, is counted in n
// (statements.go).
type sharedDriver struct {
	*entsql.Driver
	n *atomic.Uint64
	// prepared are the statements queries marked WithPrepared run as.
	prepared *preparedStatements
}

// inShare sends one statement in a slot of ctx's share (see acquire),
// freed when it returns, and counts it in n.
func inShare[T any](ctx context.Context, n *atomic.Uint64, run func() (T, error)) (T, error) {
	release, err := acquire(ctx)
	if err != nil {
		var none T
		return none, err
	}
	if release != nil {
		defer release()
	}
	n.Add(1)
	return run()
}

func (d sharedDriver) Exec(ctx context.Context, query string, args, v any) error {
	args = wallClock(args)
	_, err := inShare(ctx, d.n, func() (any, error) { return nil, d.Driver.Exec(ctx, query, args, v) })
	return err
}

// Query holds the slot until the rows are closed: the connection is busy
// until then.
func (d sharedDriver) Query(ctx context.Context, query string, args, v any) error {
	args = wallClock(args)
	release, err := acquire(ctx)
	if err != nil {
		return err
	}
	d.n.Add(1)
	if err := d.query(ctx, query, args, v); err != nil {
		if release != nil {
			release()
		}
		return err
	}
	if release == nil {
		return nil // no request's: the rows stay what ent's own tools expect
	}
	if rows, ok := v.(*entsql.Rows); ok && rows.ColumnScanner != nil {
		rows.ColumnScanner = releasingRows{ColumnScanner: rows.ColumnScanner, release: sync.OnceFunc(release)}
		return nil
	}
	release()
	return nil
}

// query sends one of ent's queries, as its prepared statement when ctx is
// marked WithPrepared (graph marks a query operation's reads): planning
// each of a page's statements on every request cost PostgreSQL more than
// running them (docs/performance.md).
func (d sharedDriver) query(ctx context.Context, query string, args, v any) error {
	argv, isList := args.([]any)
	rows, isRows := v.(*entsql.Rows)
	if isList && isRows {
		if r, ok, err := d.queryPrepared(ctx, query, argv); ok {
			if err != nil {
				return err
			}
			*rows = entsql.Rows{ColumnScanner: r}
			return nil
		}
	}
	return d.Driver.Query(ctx, query, args, v)
}

// releasingRows frees a request's slot when its rows are closed.
type releasingRows struct {
	entsql.ColumnScanner
	release func()
}

func (r releasingRows) Close() error {
	err := r.ColumnScanner.Close()
	r.release()
	return err
}

// ExecContext and QueryContext are the raw statements ent passes through
// (client.ExecContext): shared and counted the same.
func (d sharedDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	args = wallClockList(args)
	return inShare(ctx, d.n, func() (sql.Result, error) { return d.Driver.ExecContext(ctx, query, args...) })
}

// QueryContext's raw rows go back to callers that expect *sql.Rows (ent's
// migration tools): the slot is held while the statement starts only. A
// query marked WithPrepared runs as its prepared statement.
func (d sharedDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	args = wallClockList(args)
	return inShare(ctx, d.n, func() (*sql.Rows, error) {
		if rows, ok, err := d.queryPrepared(ctx, query, args); ok {
			return rows, err
		}
		return d.Driver.QueryContext(ctx, query, args...)
	})
}

// queryPrepared runs query as its prepared statement when ctx is marked
// WithPrepared and the statement is kept (or can be: maxPrepared). ok is
// false when the query is to be sent as usual.
func (d sharedDriver) queryPrepared(ctx context.Context, query string, args []any) (rows *sql.Rows, ok bool, err error) {
	if d.prepared == nil || !wantsPrepared(ctx) {
		return nil, false, nil
	}
	stmt, err := d.prepared.get(ctx, d.DB(), query)
	if err != nil {
		return nil, true, err
	}
	if stmt == nil { // maxPrepared texts kept already
		return nil, false, nil
	}
	rows, err = stmt.QueryContext(ctx, args...)
	return rows, true, err
}

// Tx and BeginTx keep the transactions ent opens; they need no share
// (one connection for the transaction's life), and their statements are
// counted by countingTx.
func (d sharedDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

// BeginTx counts BEGIN when it was sent (a refused BEGIN may not have
// been: database/sql reports a full pool the same way).
func (d sharedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	d.n.Add(1)
	return countingTx{Tx: tx, n: d.n}, nil
}

// WithStatementTimeout returns a PostgreSQL URL whose sessions cancel any
// statement running longer than d (PostgreSQL's statement_timeout), unless
// the URL sets one: a statement whose request was abandoned, or that
// escaped its context, stops on the server too. Other URLs are returned
// as they are.
func WithStatementTimeout(databaseURL string, d time.Duration) string {
	if d <= 0 || !(strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://")) {
		return databaseURL
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return databaseURL // Open reports it
	}
	q := u.Query()
	if q.Get("statement_timeout") == "" {
		q.Set("statement_timeout", strconv.FormatInt(d.Milliseconds(), 10))
		u.RawQuery = q.Encode()
	}
	return u.String()
}
