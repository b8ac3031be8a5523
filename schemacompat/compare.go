// Package schemacompat is the GraphQL schema as published to clients (the
// contract agency integrators build against, schema.published.graphql) and
// what a change to it does to them: Compare lists the changes between two
// schemas, each BREAKING, DANGEROUS or SAFE as graphql-inspector classifies
// them; Print writes a schema in the published form; ReadAccepted reads the
// breaking changes accepted on purpose (docs/schema-changes.md).
// cmd/schemacontract, run by `make generate`, publishes with them.
package schemacompat

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Level is how a change affects a client written against the old schema.
type Level string

const (
	// Breaking: a query or mutation that worked may now fail to validate,
	// or a client may read a value it cannot handle (a null, a list).
	Breaking Level = "BREAKING"
	// Dangerous: every query still validates, but a client may see values
	// or behaviour it did not expect (a new enum value in an output, a
	// changed default).
	Dangerous Level = "DANGEROUS"
	// Safe: no client written against the old schema can tell.
	Safe Level = "SAFE"
)

// Change is one difference between two schemas.
type Change struct {
	Level Level
	// Path names what changed, stably: "Object Case", "Case.reference",
	// "Query.cases(where:)", "CaseWhereInput.region", "Enum CaseStage.FINAL",
	// "@sensitive(category:)".
	Path string
	// What says what happened to it: "removed", "type changed from String!
	// to String".
	What string
}

// Text is the change without its level, as docs/schema-changes.md lists
// an accepted one: "Enum CaseStage.FINAL removed".
func (c Change) Text() string { return c.Path + " " + c.What }

func (c Change) String() string { return string(c.Level) + ": " + c.Text() }

// Compare lists the changes from old to new, ordered by path.
func Compare(old, new *ast.Schema) []Change {
	var d diff
	for _, name := range names(old.Types, new.Types) {
		o, n := old.Types[name], new.Types[name]
		switch {
		case o != nil && o.BuiltIn || n != nil && n.BuiltIn:
			// The prelude's scalars and introspection types: the same
			// in every schema this parser reads.
		case n == nil:
			d.add(Breaking, typePath(o), "removed")
		case o == nil:
			d.add(Safe, typePath(n), "added")
		case o.Kind != n.Kind:
			d.add(Breaking, typePath(o), fmt.Sprintf("changed kind to %s", kindWord(n.Kind)))
		default:
			d.definition(o, n)
		}
	}
	d.roots(old, new)
	for _, name := range names(old.Directives, new.Directives) {
		d.directive(old.Directives[name], new.Directives[name])
	}
	slices.SortStableFunc(d.changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.What, b.What))
	})
	return d.changes
}

// BreakingOf is the breaking changes among changes.
func BreakingOf(changes []Change) []Change {
	var out []Change
	for _, c := range changes {
		if c.Level == Breaking {
			out = append(out, c)
		}
	}
	return out
}

type diff struct{ changes []Change }

func (d *diff) add(l Level, path, what string) {
	d.changes = append(d.changes, Change{l, path, what})
}

// roots compares the operation types: a client's operation names no type,
// so a root that is another type, or none, is another API even when every
// type is the same (until 2026-12-07, nineteenth session, not compared).
func (d *diff) roots(old, new *ast.Schema) {
	for _, r := range []struct {
		operation string
		o, n      *ast.Definition
	}{{"query", old.Query, new.Query}, {"mutation", old.Mutation, new.Mutation}, {"subscription", old.Subscription, new.Subscription}} {
		path := "Schema " + r.operation
		switch {
		case r.o == nil && r.n == nil:
		case r.n == nil:
			d.add(Breaking, path, "root "+r.o.Name+" removed")
		case r.o == nil:
			d.add(Safe, path, "root "+r.n.Name+" added")
		case r.o.Name != r.n.Name:
			d.add(Breaking, path, "root changed from "+r.o.Name+" to "+r.n.Name)
		}
	}
}

// definition compares two types of the same name and kind.
func (d *diff) definition(o, n *ast.Definition) {
	d.usages(typePath(o), o.Directives, n.Directives)
	switch o.Kind {
	case ast.Object, ast.Interface:
		d.outputFields(o, n)
		for _, name := range added(n.Interfaces, o.Interfaces) {
			d.add(Dangerous, typePath(n), "implements "+name+
				" (a client that switches over the implementations of "+name+" meets a new one)")
		}
		for _, name := range added(o.Interfaces, n.Interfaces) {
			d.add(Breaking, typePath(o), "no longer implements "+name)
		}
	case ast.InputObject:
		d.inputFields(o.Name, o.Fields, n.Fields)
		d.oneOf(o, n)
	case ast.Enum:
		for _, v := range o.EnumValues {
			path := typePath(o) + "." + v.Name
			nv := n.EnumValues.ForName(v.Name)
			if nv == nil {
				d.add(Breaking, path, "removed")
				continue
			}
			d.deprecation(path, v.Directives, nv.Directives)
		}
		for _, v := range n.EnumValues {
			if o.EnumValues.ForName(v.Name) == nil {
				d.add(Dangerous, typePath(n)+"."+v.Name,
					"added (a client that reads the enum in an output may not handle it)")
			}
		}
	case ast.Union:
		for _, name := range added(o.Types, n.Types) {
			d.add(Breaking, typePath(o), "no longer includes "+name)
		}
		for _, name := range added(n.Types, o.Types) {
			d.add(Dangerous, typePath(n), "includes "+name+" (a client that switches over its members meets a new one)")
		}
	}
}

// outputFields compares the fields of an object or interface.
func (d *diff) outputFields(o, n *ast.Definition) {
	for _, f := range o.Fields {
		if strings.HasPrefix(f.Name, "__") {
			continue
		}
		path := o.Name + "." + f.Name
		nf := n.Fields.ForName(f.Name)
		if nf == nil {
			d.add(Breaking, path, "removed")
			continue
		}
		if !outputCompatible(f.Type, nf.Type) {
			d.add(Breaking, path, typeChange(f.Type, nf.Type))
		} else if f.Type.String() != nf.Type.String() {
			d.add(Safe, path, typeChange(f.Type, nf.Type))
		}
		d.arguments(path, f.Arguments, nf.Arguments)
		d.deprecation(path, f.Directives, nf.Directives)
	}
	for _, f := range n.Fields {
		if o.Fields.ForName(f.Name) == nil && !strings.HasPrefix(f.Name, "__") {
			d.add(Safe, n.Name+"."+f.Name, "added")
		}
	}
}

// arguments compares the arguments of a field or directive at path.
func (d *diff) arguments(path string, o, n ast.ArgumentDefinitionList) {
	d.inputs(func(name string) string { return path + "(" + name + ":)" }, inputsOf(o), inputsOf(n))
}

// inputFields compares the fields of an input object named name.
func (d *diff) inputFields(name string, o, n ast.FieldList) {
	d.inputs(func(field string) string { return name + "." + field }, inputsOf(o), inputsOf(n))
}

// input is what a client sends a value to: an argument or an input
// object's field, which break clients by the same rules.
type input struct {
	name       string
	typ        *ast.Type
	defaultsTo *ast.Value
	directives ast.DirectiveList
}

func inputsOf[D *ast.ArgumentDefinition | *ast.FieldDefinition](list []D) []input {
	out := make([]input, len(list))
	for i, x := range list {
		switch x := any(x).(type) {
		case *ast.ArgumentDefinition:
			out[i] = input{x.Name, x.Type, x.DefaultValue, x.Directives}
		case *ast.FieldDefinition:
			out[i] = input{x.Name, x.Type, x.DefaultValue, x.Directives}
		}
	}
	return out
}

// inputs compares the inputs o and n, each at the path pathOf gives.
func (d *diff) inputs(pathOf func(string) string, o, n []input) {
	find := func(list []input, name string) *input {
		for i := range list {
			if list[i].name == name {
				return &list[i]
			}
		}
		return nil
	}
	for _, a := range o {
		p := pathOf(a.name)
		na := find(n, a.name)
		if na == nil {
			d.add(Breaking, p, "removed")
			continue
		}
		d.input(p, a.typ, na.typ, a.defaultsTo, na.defaultsTo)
		d.deprecation(p, a.directives, na.directives)
	}
	for _, a := range n {
		if find(o, a.name) == nil {
			d.inputAdded(pathOf(a.name), a.typ, a.defaultsTo)
		}
	}
}

// input compares an argument or input field that both schemas have.
func (d *diff) input(path string, o, n *ast.Type, od, nd *ast.Value) {
	if !inputCompatible(o, n) {
		d.add(Breaking, path, typeChange(o, n))
	} else if o.String() != n.String() {
		d.add(Safe, path, typeChange(o, n))
	}
	switch {
	case od == nil && nd == nil:
	case od == nil:
		d.add(Dangerous, path, "default "+nd.String()+" added")
	case nd == nil:
		d.add(Dangerous, path, "default "+od.String()+" removed")
	case od.String() != nd.String():
		d.add(Dangerous, path, "default changed from "+od.String()+" to "+nd.String())
	}
}

// inputAdded classifies a new argument or input field: one a client must
// now send breaks every request written without it.
func (d *diff) inputAdded(path string, t *ast.Type, def *ast.Value) {
	if t.NonNull && def == nil {
		d.add(Breaking, path, "added, required ("+t.String()+" without a default)")
	} else {
		d.add(Safe, path, "added")
	}
}

// deprecation notes @deprecated added or removed: safe either way, and
// worth telling integrators; and the other directives used at path
// (usages).
func (d *diff) deprecation(path string, o, n ast.DirectiveList) {
	d.usages(path, o, n)
	od, nd := o.ForName("deprecated"), n.ForName("deprecated")
	switch {
	case od == nil && nd != nil:
		d.add(Safe, path, "deprecated")
	case od != nil && nd == nil:
		d.add(Safe, path, "no longer deprecated")
	}
}

// ownRules is the directives whose use a rule of its own classifies.
var ownRules = []string{"deprecated", "oneOf"}

// usages compares the directives used on one thing (a type, field,
// argument or enum value), other than those of ownRules. What a use says
// is part of the contract: @sensitive or @allowed put on a field tells
// that it may now come back null with FORBIDDEN, so a use added, removed
// or given other arguments is DANGEROUS: every document still validates,
// and a client may see an answer it did not (until 2026-12-07, nineteenth
// session, not compared).
func (d *diff) usages(path string, o, n ast.DirectiveList) {
	text := func(dir *ast.Directive) string {
		var b strings.Builder
		b.WriteString("@" + dir.Name)
		if len(dir.Arguments) > 0 {
			args := make([]string, len(dir.Arguments))
			for i, a := range dir.Arguments {
				args[i] = a.Name + ": " + a.Value.String()
			}
			slices.Sort(args)
			b.WriteString("(" + strings.Join(args, ", ") + ")")
		}
		return b.String()
	}
	set := func(list ast.DirectiveList) []string {
		var out []string
		for _, dir := range list {
			if !slices.Contains(ownRules, dir.Name) {
				out = append(out, text(dir))
			}
		}
		slices.Sort(out)
		return out
	}
	before, after := set(o), set(n)
	for _, u := range added(before, after) {
		d.add(Dangerous, path, "no longer "+u)
	}
	for _, u := range added(after, before) {
		d.add(Dangerous, path, "now "+u)
	}
}

// oneOf compares @oneOf on an input: one that becomes @oneOf refuses what a
// client sent with two of its fields, or none; one that no longer is
// accepts all it did (until 2026-12-07, nineteenth session, not compared).
func (d *diff) oneOf(o, n *ast.Definition) {
	was, is := o.Directives.ForName("oneOf") != nil, n.Directives.ForName("oneOf") != nil
	switch {
	case !was && is:
		d.add(Breaking, typePath(o), "made @oneOf (a value with two of its fields, or none, is refused)")
	case was && !is:
		d.add(Safe, typePath(o), "no longer @oneOf")
	}
}

// directive compares a directive's definitions; either may be nil.
func (d *diff) directive(o, n *ast.DirectiveDefinition) {
	switch {
	case builtIn(o) || builtIn(n):
		// @deprecated, @include…: the prelude's, in every schema.
	case n == nil:
		d.add(Breaking, "@"+o.Name, "removed")
	case o == nil:
		d.add(Safe, "@"+n.Name, "added")
	default:
		d.arguments("@"+o.Name, o.Arguments, n.Arguments)
		for _, l := range o.Locations {
			if !slices.Contains(n.Locations, l) {
				d.add(Breaking, "@"+o.Name, "no longer allowed on "+string(l))
			}
		}
		for _, l := range n.Locations {
			if !slices.Contains(o.Locations, l) {
				d.add(Safe, "@"+n.Name, "allowed on "+string(l))
			}
		}
		// A document that used it twice in one place no longer validates
		// (until 2026-12-07, nineteenth session, not compared).
		switch {
		case o.IsRepeatable && !n.IsRepeatable:
			d.add(Breaking, "@"+o.Name, "no longer repeatable")
		case !o.IsRepeatable && n.IsRepeatable:
			d.add(Safe, "@"+n.Name, "made repeatable")
		}
	}
}

// outputCompatible says whether a client that read a value of type o can
// read one of type n: the same type, or one that promises more (T to T!),
// at every level of lists.
func outputCompatible(o, n *ast.Type) bool {
	if o.NonNull && !n.NonNull {
		return false
	}
	return sameShape(o, n, outputCompatible)
}

// inputCompatible says whether every value a client sent as type o is
// still accepted as type n: the same type, or one that asks less (T! to T).
func inputCompatible(o, n *ast.Type) bool {
	if n.NonNull && !o.NonNull {
		return false
	}
	return sameShape(o, n, inputCompatible)
}

// sameShape says whether o and n are both the same named type, or both
// lists whose elements are compatible.
func sameShape(o, n *ast.Type, compatible func(o, n *ast.Type) bool) bool {
	if (o.Elem == nil) != (n.Elem == nil) {
		return false
	}
	if o.Elem != nil {
		return compatible(o.Elem, n.Elem)
	}
	return o.NamedType == n.NamedType
}

func builtIn(d *ast.DirectiveDefinition) bool {
	return d != nil && d.Position != nil && d.Position.Src != nil && d.Position.Src.BuiltIn
}

func typeChange(o, n *ast.Type) string {
	return "type changed from " + o.String() + " to " + n.String()
}

// typePath names a type with its kind: "Enum CaseStage".
func typePath(def *ast.Definition) string { return kindWord(def.Kind) + " " + def.Name }

func kindWord(k ast.DefinitionKind) string {
	if k == ast.InputObject {
		return "Input"
	}
	return string(k[0]) + strings.ToLower(string(k[1:]))
}

// names is the keys of both maps, sorted.
func names[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// added is the names in n that o lacks.
func added(n, o []string) []string {
	var out []string
	for _, name := range n {
		if !slices.Contains(o, name) {
			out = append(out, name)
		}
	}
	return out
}
