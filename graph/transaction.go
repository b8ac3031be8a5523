package graph

import (
	"context"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
)

// transactioner runs each mutation operation in one transaction
// (entgql.Transactioner), and stays out of the way of responses that have
// no operation at all: gqlgen answers an unreadable request (a body over
// the limit, malformed JSON) without one, where entgql's would panic.
type transactioner struct {
	entgql.Transactioner
}

// InterceptResponse implements graphql.ResponseInterceptor.
func (t transactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	return t.Transactioner.InterceptResponse(ctx, next)
}
