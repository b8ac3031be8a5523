package cost

import (
	"reflect"
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// WithDefaultPages returns doc and op with `first: DefaultPage` on every
// connection asked for without first or last (or with both null), so that
// nested connections obey the default page as root ones do: the resolvers
// and the eager loading that fetches nested edges read the page size from
// the document, and without one they would load every row.
//
// It also writes a connection's orderBy of one term, where the argument
// is a list, as the list of that term (GraphQL's input coercion), in the
// document and in vars (Report.OrderingTerms). The resolvers' arguments
// are coerced by gqlgen, but the eager loading of a nested connection
// reads the orderBy as the document and the variables hold it, and takes
// only a list ([]any): one term, without brackets or from a variable
// (which gqlparser coerces to a slice of the term's own type), was
// ignored, and the page came in the order of ids under cursors naming
// the ordering asked, until 2026-12-07 (eighteenth session).
//
// doc is shared by every request that sends the same text (it is cached),
// so it is never changed: the operation and the fragments are copied.
// vars are the request's own.
func WithDefaultPages(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any, l Limits) (*ast.QueryDocument, *ast.OperationDefinition) {
	c := pageCopier{vars: vars, first: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(l.DefaultPage)}}
	out := *doc
	out.Fragments = make(ast.FragmentDefinitionList, len(doc.Fragments))
	for i, f := range doc.Fragments {
		cf := *f
		out.Fragments[i] = &cf
	}
	// Spreads point at the copies, once they all exist.
	c.fragments = out.Fragments
	for _, f := range out.Fragments {
		f.SelectionSet = c.set(f.SelectionSet)
	}
	out.Operations = make(ast.OperationList, len(doc.Operations))
	var newOp *ast.OperationDefinition
	for i, o := range doc.Operations {
		if o != op {
			out.Operations[i] = o
			continue
		}
		co := *o
		co.SelectionSet = c.set(o.SelectionSet)
		out.Operations[i] = &co
		newOp = &co
	}
	return &out, newOp
}

type pageCopier struct {
	vars      map[string]any
	first     *ast.Value
	fragments ast.FragmentDefinitionList
}

func (c pageCopier) set(set ast.SelectionSet) ast.SelectionSet {
	if set == nil {
		return nil
	}
	out := make(ast.SelectionSet, len(set))
	for i, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			f := *sel
			f.SelectionSet = c.set(sel.SelectionSet)
			if f.Definition != nil && paginated(f.Definition) && !hasPage(sel, c.vars) {
				args := make(ast.ArgumentList, 0, len(sel.Arguments)+1)
				for _, a := range sel.Arguments {
					if a.Name != "first" && a.Name != "last" {
						args = append(args, a)
					}
				}
				f.Arguments = append(args, &ast.Argument{Name: "first", Value: c.first, Position: sel.Position})
			}
			if f.Definition != nil && paginated(f.Definition) && orderingTerm(sel, c.vars) {
				f.Arguments = c.orderingAsList(f.Arguments)
			}
			out[i] = &f
		case *ast.InlineFragment:
			inl := *sel
			inl.SelectionSet = c.set(sel.SelectionSet)
			out[i] = &inl
		case *ast.FragmentSpread:
			sp := *sel
			if def := c.fragments.ForName(sel.Name); def != nil {
				sp.Definition = def
			}
			out[i] = &sp
		default:
			out[i] = sel
		}
	}
	return out
}

// hasPage reports whether a connection field names a page size that is
// not null.
func hasPage(f *ast.Field, vars map[string]any) bool {
	for _, name := range []string{"first", "last"} {
		if a := f.Arguments.ForName(name); a != nil {
			if v, err := a.Value.Value(vars); err == nil && v != nil {
				return true
			}
		}
	}
	return false
}

// orderingTerm reports whether the orderBy of the connection field f is
// one term where the argument is a list: a literal object, or a variable
// whose value is not a list of any ([]any, what a list in the document or
// in JSON is).
func orderingTerm(f *ast.Field, vars map[string]any) bool {
	def := f.Definition.Arguments.ForName("orderBy")
	arg := f.Arguments.ForName("orderBy")
	if def == nil || def.Type.Elem == nil || arg == nil {
		return false
	}
	switch arg.Value.Kind {
	case ast.ObjectValue:
		return true
	case ast.Variable:
		v := vars[arg.Value.Raw]
		_, isList := v.([]any)
		return v != nil && !isList
	}
	return false
}

// orderingAsList returns args with an orderBy of one term as the list of
// it: a literal wrapped in a list, a variable's value made a list in vars.
func (c pageCopier) orderingAsList(args ast.ArgumentList) ast.ArgumentList {
	out := make(ast.ArgumentList, len(args))
	for i, a := range args {
		out[i] = a
		if a.Name != "orderBy" {
			continue
		}
		switch a.Value.Kind {
		case ast.ObjectValue:
			list := &ast.Value{Kind: ast.ListValue, Position: a.Value.Position,
				Children: ast.ChildValueList{{Value: a.Value, Position: a.Value.Position}}}
			out[i] = &ast.Argument{Name: a.Name, Value: list, Position: a.Position}
		case ast.Variable:
			c.vars[a.Value.Raw] = listOf(c.vars[a.Value.Raw])
		}
	}
	return out
}

// listOf is v as a list of any: the elements of a slice of any type, or
// v alone.
func listOf(v any) []any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return []any{v}
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out
}
