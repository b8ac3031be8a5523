package database

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Prepared statements, for the few statements whose planning costs more
// than their execution. A statement sent with an unnamed prepare (what
// lib/pq and database/sql do for a query with arguments) is parsed and
// planned again every time. One prepared once, whose text is the same on
// every request (its values all parameters), is parsed once per
// connection, and PostgreSQL may keep its plan (a generic plan, after five
// executions whose custom plans were not cheaper).

type preparedKey struct{}

// WithPrepared returns ctx whose queries outside a transaction (ent's, and
// raw ones through QueryContext) run as statements prepared once a text and
// kept. Use it for statements whose texts come again: each distinct text is
// kept until the database is closed (up to maxPrepared of them, the first
// ones asked; past that, queries are sent as usual). graph marks the reads
// of every query operation with it.
func WithPrepared(ctx context.Context) context.Context {
	return context.WithValue(ctx, preparedKey{}, true)
}

func wantsPrepared(ctx context.Context) bool {
	want, _ := ctx.Value(preparedKey{}).(bool)
	return want
}

// maxPrepared bounds the statements kept: a caller that marks a varying
// text cannot make the server hold a statement per request.
const maxPrepared = 32

// prepareTimeout bounds one prepare, which runs for whichever requests
// wait for it, not under any one request's deadline.
const prepareTimeout = 10 * time.Second

// preparedStatements are the statements prepared on one *sql.DB, by text.
// database/sql prepares each on a connection the first time it runs there
// (a round trip not counted in StatementsSent).
//
// A kept statement is never closed, not even at shutdown: closing a
// *sql.Stmt closes its driver statements while database/sql holds the
// pool's lock, and lib/pq waits for the server's answer with no deadline,
// so a database that stopped answering would freeze every request (and
// Close). The statements end with their connections.
type preparedStatements struct {
	mu     sync.Mutex
	byText map[string]*sql.Stmt
	// preparing counts prepares under way, reserved against maxPrepared
	// so that no statement is ever prepared beyond the bound.
	preparing int
	// once lets one prepare a text run for all who ask for it at once.
	once singleflight.Group
	// prepared counts prepares done (tests).
	prepared atomic.Int64
	// testHookPrepare, when set, runs before each prepare (tests).
	testHookPrepare atomic.Pointer[func()]
}

// get returns the statement of query, prepared on db, or nil when
// maxPrepared are kept already. The first request to ask for a text
// prepares it for every request asking meanwhile; each of them waits for
// it only until its own context ends, and no lock is held while the
// database answers.
func (p *preparedStatements) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	s, ok := p.byText[query]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	done := p.once.DoChan(query, func() (any, error) {
		p.mu.Lock()
		if s, ok := p.byText[query]; ok {
			p.mu.Unlock()
			return s, nil
		}
		if len(p.byText)+p.preparing >= maxPrepared {
			p.mu.Unlock()
			return (*sql.Stmt)(nil), nil
		}
		p.preparing++
		p.mu.Unlock()
		if hook := p.testHookPrepare.Load(); hook != nil {
			(*hook)()
		}
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), prepareTimeout)
		defer cancel()
		s, err := db.PrepareContext(pctx, query)
		p.prepared.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.preparing--
		if err != nil {
			return nil, err
		}
		if p.byText == nil {
			p.byText = map[string]*sql.Stmt{}
		}
		p.byText[query] = s
		return s, nil
	})
	select {
	case r := <-done:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*sql.Stmt), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
