package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// enumVariables refuses, before anything runs, a variable holding an enum
// value that is not one of its enum's names as the schema spells them
// ("tirane" for TIRANE), at any depth of its lists and input objects:
// the same request error, at the variable, as any other value of no enum
// ("$r is not a value of the enum Region.", variableMessage). gqlparser's
// validation of variables compares enum values without regard to case
// (strings.EqualFold, validator/vars.go), so such a value passed it and
// was refused by the enum's Go type only once its field ran: a field
// error on a path of arguments, with `data` (null for a query's root
// list) and no extensions.field, where every other wrong value of a
// variable is a request error without `data` (docs/errors.md, "Where an
// error points"; docs/graphql-over-http.md, "Responses").
type enumVariables struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = enumVariables{}

func (enumVariables) ExtensionName() string                   { return "EnumVariables" }
func (enumVariables) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (e enumVariables) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	for _, def := range oc.Operation.VariableDefinitions {
		if v, ok := oc.Variables[def.Variable]; ok {
			if err := e.exact(def.Type, v, ast.Path{ast.PathName("variable"), ast.PathName(def.Variable)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// exact refuses the first enum value of v (of type typ, at path) that
// its enum does not name exactly. v has passed gqlparser's validation, so
// it has typ's shape but for the case of its enum values.
func (e enumVariables) exact(typ *ast.Type, v any, path ast.Path) *gqlerror.Error {
	if v == nil {
		return nil
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return e.exact(typ.Elem, v, path) // one value for a list of one
		}
		for i, item := range list {
			if err := e.exact(typ.Elem, item, append(slices.Clip(path), ast.PathIndex(i))); err != nil {
				return err
			}
		}
		return nil
	}
	def := e.schema.Types[typ.NamedType]
	switch {
	case def == nil:
	case def.Kind == ast.Enum:
		if s, ok := v.(string); ok && def.EnumValues.ForName(s) == nil {
			// Said without the value sent (variableMessage).
			return &gqlerror.Error{Message: "is not a value of the enum " + def.Name, Path: path}
		}
	case def.Kind == ast.InputObject:
		fields, _ := v.(map[string]any)
		for _, f := range def.Fields {
			if fv, ok := fields[f.Name]; ok {
				if err := e.exact(f.Type, fv, append(slices.Clip(path), ast.PathName(f.Name))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
