package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Once a request's context has ended (its deadline, or the client gone),
// nothing more of its operation is resolved: the field middleware refuses
// every field (requestLimits.admitField) and a list stops at the element
// it has reached (marshalListInOrder). Each field refused still added an
// UNAVAILABLE of its own, so an answer that ran out of time at a page of
// objects carried one error for each field left (136 in one answer, a
// hunt over HTTP), each presented and sent for nothing. The answer now
// carries one error for the request's end (requestEndErrors).

// requestEnded marks an error the presenter read as the request's end, so
// that requestEndErrors can find it again among the answer's errors.
type requestEnded struct{ error }

func (e requestEnded) Unwrap() error { return e.error }

// isRequestEnd reports whether e is one the presenter read as the
// request's end.
func isRequestEnd(e *gqlerror.Error) bool {
	return errors.As(e.Err, new(requestEnded))
}

// requestEndErrors keeps, of the errors an answer carries for the
// request's end, the first of each root field: in a mutation each root
// field is committed or not on its own and the client must know which did
// not run, and in a query a root field left without an error would read as
// an answer (a non-null one nulls the data with no error of its own at its
// path: a review). Under a root field with such an error, any value may be
// missing without one of its own. It runs inside
// the audit trail, so what the trail withholds, and its
// AUDIT_UNAVAILABLE errors, are as they were.
type requestEndErrors struct{}

func (requestEndErrors) ExtensionName() string                   { return "RequestEndErrors" }
func (requestEndErrors) Validate(graphql.ExecutableSchema) error { return nil }

func (requestEndErrors) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || len(resp.Errors) < 2 || ctx.Err() == nil {
		return resp
	}
	resp.Errors = firstPerRootField(resp.Errors, isRequestEnd)
	return resp
}

// firstPerRootField keeps, of the errors that match, the first under each
// root field (the first at no path, for errors at none), and every error
// that does not match, in their order. A stop that ends a request (its
// deadline, the answer's size) leaves an error at every field it stopped,
// hundreds in an answer, where the client needs one a root field.
func firstPerRootField(errs gqlerror.List, match func(*gqlerror.Error) bool) gqlerror.List {
	seen := map[ast.PathElement]bool{}
	kept := errs[:0]
	for _, e := range errs {
		if match(e) {
			var root ast.PathElement
			if len(e.Path) > 0 {
				root = e.Path[0]
			}
			if seen[root] {
				continue
			}
			seen[root] = true
		}
		kept = append(kept, e)
	}
	return kept
}

// stopAtRequestEnd reports whether the list being marshalled under ctx
// stops before element i because the request has ended; the first
// element not marshalled carries the error (requestEndErrors keeps one of
// them for the answer).
func stopAtRequestEnd(ctx context.Context) bool {
	if ctx.Err() == nil {
		return false
	}
	graphql.AddError(ctx, ctx.Err())
	return true
}
