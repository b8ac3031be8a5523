package leaktest_test

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/graph"
)

// The queries of the generated battery are derived from the executable
// schema, not written by hand: every root field, every field of an object
// that returns an object, a list of objects or a connection (an edge), and
// every field marked @sensitive. A new edge is covered the day it is added;
// a field this walk cannot call (a required argument it has no value for)
// and that reaches sensitive data fails the test instead of being skipped.

// servedSchema is the schema the server executes.
var servedSchema = graph.NewExecutableSchema(graph.Config{}).Schema()

// sensitive lists every field marked @sensitive and its category, by type:
// "Victim" → "legalName" → "IDENTITY".
var sensitive = sensitiveFields(servedSchema)

func sensitiveFields(s *ast.Schema) map[string]map[string]string {
	out := map[string]map[string]string{}
	for name, def := range s.Types {
		if def.Kind != ast.Object || strings.HasPrefix(name, "__") {
			continue
		}
		for _, f := range def.Fields {
			d := f.Directives.ForName("sensitive")
			if d == nil {
				continue
			}
			if out[name] == nil {
				out[name] = map[string]string{}
			}
			out[name][f.Name] = d.Arguments.ForName("category").Value.Raw
		}
	}
	return out
}

// sensitiveTypes are the types with a sensitive field, sorted.
func sensitiveTypes() []string {
	out := make([]string, 0, len(sensitive))
	for typ := range sensitive {
		out = append(out, typ)
	}
	sort.Strings(out)
	return out
}

// schemaEdge is a field of an object type that returns objects.
type schemaEdge struct {
	from, field string
	// to is the type of the objects it leads to (a connection's node).
	to string
	// connection: the field is a Relay connection, selected through
	// edges { node }; otherwise it returns an object or a list of them.
	connection bool
}

func (e schemaEdge) String() string { return e.from + "." + e.field }

// schemaWalk is the graph of types and edges of the served schema.
type schemaWalk struct {
	s     *ast.Schema
	edges map[string][]schemaEdge // by the type they leave
	// uncallable are fields with a required argument the walk has no value
	// for; Query.node and Query.nodes are asked separately, with ids.
	uncallable []schemaEdge
}

func walkSchema(s *ast.Schema) *schemaWalk {
	w := &schemaWalk{s: s, edges: map[string][]schemaEdge{}}
	var names []string
	for name, def := range s.Types {
		if def.Kind == ast.Object && !strings.HasPrefix(name, "__") && name != s.Mutation.Name {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		for _, f := range s.Types[name].Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			e, ok := w.edgeOf(name, f)
			if !ok {
				continue
			}
			if requiredArgument(f) {
				w.uncallable = append(w.uncallable, e)
				continue
			}
			w.edges[name] = append(w.edges[name], e)
		}
	}
	return w
}

// edgeOf says where field f of type from leads, if to objects.
func (w *schemaWalk) edgeOf(from string, f *ast.FieldDefinition) (schemaEdge, bool) {
	def := w.s.Types[f.Type.Name()]
	if def == nil || (def.Kind != ast.Object && def.Kind != ast.Interface) {
		return schemaEdge{}, false
	}
	e := schemaEdge{from: from, field: f.Name, to: def.Name}
	if edges := def.Fields.ForName("edges"); edges != nil && def.Fields.ForName("pageInfo") != nil {
		if node := w.s.Types[edges.Type.Name()].Fields.ForName("node"); node != nil {
			e.to, e.connection = node.Type.Name(), true
		}
	}
	return e, true
}

func requiredArgument(f *ast.FieldDefinition) bool {
	return slices.ContainsFunc(f.Arguments, func(a *ast.ArgumentDefinition) bool {
		return a.Type.NonNull && a.DefaultValue == nil
	})
}

// reaches reports whether a sensitive field is within depth edges of typ
// (on typ itself at depth 0).
func (w *schemaWalk) reaches(typ string, depth int) bool {
	if len(sensitive[typ]) > 0 {
		return true
	}
	if depth == 0 {
		return false
	}
	for _, e := range w.edges[typ] {
		if w.reaches(e.to, depth-1) {
			return true
		}
	}
	return false
}

// implementations are the object types implementing an interface.
func (w *schemaWalk) implementations(iface string) []string {
	var out []string
	for _, def := range w.s.PossibleTypes[iface] {
		out = append(out, def.Name)
	}
	sort.Strings(out)
	return out
}

// selection writes the selection set of typ that reads every sensitive
// field of typ and follows every edge still leading to one within depth
// edges. An interface is selected through each of its implementations.
// paths receives every path (Type.field/Type.field/…) the selection
// follows to a type with sensitive fields.
func (w *schemaWalk) selection(b *strings.Builder, typ string, depth int, path string, paths map[string]string) {
	def := w.s.Types[typ]
	b.WriteString("{ __typename")
	if def.Kind == ast.Interface {
		for _, impl := range w.implementations(typ) {
			if w.reaches(impl, depth) {
				b.WriteString(" ... on " + impl + " ")
				w.selection(b, impl, depth, path, paths)
			}
		}
		b.WriteString(" }")
		return
	}
	if def.Fields.ForName("id") != nil {
		b.WriteString(" id")
	}
	fields := sortedNames(sensitive[typ])
	for _, f := range fields {
		b.WriteString(" " + f)
	}
	if len(fields) > 0 && path != "" {
		paths[path] = typ
	}
	if depth == 0 {
		b.WriteString(" }")
		return
	}
	for _, e := range w.edges[typ] {
		if !w.reaches(e.to, depth-1) {
			continue
		}
		next := appendEdge(path, e)
		b.WriteString(" " + e.field)
		if e.connection {
			fmt.Fprintf(b, "(first: %d) { edges { node ", nestedPage)
			w.selection(b, e.to, depth-1, next, paths)
			b.WriteString(" } }")
			continue
		}
		b.WriteString(" ")
		w.selection(b, e.to, depth-1, next, paths)
	}
	b.WriteString(" }")
}

func appendEdge(path string, e schemaEdge) string {
	if path == "" {
		return e.String()
	}
	return path + "/" + e.String()
}

func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// Bounds of the generated battery. Every path of up to pathDepth edges
// below a root field is followed; a connection shows rootPage rows at the
// root and nestedPage below it. Deeper paths repeat the same edges.
const (
	pathDepth  = 3
	rootPage   = 10
	nestedPage = 2
)

// generatedQuery is one operation of the generated battery.
type generatedQuery struct {
	name, query string
	// typ: a nodes(ids:) query asks for rows of this type.
	typ string
}

// generatedQueries derives the battery from the schema: for every root
// field and every edge out of it, one query following every path of up to
// pathDepth edges to a sensitive field; and for every type implementing
// Node, one nodes(ids:) query from that type (ids are filled in per run).
// paths collects every path covered, so a test can show none is vacuous.
func (w *schemaWalk) generatedQueries(paths map[string]string) []generatedQuery {
	var out []generatedQuery
	query := w.s.Query.Name
	for _, root := range w.edges[query] {
		if !w.reaches(root.to, pathDepth) {
			continue
		}
		args := ""
		if root.connection {
			args = fmt.Sprintf("(first: %d)", rootPage)
		}
		open := func(b *strings.Builder) {
			b.WriteString("query { " + root.field + args + " ")
			if root.connection {
				b.WriteString("{ edges { node ")
			}
		}
		closeQ := func(b *strings.Builder) {
			if root.connection {
				b.WriteString(" } }")
			}
			b.WriteString(" }")
		}
		// The sensitive fields of the root's own rows, then one query per
		// edge out of them: a query per root would be too large to answer.
		if len(sensitive[root.to]) > 0 {
			var b strings.Builder
			open(&b)
			w.selection(&b, root.to, 0, root.String(), paths)
			closeQ(&b)
			out = append(out, generatedQuery{name: "generated " + root.String(), query: b.String()})
		}
		for _, e := range w.edges[root.to] {
			if !w.reaches(e.to, pathDepth-1) {
				continue
			}
			var b strings.Builder
			open(&b)
			b.WriteString("{ __typename")
			if w.s.Types[root.to].Fields.ForName("id") != nil {
				b.WriteString(" id")
			}
			b.WriteString(" " + e.field)
			if e.connection {
				fmt.Fprintf(&b, "(first: %d) { edges { node ", nestedPage)
			} else {
				b.WriteString(" ")
			}
			w.selection(&b, e.to, pathDepth-1, root.String()+"/"+e.String(), paths)
			if e.connection {
				b.WriteString(" } }")
			}
			b.WriteString(" }")
			closeQ(&b)
			out = append(out, generatedQuery{name: "generated " + root.String() + "/" + e.String(), query: b.String()})
		}
	}
	for _, typ := range w.implementations("Node") {
		if !w.reaches(typ, pathDepth) {
			continue
		}
		var b strings.Builder
		b.WriteString("query ($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on " + typ + " ")
		w.selection(&b, typ, pathDepth, "Query.nodes("+typ+")", paths)
		b.WriteString(" } }")
		out = append(out, generatedQuery{name: "generated Query.nodes(" + typ + ")", query: b.String(), typ: typ})
	}
	return out
}
