package graph

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestTheRequestsEndIsNeverTheClientsInput: when the request's deadline
// passes (or the client leaves) while fields that no resolver answers are
// being written, the field limits stop each of them with the context's
// error. That error is not a resolver's, and it once fell through to
// "A value in the request is not valid" (BAD_USER_INPUT) on every cell of
// the access matrix under load. It must read as the deadline it is.
func TestTheRequestsEndIsNeverTheClientsInput(t *testing.T) {
	var logs bytes.Buffer
	p := errorPresenter{logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{})
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{}})
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"deadline", context.DeadlineExceeded, "The request took too long; try again or ask for less."},
		{"deadline on a field's path", graphql.ErrorOnPath(ctx, context.DeadlineExceeded), "The request took too long; try again or ask for less."},
		{"deadline wrapped", fmt.Errorf("writing a cell: %w", context.DeadlineExceeded), "The request took too long; try again or ask for less."},
		{"marked deadline", resolverError{context.DeadlineExceeded}, "The request took too long; try again or ask for less."},
		{"client gone", graphql.ErrorOnPath(ctx, context.Canceled), "The request was cancelled."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := p.present(ctx, tc.err)
			if code := out.Extensions["code"]; code != "UNAVAILABLE" {
				t.Errorf("code %v, want UNAVAILABLE (message %q)", code, out.Message)
			}
			if out.Message != tc.want {
				t.Errorf("message %q, want %q", out.Message, tc.want)
			}
		})
	}
	if logs.Len() != 0 {
		t.Errorf("the request's end was logged as an error: %s", logs.String())
	}
}
