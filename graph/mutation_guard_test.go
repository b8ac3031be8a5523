package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/apperr"
)

// refusingGuard refuses what its fields say: the call, or a field the
// input writes.
type refusingGuard struct{ call, write error }

func (g refusingGuard) CheckCall(context.Context, string) error { return g.call }
func (g refusingGuard) CheckWrites(context.Context, string, string, []string) error {
	return g.write
}

// TestMutationGuardRefusesWhatNoReplayExcused: the policy's refusal of a
// field an idempotent create writes is left for casework to answer under
// the key's lock (a replay writes nothing, casework.RefusedUnlessReplay).
// It still refuses everything else: the call, asked of every request, a
// write without a key, before the resolver runs; and a keyed mutation
// that resolved without being told a replay (a create that does not go
// through casework.createOnce) is refused after all, its field null, so
// that its transaction rolls back.
func TestMutationGuardRefusesWhatNoReplayExcused(t *testing.T) {
	mayNotCall := apperr.Errorf(apperr.Forbidden, "Your role may not call registerVictim.")
	mayNotWrite := apperr.Errorf(apperr.Forbidden, "Your role may not write Victim.phone.")
	resolved := graphql.MarshalString("a record")
	for _, tc := range []struct {
		name      string
		guard     refusingGuard
		key       bool
		wantRun   bool
		wantError error
	}{
		{"CallRefusedWithAKey", refusingGuard{call: mayNotCall}, true, false, mayNotCall},
		{"WriteRefusedWithoutAKey", refusingGuard{write: mayNotWrite}, false, false, mayNotWrite},
		{"WriteRefusedWithAKeyResolvedWithoutCasework", refusingGuard{write: mayNotWrite}, true, true, mayNotWrite},
		{"NothingRefused", refusingGuard{}, true, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			field := &ast.Field{Alias: "registerVictim", Name: "registerVictim"}
			if tc.key {
				field.Arguments = ast.ArgumentList{{Name: "idempotencyKey", Value: &ast.Value{Kind: ast.StringValue, Raw: "k"}}}
			}
			ctx := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{
				Operation: &ast.OperationDefinition{Operation: ast.Mutation}, Variables: map[string]any{},
			})
			ctx = graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, graphql.DefaultRecover)
			ctx = graphql.WithRootFieldContext(ctx, &graphql.RootFieldContext{Object: "Mutation", Field: graphql.CollectedField{Field: field}})
			ran := false
			out := checkMutations(tc.guard)(ctx, func(context.Context) graphql.Marshaler {
				ran = true
				return resolved
			})
			if ran != tc.wantRun {
				t.Errorf("the resolver ran: %v, want %v", ran, tc.wantRun)
			}
			errs := graphql.GetErrors(ctx)
			if tc.wantError == nil {
				if out == graphql.Null || len(errs) != 0 {
					t.Errorf("answered %v with errors %v, want the resolver's answer", out, errs)
				}
				return
			}
			if out != graphql.Null || len(errs) != 1 || errs[0].Message != tc.wantError.Error() {
				t.Errorf("answered %v with errors %v, want null and %q", out, errs, tc.wantError)
			}
		})
	}
}
