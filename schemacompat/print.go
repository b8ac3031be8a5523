package schemacompat

import (
	"bytes"
	"maps"
	"slices"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// Header opens the published file; a GraphQL comment, so that the file
// parses as it is.
const Header = `# The GraphQL schema CaseGraph serves: its contract with clients.
# Written by ` + "`make generate`" + ` (cmd/schemacontract) from schema.graphqls,
# statistics.graphqls and graph/ent.graphqls; do not edit. A breaking change
# is published only once docs/schema-changes.md lists it with a reason.

`

// internal is the directives that bind the schema to Go code for gqlgen
// (which Go type or field serves a type or field): what they say is the
// server's business, not a client's, so the contract leaves them out,
// their definitions and their uses alike.
var internal = []string{"goField", "goModel"}

// Print writes s as published: Header, then every directive and type that
// is not the specification's own, sorted by name and a blank line apart,
// fields in the order the schema declares them, descriptions included,
// without internal directives.
func Print(s *ast.Schema) []byte {
	p := published(s)
	var b bytes.Buffer
	b.WriteString(Header)
	// One definition at a time, which gqlparser's formatter prints in
	// its form (it prints a whole schema without a line between).
	each := []*ast.Schema{{Query: p.Query, Mutation: p.Mutation, Subscription: p.Subscription, SchemaDirectives: p.SchemaDirectives}}
	for _, name := range slices.Sorted(maps.Keys(p.Directives)) {
		each = append(each, &ast.Schema{Directives: map[string]*ast.DirectiveDefinition{name: p.Directives[name]}})
	}
	for _, name := range slices.Sorted(maps.Keys(p.Types)) {
		each = append(each, &ast.Schema{Types: map[string]*ast.Definition{name: p.Types[name]}})
	}
	sep := ""
	for _, one := range each {
		var def bytes.Buffer
		formatter.NewFormatter(&def, formatter.WithIndent("  ")).FormatSchema(one)
		if def.Len() > 0 {
			b.WriteString(sep)
			b.Write(def.Bytes())
			sep = "\n"
		}
	}
	return b.Bytes()
}

// Parse reads a schema as Print wrote it (or any schema document).
func Parse(name string, src []byte) (*ast.Schema, error) {
	return gqlparser.LoadSchema(&ast.Source{Name: name, Input: string(src)})
}

// published is a copy of s without the internal directives; s is not
// changed.
func published(s *ast.Schema) *ast.Schema {
	c := *s
	c.Directives = maps.Clone(s.Directives)
	for _, name := range internal {
		delete(c.Directives, name)
	}
	c.Types = make(map[string]*ast.Definition, len(s.Types))
	for name, def := range s.Types {
		d := *def
		d.Directives = public(def.Directives)
		d.Fields = make(ast.FieldList, len(def.Fields))
		for i, f := range def.Fields {
			nf := *f
			nf.Directives = public(f.Directives)
			d.Fields[i] = &nf
		}
		c.Types[name] = &d
	}
	return &c
}

// public is list without uses of the internal directives.
func public(list ast.DirectiveList) ast.DirectiveList {
	return slices.DeleteFunc(slices.Clone(list), func(d *ast.Directive) bool {
		return slices.Contains(internal, d.Name)
	})
}
