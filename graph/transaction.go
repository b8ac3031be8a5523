package graph

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/authz"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/requestid"
)

// mutationTransactions gives each mutation of an operation a transaction
// of its own (docs/mutations.md):
//
//   - The mutation's change and its payload are made and read in the
//     transaction, so the payload's field checks see what the mutation
//     just did (the case a victim was linked to, a consent withdrawn).
//   - It commits when the mutation's field has a value: the mutation
//     succeeded and its payload could be built. A sensitive field of the
//     payload the caller may not read is null with FORBIDDEN, like
//     anywhere else, and does not undo the write. A mutation whose field
//     is null (its own error, or a non-null payload field that could not
//     be read) rolls back: nothing of it is written. So does one whose
//     payload took the answer past its size limit (fieldBudget), and
//     its field is null.
//   - Mutations of one document run one after another and each commits on
//     its own: a later failure never undoes an earlier success the
//     response reports.
//
// The request's audit events are written in each transaction as it
// commits (auditedTxOpener), the payload's reads with them.
type mutationTransactions struct {
	opener entgql.TxOpener
	logger *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.RootFieldInterceptor
} = mutationTransactions{}

func (mutationTransactions) ExtensionName() string                   { return "MutationTransactions" }
func (mutationTransactions) Validate(graphql.ExecutableSchema) error { return nil }

func isMutation(oc *graphql.OperationContext) bool {
	return oc != nil && oc.Operation != nil && oc.Operation.Operation == ast.Mutation
}

// MutateOperationContext serialises the field resolvers of a mutation
// operation: a payload is read in its transaction, whose one connection
// runs one statement at a time. Once a mutation's own resolver has run,
// the facts its checks loaded are forgotten: its payload is decided on
// what it did (a consent it recorded, a referral it accepted), not on
// what was before. Both live here, in the middleware of mutation
// operations only, so that the fields of a query pay for neither.
func (mutationTransactions) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if !isMutation(oc) {
		return nil
	}
	previous := oc.ResolverMiddleware
	var mu sync.Mutex
	oc.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		res, err := previous(ctx, next)
		if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Object == "Mutation" {
			refreshFacts(ctx)
		}
		return res, err
	}
	return nil
}

// InterceptRootField runs one mutation and its payload in a transaction
// and commits it if the mutation's field has a value.
func (m mutationTransactions) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	if !isMutation(graphql.GetOperationContext(ctx)) {
		// A query's reads run as prepared statements: a dashboard asks
		// the same texts again and again, and PostgreSQL planned each of
		// them on every request (docs/performance.md).
		return next(database.WithPrepared(ctx))
	}
	errCtx := onRootField(ctx)
	// The facts field checks rest on (case links, consents) may have been
	// changed by the mutation before this one.
	refreshFacts(ctx)

	txCtx, tx, err := m.opener.OpenTx(ctx)
	if database.IsUnavailable(err) && !database.IsBusy(err) {
		// Nothing was done yet, and the pool has dropped the dead
		// connection (database/sql itself retries only driver.ErrBadConn):
		// a BEGIN that failed for a lost connection is tried once more.
		m.logger.WarnContext(ctx, "could not begin a transaction; trying once more", "request_id", requestid.FromContext(ctx), "error", err.Error())
		txCtx, tx, err = m.opener.OpenTx(ctx)
	}
	if err != nil {
		graphql.AddError(errCtx, m.unsaved(ctx, err))
		return graphql.Null
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback() // a panic on its way out
		}
	}()
	out := next(txCtx)
	done = true
	if out == nil || out == graphql.Null || answerOverLimit(ctx) {
		// An answer past its size limit (fieldBudget) stopped resolving
		// within this payload: the mutation is not made, as one whose
		// payload could not be read, and its answer is not sent. Made,
		// its answer would be sent whole (responseSizeLimit): until
		// 2026-12-07 (twenty-third session) a mutation's answer was not
		// counted, and one payload was 385 MB.
		_ = tx.Rollback()
		return graphql.Null
	}
	if err := tx.Commit(); err != nil {
		if database.IsUnavailable(err) && !database.IsBusy(err) && !apperr.HasCode(err, apperr.AuditUnavailable) {
			// Never retried: whether a COMMIT whose answer was lost took
			// effect is unknown.
			graphql.AddError(errCtx, m.commitOutcomeUnknown(ctx, err))
			return graphql.Null
		}
		graphql.AddError(errCtx, m.unsaved(ctx, err))
		return graphql.Null
	}
	return out
}

// answerOverLimit reports whether the operation of ctx has resolved values
// past its answer's size limit (fieldBudget).
func answerOverLimit(ctx context.Context) bool {
	b, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(fieldBudgetKey).(*fieldBudget)
	return ok && b.overAnswerLimit()
}

// unsaved is the error of a mutation whose transaction could not begin or
// commit: UNAVAILABLE, or AUDIT_UNAVAILABLE when its audit events could not
// be written. The driver's words go to the log only.
func (m mutationTransactions) unsaved(ctx context.Context, err error) error {
	id := requestid.FromContext(ctx)
	if errors.Is(ctx.Err(), context.Canceled) {
		// The client went away (it closed its connection, or the server
		// closed it past its shutdown's grace): the change was rolled
		// back, and no one reads this answer. Logged as what it is, not
		// as the deadline, which told an operator the server was slow.
		m.logger.InfoContext(ctx, "the client went away: the change was not made", "request_id", id, "error", err.Error())
		return &apperr.Error{Code: apperr.Unavailable, Message: "The request was cancelled; the change was not made."}
	}
	if ctx.Err() != nil || database.IsStatementCanceled(err) {
		// The request's deadline ended a wait (for a row, or for the
		// audit trail's lock under contention): no outage, the audit
		// trail's or the database's (a review found it told as the audit
		// trail's).
		m.logger.WarnContext(ctx, "the request's deadline ended the change", "request_id", id, "error", err.Error())
		return &apperr.Error{Code: apperr.Unavailable,
			Message: changeNotMadeInTime + " Quote the request id " + id + " if it persists."}
	}
	if apperr.HasCode(err, apperr.AuditUnavailable) {
		m.logger.ErrorContext(ctx, "audit trail unavailable: the change was not made", "request_id", id, "error", err.Error())
		return &apperr.Error{Code: apperr.AuditUnavailable,
			Message: "The change was not made because the audit trail is unavailable; try again later. Quote the request id " + id + " if it persists."}
	}
	m.logger.ErrorContext(ctx, "transaction failed", "request_id", id, "error", err.Error())
	return &apperr.Error{Code: apperr.Unavailable,
		Message: "The change could not be saved; try again. Quote the request id " + id + " if it persists."}
}

// commitOutcomeUnknown tells the client that its change may have been
// made: UNAVAILABLE, extensions.outcome UNKNOWN, and how to find out safely
// (retrying with the same idempotencyKey returns the record if it was made;
// an update retried with the expectedVersion it sent answers CONFLICT if it
// was made). Never "retry with the current version": until 2026-12-07
// (twenty-fourth session) the message said so, and a client doing as told
// wrote a change that had been made again, over whatever another person
// wrote since (a lost write), without learning whether its own was made
// (TestUpdateWhoseCommitAnswerWasLost).
//
// The advice is the mutation's own (findOutSafely): "send it again
// unchanged" was said to every mutation in the twenty-fourth session,
// and a create sent without an idempotencyKey, done as told, made its
// record a second time (TestCreateWithoutKeyWhoseCommitAnswerWasLost).
func (m mutationTransactions) commitOutcomeUnknown(ctx context.Context, err error) error {
	id := requestid.FromContext(ctx)
	m.logger.ErrorContext(ctx, "commit outcome unknown: the connection was lost while committing", "request_id", id, "error", err.Error())
	return &apperr.Error{Code: apperr.Unavailable, Details: map[string]any{"outcome": "UNKNOWN"},
		Message: "The connection to the database was lost while the change was being saved, so it may or may not have been saved. " +
			findOutSafely(ctx) + " Quote the request id " + id + " if it persists."}
}

// findOutSafely is how the client of the mutation of ctx (a root field)
// finds out whether a change whose COMMIT answer was lost was made: by
// its idempotencyKey, or its expectedVersion, when it sent one; a create
// (a mutation that takes a key and no version) that was sent without a
// key must read first, since sending it again would make it twice.
// changePolicy takes both and makes no record: until the twenty-sixth
// session (2026-12-07) it was told as a create, of "a second record".
func findOutSafely(ctx context.Context) string {
	var field graphql.CollectedField
	if rc := graphql.GetRootFieldContext(ctx); rc != nil {
		field = rc.Field
	}
	var vars map[string]any
	alone := ""
	if oc := graphql.GetOperationContext(ctx); oc != nil {
		vars = oc.Variables
		if oc.Operation != nil && len(graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Mutation"})) > 1 {
			// Each mutation of a document commits on its own: the
			// others were answered, and sending the document again
			// would make again those that take no key or version.
			alone = " Send this mutation alone: the document's others were answered on their own."
		}
	}
	given := func(name string) bool {
		arg := field.Arguments.ForName(name)
		if arg == nil {
			return false
		}
		v, err := arg.Value.Value(vars)
		return err == nil && v != nil
	}
	takes := func(name string) bool {
		return field.Definition != nil && field.Definition.Arguments.ForName(name) != nil
	}
	switch {
	case given("idempotencyKey"):
		return "Send it again unchanged, with the same idempotencyKey: what it made is returned if it was made, and it is made if not." + alone
	case given("expectedVersion"):
		return "Send it again unchanged, with the expectedVersion you sent: it is CONFLICT if it was made (or if the record changed since: read it to see)." + alone
	case takes("idempotencyKey") && !takes("expectedVersion"):
		return "It was sent without an idempotencyKey, so sending it again would make a second record if the first was made: read to see whether it was made before sending it again, and send an idempotencyKey with every create." + alone
	}
	return "Read to see whether it was made before sending it again." + alone
}

// refreshFacts makes the request's field and row checks load again what
// they rest on: the facts, the policy, what it found out about cases
// (which its referrals' caseID found visible, caseLookups) and which
// records its wheres named and were not shown (askedByID).
func refreshFacts(ctx context.Context) {
	if r := authz.FromContext(ctx); r != nil {
		r.Refresh()
	}
	if l := caseLookupsKey.From(ctx); l != nil {
		l.forget()
	}
	if a := askedByIDKey.From(ctx); a != nil {
		a.forget()
	}
}
