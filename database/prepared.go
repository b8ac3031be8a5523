package database

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements, for the few statements whose planning costs more
// than their execution. A statement sent with an unnamed prepare (what
// lib/pq and database/sql do for a query with arguments) is parsed and
// planned again every time. One prepared once, whose text is the same on
// every request (its values all parameters), is parsed once per
// connection, and PostgreSQL may keep its plan (a generic plan, after five
// executions whose custom plans were not cheaper).

type preparedKey struct{}

// WithPrepared returns ctx whose raw queries (QueryContext) outside a
// transaction run as statements prepared once a text and kept. Use it for
// a statement whose text never varies: each distinct text is kept until
// the database is closed (up to maxPrepared of them; past that, queries
// are sent as usual).
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

// preparedStatements are the statements prepared on one *sql.DB, by text.
// database/sql prepares each on a connection the first time it runs there.
type preparedStatements struct {
	mu     sync.Mutex
	byText map[string]*sql.Stmt
}

// get returns the statement of query, prepared on db, or nil when
// maxPrepared are kept already. The lock is not held while preparing: a
// database that does not answer must not queue every other request behind
// one prepare, past their own deadlines. Two requests that prepare the
// same text at once keep the first and close the other.
func (p *preparedStatements) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	s, ok := p.byText[query]
	full := len(p.byText) >= maxPrepared
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	if full {
		return nil, nil
	}
	s, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if kept, ok := p.byText[query]; ok {
		_ = s.Close()
		return kept, nil
	}
	if len(p.byText) >= maxPrepared {
		_ = s.Close()
		return nil, nil
	}
	if p.byText == nil {
		p.byText = map[string]*sql.Stmt{}
	}
	p.byText[query] = s
	return s, nil
}

// close closes every kept statement.
func (p *preparedStatements) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.byText {
		_ = s.Close()
	}
	clear(p.byText)
}
