package testdb

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
)

// Faults makes chosen database calls of a test server fail the way a lost
// or refused connection does, so tests can show what clients are told
// when the database goes away at one precise step (a statement, BEGIN,
// the answer to COMMIT), which a real outage cannot aim at. It also holds
// a call at such a step until the test releases it (HoldStatement,
// HoldCommitted): a write in flight at a known point, for as long as the
// test needs to cut its client off or stop its server.
type Faults struct {
	mu         sync.Mutex
	statements []statementFault
	begins     int
	beginErr   error
	commits    int
	commitErr  error
	holds      []*Hold // in the order asked; each holds one call
}

type statementFault struct {
	match     string
	times     int
	err       error
	outsideTx bool // only statements outside a transaction
}

// WithFaults returns db with an ent client whose calls fail as f says;
// with nothing set, every call goes through unchanged.
func WithFaults(db *database.DB) (*database.DB, *Faults) {
	f := &Faults{}
	drv := newFaultDriver(entsql.OpenDB(db.Dialect, db.SQL), f)
	return &database.DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db.SQL, Dialect: db.Dialect, Location: db.Location}, f
}

// FailStatements makes the next times statements whose SQL contains match
// fail with err without being sent (times < 0: every one).
func (f *Faults) FailStatements(match string, times int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statements = append(f.statements, statementFault{match: match, times: times, err: err})
}

// FailStatementsOutsideTransactions is FailStatements for the statements
// sent outside a transaction only: those a server runs after a write has
// committed (a reload of the policy it changed) but not the write's own.
func (f *Faults) FailStatementsOutsideTransactions(match string, times int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statements = append(f.statements, statementFault{match: match, times: times, err: err, outsideTx: true})
}

// FailBegins makes the next times transactions fail at BEGIN with err.
func (f *Faults) FailBegins(times int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.begins, f.beginErr = times, err
}

// LoseCommitAnswers makes the next times COMMITs take effect and then
// report err: the connection dropped before the client heard back.
func (f *Faults) LoseCommitAnswers(times int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits, f.commitErr = times, err
}

// Clear lets every call through again (a hold not reached holds none).
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statements, f.begins, f.commits = nil, 0, 0
	for _, h := range f.holds {
		h.release()
	}
	f.holds = nil
}

func (f *Faults) statement(ctx context.Context, query string, inTx bool) error {
	if h := f.hold(query, false); h != nil {
		h.wait(ctx)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.statements {
		s := &f.statements[i]
		if s.times != 0 && strings.Contains(query, s.match) && !(s.outsideTx && inTx) {
			if s.times > 0 {
				s.times--
			}
			return s.err
		}
	}
	return nil
}

func take(mu *sync.Mutex, n *int, err error) error {
	mu.Lock()
	defer mu.Unlock()
	if *n == 0 {
		return nil
	}
	*n--
	return err
}

// faultGate is what a connection and a transaction share: every statement
// passes Faults.statement before it is sent. Embedded beside *entsql.Driver
// or *entsql.Tx, its Exec and Query are one level shallower than theirs
// (which they take from an embedded entsql.Conn), so Go picks these.
type faultGate struct {
	next dialect.ExecQuerier
	f    *Faults
	inTx bool
}

func (g faultGate) Exec(ctx context.Context, query string, args, v any) error {
	if err := g.f.statement(ctx, query, g.inTx); err != nil {
		return err
	}
	return g.next.Exec(ctx, query, args, v)
}

func (g faultGate) Query(ctx context.Context, query string, args, v any) error {
	if err := g.f.statement(ctx, query, g.inTx); err != nil {
		return err
	}
	return g.next.Query(ctx, query, args, v)
}

type faultDriver struct {
	*entsql.Driver
	faultGate
}

func newFaultDriver(drv *entsql.Driver, f *Faults) *faultDriver {
	return &faultDriver{Driver: drv, faultGate: faultGate{next: drv, f: f}}
}

// ExecContext is what ent's client.ExecContext reaches (raw statements,
// such as the audit trail's INSERT): it fails as Exec does.
func (d *faultDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := d.f.statement(ctx, query, false); err != nil {
		return nil, err
	}
	return d.Driver.ExecContext(ctx, query, args...)
}

func (d *faultDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

func (d *faultDriver) BeginTx(ctx context.Context, opts *entsql.TxOptions) (dialect.Tx, error) {
	if err := take(&d.f.mu, &d.f.begins, d.f.beginErr); err != nil {
		return nil, err
	}
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	entTx := tx.(*entsql.Tx)
	return &faultTx{Tx: entTx, faultGate: faultGate{next: entTx, f: d.f, inTx: true}, ctx: ctx}, nil
}

type faultTx struct {
	*entsql.Tx
	faultGate
	ctx context.Context // BEGIN's: the request's, for a mutation
}

// ExecContext: see faultDriver.ExecContext.
func (t *faultTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.f.statement(ctx, query, true); err != nil {
		return nil, err
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *faultTx) Commit() error {
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	if h := t.f.hold("", true); h != nil {
		h.wait(t.ctx)
	}
	return take(&t.f.mu, &t.f.commits, t.f.commitErr)
}

// Hold is one database call held until the test releases it.
type Hold struct {
	match    string // a statement's text; HoldCommitted's: none
	commit   bool
	reached  chan struct{}
	ctx      context.Context // the held call's, set before reached is closed
	released chan struct{}
	release  func()
}

// HoldStatement holds the next statement whose SQL contains match (in a
// transaction or not) before it is sent, until Release or the end of tb.
// The database has not seen it: what the transaction did before it is
// done and uncommitted.
func (f *Faults) HoldStatement(tb testing.TB, match string) *Hold {
	return f.addHold(tb, &Hold{match: match})
}

// HoldCommitted holds the next COMMIT once it has taken effect, before it
// returns to the server, until Release or the end of tb: the change is
// made and the server does not know yet.
func (f *Faults) HoldCommitted(tb testing.TB) *Hold {
	return f.addHold(tb, &Hold{match: "COMMIT", commit: true})
}

func (f *Faults) addHold(tb testing.TB, h *Hold) *Hold {
	released := make(chan struct{})
	h.reached, h.released, h.release = make(chan struct{}), released, sync.OnceFunc(func() { close(released) })
	f.mu.Lock()
	f.holds = append(f.holds, h)
	f.mu.Unlock()
	// A test that fails while a call is held must not leave its server
	// waiting for ever at cleanup.
	tb.Cleanup(h.release)
	return h
}

// hold takes the first hold waiting for the statement query, or for a
// COMMIT.
func (f *Faults) hold(query string, commit bool) *Hold {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, h := range f.holds {
		if h.commit == commit && (commit || strings.Contains(query, h.match)) {
			f.holds = append(f.holds[:i], f.holds[i+1:]...)
			return h
		}
	}
	return nil
}

func (h *Hold) wait(ctx context.Context) {
	h.ctx = ctx
	close(h.reached)
	<-h.released
}

// Reached waits until the call is held, failing tb if it is not within
// d, and returns the call's context: a request's, whose end says that
// the server saw its client go (requestid.FromContext names it).
func (h *Hold) Reached(tb testing.TB, d time.Duration) context.Context {
	tb.Helper()
	select {
	case <-h.reached:
		return h.ctx
	case <-time.After(d):
		tb.Fatalf("no database call matching %q was held within %v", h.match, d)
		return nil
	}
}

// Release lets the held call go on (and a hold never reached, never hold).
func (h *Hold) Release() { h.release() }
