package graph

import (
	"context"
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/audit"
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
	resp := t.Transactioner.InterceptResponse(ctx, next)
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
		t.logger.ErrorContext(ctx, "transaction failed", "request_id", id, "error", e.Message)
		resp.Errors[i] = &gqlerror.Error{
			Message:    "The change could not be saved; try again. Quote the request id " + id + " if it persists.",
			Path:       e.Path,
			Extensions: map[string]any{"code": string(apperr.Unavailable), "requestId": id},
		}
	}
	return resp
}
