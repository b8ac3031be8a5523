package testdb

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent"
)

// Faults makes chosen database calls of a test server fail the way a lost
// or refused connection does, so tests can show what clients are told
// when the database goes away at one precise step (a statement, BEGIN,
// the answer to COMMIT), which a real outage cannot aim at.
type Faults struct {
	mu         sync.Mutex
	statements []statementFault
	begins     int
	beginErr   error
	commits    int
	commitErr  error
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

// Clear lets every call through again.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statements, f.begins, f.commits = nil, 0, 0
}

func (f *Faults) statement(query string, inTx bool) error {
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
	if err := g.f.statement(query, g.inTx); err != nil {
		return err
	}
	return g.next.Exec(ctx, query, args, v)
}

func (g faultGate) Query(ctx context.Context, query string, args, v any) error {
	if err := g.f.statement(query, g.inTx); err != nil {
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
	if err := d.f.statement(query, false); err != nil {
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
	return &faultTx{Tx: entTx, faultGate: faultGate{next: entTx, f: d.f, inTx: true}}, nil
}

type faultTx struct {
	*entsql.Tx
	faultGate
}

// ExecContext: see faultDriver.ExecContext.
func (t *faultTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := t.f.statement(query, true); err != nil {
		return nil, err
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *faultTx) Commit() error {
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	return take(&t.f.mu, &t.f.commits, t.f.commitErr)
}
