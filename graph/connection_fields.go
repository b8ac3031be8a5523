package graph

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/apperr"
)

// pagedFieldsOnce is how connectionArguments (cursors.go) refuses, before
// anything runs, a connection's edges, or an edge's node, asked under two
// names in one selection (`a: edges b: edges`). ent loads one page of
// records for each connection a client names, finding its edges and nodes
// by their field name (whatever alias each has:
// ent/template/gql_pagination.tmpl), and eager-loads the connections
// nested in the first edges it finds: under a second name the nested
// connections were answered from the first's page, which another page size
// or filter of the same alias made a wrong page. One name for each is every
// answer a client needs; aliases of totalCount, pageInfo and cursor, which
// load nothing, are answered under as many names as asked.
//
// It checks one selection as the answer merges it: group is
// the selection sets of the fields answered under one name (`cases { edges }
// cases { a: edges }` is one connection asking edges under two names), with
// their fragments spread. Each field as expanded is visited once, so the
// work is bounded by the fields the cost model allows (cost.CheckShape).
// path is the answer's path to the selection (aliases), for the error.
func pagedFieldsOnce(group []ast.SelectionSet, path string) *apperr.Error {
	answeredAs := map[string]string{} // edges or node → the name it is answered under
	var keys []string
	under := map[string][]ast.SelectionSet{}
	var err *apperr.Error
	collect := func(sel *ast.Field) {
		key := responseKey(sel)
		if loadsPage(sel) {
			if first, asked := answeredAs[sel.Name]; !asked {
				answeredAs[sel.Name] = key
			} else if first != key && err == nil {
				err = apperr.InvalidField(path+"."+sel.Name, "%s of %s is asked for under two names, %q and %q: ask for a connection's edges, and an edge's node, under one name.",
					sel.Name, path, truncate(first, 60), truncate(key, 60))
				// Where it is asked for under its second name.
				err.At = apperr.LocationOf(sel.Position)
			}
		}
		if _, seen := under[key]; !seen {
			keys = append(keys, key)
		}
		under[key] = append(under[key], sel.SelectionSet)
	}
	for _, set := range group {
		eachField(set, collect)
	}
	for _, key := range keys {
		if err != nil {
			break
		}
		if sets := under[key]; hasSelections(sets) {
			err = pagedFieldsOnce(sets, strings.TrimPrefix(path+"."+key, "."))
		}
	}
	return err
}

// loadsPage reports whether f is a connection's edges or an edge's node:
// the fields ent loads a page's records for.
func loadsPage(f *ast.Field) bool {
	obj := f.ObjectDefinition
	if obj == nil {
		return false
	}
	switch f.Name {
	case "edges":
		return obj.Fields.ForName("pageInfo") != nil
	case "node":
		return obj.Fields.ForName("cursor") != nil
	}
	return false
}

func hasSelections(sets []ast.SelectionSet) bool {
	for _, s := range sets {
		if len(s) > 0 {
			return true
		}
	}
	return false
}

// eachField calls f with each field of set, through its inline fragments
// and the fragments it spreads, in the document's order: the fields gqlgen
// collects under set's response keys, before @skip, @include and type
// conditions are applied (validation has refused fragments that spread
// themselves). One walk for the checks that merge a selection as the
// answer does and for where an error points (fieldAt).
func eachField(set ast.SelectionSet, f func(*ast.Field)) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			f(sel)
		case *ast.InlineFragment:
			eachField(sel.SelectionSet, f)
		case *ast.FragmentSpread:
			if sel.Definition != nil {
				eachField(sel.Definition.SelectionSet, f)
			}
		}
	}
}

// responseKey is the name f is answered under: its alias, or its name.
func responseKey(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}
