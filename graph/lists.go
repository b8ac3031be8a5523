package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalListInOrder marshals a list's elements one after the other on the
// request's goroutine. The executor calls it where gqlgen writes
// graphql.MarshalSliceConcurrently (graph/internal/gqlgenerate says why),
// with the same signature and the same contract: each element gets its own
// field context carrying its index, and, unless the configuration omits the
// panic handler, a panic while marshalling one element becomes that
// element's error and a null, and the others are still marshalled.
// workerLimit bounds goroutines, of which there are none here.
func marshalListInOrder(
	ctx context.Context,
	length int,
	workerLimit int64,
	omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	_ = workerLimit
	ret := make(graphql.Array, length)
	for i := range length {
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if stopAtRequestEnd(childCtx) {
			// The request has ended: the rest of the list is not visited
			// (each of its fields would only be refused).
			for j := i; j < length; j++ {
				ret[j] = graphql.Null
			}
			break
		}
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		ret[i] = marshalRecovering(childCtx, i, marshalElement)
	}
	return ret
}

// marshalRecovering marshals element i, turning a panic into the element's
// error and a null as gqlgen's own list marshalling does.
func marshalRecovering(ctx context.Context, i int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (m graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			m = graphql.Null
		}
	}()
	return marshalElement(ctx, i)
}
