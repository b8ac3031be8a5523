package cost

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// WithDefaultPages returns doc and op with `first: DefaultPage` on every
// connection asked for without first or last (or with both null), so that
// nested connections obey the default page as root ones do: the resolvers
// and the eager loading that fetches nested edges read the page size from
// the document, and without one they would load every row.
//
// doc is shared by every request that sends the same text (it is cached),
// so it is never changed: the operation and the fragments are copied.
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
