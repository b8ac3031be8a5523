package graph

import (
	"context"
	"database/sql/driver"
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/requestid"
)

// transactioner runs each mutation operation in one transaction
// (entgql.Transactioner), and stays out of the way of responses that have
// no operation at all: gqlgen answers an unreadable request (a body over
// the limit, malformed JSON) without one, where entgql's would panic.
type transactioner struct {
	entgql.Transactioner
	logger *slog.Logger
}

// InterceptResponse implements graphql.ResponseInterceptor. entgql answers
// a transaction that cannot begin or commit with the driver's own words and
// no code: those become UNAVAILABLE with the request id, and the words go to
// the log.
func (t transactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	outcome := &txOutcome{}
	resp := t.Transactioner.InterceptResponse(context.WithValue(ctx, txOutcomeKey{}, outcome), next)
	if resp == nil {
		return resp
	}
	auditFailed := false
	if rec := audit.FromContext(ctx); rec != nil {
		auditFailed = rec.HasFailed()
	}
	for i, e := range resp.Errors {
		if _, coded := e.Extensions["code"]; coded {
			continue
		}
		id := requestid.FromContext(ctx)
		if auditFailed {
			t.logger.ErrorContext(ctx, "audit trail unavailable: the change was not made", "request_id", id, "error", e.Message)
			resp.Errors[i] = &gqlerror.Error{
				Message:    "The change was not made because the audit trail is unavailable; try again later. Quote the request id " + id + " if it persists.",
				Path:       e.Path,
				Extensions: map[string]any{"code": string(apperr.AuditUnavailable), "requestId": id},
			}
			continue
		}
		if outcome.commitLost != nil {
			resp.Errors[i] = commitOutcomeUnknown(ctx, t.logger, e, outcome.commitLost)
			continue
		}
		t.logger.ErrorContext(ctx, "transaction failed", "request_id", id, "error", e.Message)
		resp.Errors[i] = &gqlerror.Error{
			Message:    "The change could not be saved; try again. Quote the request id " + id + " if it persists.",
			Path:       e.Path,
			Extensions: map[string]any{"code": string(apperr.Unavailable), "requestId": id},
		}
	}
	return resp
}

// txOutcome is what watchedTx learnt about the commit of one request's
// transaction, for transactioner to tell the client.
type txOutcome struct {
	// commitLost is the error of a COMMIT whose answer never came back
	// (database.IsUnavailable): the change may or may not have been made.
	commitLost error
}

type txOutcomeKey struct{}

// outcomeWatch opens the transactions of mutations through another
// opener. A BEGIN that failed because the connection was lost is tried
// once more: nothing was done yet, and the pool has dropped the dead
// connection (database/sql itself retries only driver.ErrBadConn). A
// COMMIT is never retried: whether a lost one took effect is unknown, so
// it is remembered and the client told (commitOutcomeUnknown).
type outcomeWatch struct {
	entgql.TxOpener
	logger *slog.Logger
}

func (o outcomeWatch) OpenTx(ctx context.Context) (context.Context, driver.Tx, error) {
	txCtx, tx, err := o.TxOpener.OpenTx(ctx)
	if database.IsUnavailable(err) && !database.IsBusy(err) {
		o.logger.WarnContext(ctx, "could not begin a transaction; trying once more", "request_id", requestid.FromContext(ctx), "error", err.Error())
		txCtx, tx, err = o.TxOpener.OpenTx(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	outcome, _ := ctx.Value(txOutcomeKey{}).(*txOutcome)
	return txCtx, watchedTx{Tx: tx, outcome: outcome}, nil
}

type watchedTx struct {
	driver.Tx
	outcome *txOutcome
}

func (t watchedTx) Commit() error {
	err := t.Tx.Commit()
	if t.outcome != nil && database.IsUnavailable(err) && !database.IsBusy(err) {
		t.outcome.commitLost = err
	}
	return err
}

// commitOutcomeUnknown tells the client that its change may have been
// made: UNAVAILABLE, extensions.outcome UNKNOWN, and how to find out safely
// (retrying with the same idempotencyKey returns the record if it was made;
// an update retried with the expectedVersion it sent answers CONFLICT if it
// was made).
func commitOutcomeUnknown(ctx context.Context, logger *slog.Logger, e *gqlerror.Error, err error) *gqlerror.Error {
	id := requestid.FromContext(ctx)
	logger.ErrorContext(ctx, "commit outcome unknown: the connection was lost while committing", "request_id", id, "error", err.Error())
	return &gqlerror.Error{
		Message: "The connection to the database was lost while the change was being saved, so it may or may not have been saved. " +
			"Retry with the same idempotencyKey, or read the record and retry with its current expectedVersion. Quote the request id " + id + " if it persists.",
		Path:       e.Path,
		Extensions: map[string]any{"code": string(apperr.Unavailable), "outcome": "UNKNOWN", "requestId": id},
	}
}
