package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/viewer"
)

// FieldGuard decides whether a principal may read a sensitive field, named
// as "Type.field" (e.g. "Victim.legalName"), of one object. It is asked on
// every path that reaches the field.
type FieldGuard interface {
	CanReadField(ctx context.Context, p *viewer.Principal, field string, obj any) (bool, error)
}

// MutationGuard decides whether the caller may call a mutation with the
// input keys it sent: calling the mutation at all, and writing each
// sensitive field the input sets. It returns a FORBIDDEN *apperr.Error when
// not.
type MutationGuard interface {
	CheckMutation(ctx context.Context, mutation, inputType string, inputKeys []string) error
}

// checkMutations is a root-field middleware that asks guard before any
// mutation runs, so a refused mutation changes nothing.
func checkMutations(guard MutationGuard) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
			return next(ctx)
		}
		field := graphql.GetRootFieldContext(ctx).Field
		inputType, keys := inputKeys(field, oc.Variables)
		if err := guard.CheckMutation(ctx, field.Name, inputType, keys); err != nil {
			graphql.AddError(ctx, err)
			return graphql.Null
		}
		return next(ctx)
	}
}

// inputKeys returns the type of the mutation's "input" argument and the
// keys the client sent in it.
func inputKeys(field graphql.CollectedField, vars map[string]any) (string, []string) {
	arg := field.Arguments.ForName("input")
	if arg == nil || field.Definition == nil {
		return "", nil
	}
	def := field.Definition.Arguments.ForName("input")
	if def == nil {
		return "", nil
	}
	val, err := arg.Value.Value(vars)
	if err != nil {
		return def.Type.Name(), nil
	}
	m, _ := val.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return def.Type.Name(), keys
}

// sensitiveDirective implements @sensitive: the field's value is resolved
// only when the guard allows it; otherwise the field is null with a
// FORBIDDEN error naming it, and the rest of the response stands.
func sensitiveDirective(guard FieldGuard) func(ctx context.Context, obj any, next graphql.Resolver, category SensitivityCategory) (any, error) {
	var names sync.Map // *ast.FieldDefinition → "Type.field"
	return func(ctx context.Context, obj any, next graphql.Resolver, _ SensitivityCategory) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		var field string
		if n, ok := names.Load(fc.Field.Definition); ok {
			field = n.(string)
		} else {
			field = fc.Object + "." + fc.Field.Name
			names.Store(fc.Field.Definition, field)
		}
		ok, err := guard.CanReadField(ctx, viewer.FromContext(ctx), field, obj)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &apperr.Error{Code: apperr.Forbidden, Field: field, Message: "You may not read " + field + "."}
		}
		return next(ctx)
	}
}
