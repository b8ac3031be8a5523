package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/viewer"
)

// FieldGuard decides whether a principal may read a sensitive field, named
// as "Type.field" (e.g. "Victim.legalName"), of one object. It is asked on
// every path that reaches the field.
type FieldGuard interface {
	CanReadField(ctx context.Context, p *viewer.Principal, field string, obj any) (bool, error)
}

// AnyRoleGuard lets a principal that holds at least one role read every
// sensitive field, and nobody else. It is the guard of the foundation, until
// per-agency policy decides.
type AnyRoleGuard struct{}

// CanReadField implements FieldGuard.
func (AnyRoleGuard) CanReadField(_ context.Context, p *viewer.Principal, _ string, _ any) (bool, error) {
	return p != nil && len(p.Roles) > 0, nil
}

// sensitiveDirective implements @sensitive: the field's value is resolved
// only when the guard allows it; otherwise the field is null with a
// FORBIDDEN error naming it, and the rest of the response stands.
func sensitiveDirective(guard FieldGuard) func(ctx context.Context, obj any, next graphql.Resolver, category SensitivityCategory) (any, error) {
	return func(ctx context.Context, obj any, next graphql.Resolver, _ SensitivityCategory) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		field := fmt.Sprintf("%s.%s", fc.Object, fc.Field.Name)
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
