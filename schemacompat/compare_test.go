package schemacompat

import (
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

func load(t *testing.T, sdl string) *ast.Schema {
	t.Helper()
	s, err := Parse("test.graphql", []byte(sdl))
	if err != nil {
		t.Fatalf("%v\n%s", err, sdl)
	}
	return s
}

// TestCompare has one row a rule: two tiny schemas, and every change
// between them as Compare says it.
func TestCompare(t *testing.T) {
	const q = "type Query { a: Int }\n"
	for _, c := range []struct {
		rule     string
		old, new string
		want     []string
	}{
		{"nothing changed", q + "enum E { A }", q + "enum E { A }", nil},
		{"type removed", q + "type T { a: Int }", q, []string{"BREAKING: Object T removed"}},
		{"type added", q, q + "scalar S", []string{"SAFE: Scalar S added"}},
		{"type changed kind", q + "type T { a: Int }", q + "input T { a: Int }", []string{"BREAKING: Object T changed kind to Input"}},

		{"field removed from an object", "type Query { a: Int b: Int }", q, []string{"BREAKING: Query.b removed"}},
		{"field removed from an interface", q + "interface I { a: Int b: Int }", q + "interface I { a: Int }", []string{"BREAKING: I.b removed"}},
		{"field removed from an input", q + "input In { a: Int b: Int }", q + "input In { a: Int }", []string{"BREAKING: In.b removed"}},
		{"field added", q, "type Query { a: Int b: Int }", []string{"SAFE: Query.b added"}},

		{"output made non-null", q, "type Query { a: Int! }", []string{"SAFE: Query.a type changed from Int to Int!"}},
		{"output made nullable", "type Query { a: Int! }", q, []string{"BREAKING: Query.a type changed from Int! to Int"}},
		{"output list to its element", "type Query { a: [Int] }", q, []string{"BREAKING: Query.a type changed from [Int] to Int"}},
		{"output element made non-null", "type Query { a: [Int] }", "type Query { a: [Int!] }", []string{"SAFE: Query.a type changed from [Int] to [Int!]"}},
		{"output element made nullable", "type Query { a: [Int!] }", "type Query { a: [Int] }", []string{"BREAKING: Query.a type changed from [Int!] to [Int]"}},
		{"output type renamed", q, "type Query { a: Float }", []string{"BREAKING: Query.a type changed from Int to Float"}},

		{"argument removed", "type Query { a(x: Int): Int }", q, []string{"BREAKING: Query.a(x:) removed"}},
		{"argument made optional", "type Query { a(x: Int!): Int }", "type Query { a(x: Int): Int }", []string{"SAFE: Query.a(x:) type changed from Int! to Int"}},
		{"argument made required", "type Query { a(x: Int): Int }", "type Query { a(x: Int!): Int }", []string{"BREAKING: Query.a(x:) type changed from Int to Int!"}},
		{"argument list to its element", "type Query { a(x: [Int]): Int }", "type Query { a(x: Int): Int }", []string{"BREAKING: Query.a(x:) type changed from [Int] to Int"}},
		{"required argument added", q, "type Query { a(x: Int!): Int }", []string{"BREAKING: Query.a(x:) added, required (Int! without a default)"}},
		{"required argument added with a default", q, "type Query { a(x: Int! = 1): Int }", []string{"SAFE: Query.a(x:) added"}},
		{"optional argument added", q, "type Query { a(x: Int): Int }", []string{"SAFE: Query.a(x:) added"}},
		{"argument default changed", "type Query { a(x: Int = 1): Int }", "type Query { a(x: Int = 2): Int }", []string{"DANGEROUS: Query.a(x:) default changed from 1 to 2"}},

		{"input field made required", q + "input In { a: Int }", q + "input In { a: Int! }", []string{"BREAKING: In.a type changed from Int to Int!"}},
		{"input field made optional", q + "input In { a: Int! }", q + "input In { a: Int }", []string{"SAFE: In.a type changed from Int! to Int"}},
		{"required input field added", q + "input In { a: Int }", q + "input In { a: Int b: String! }", []string{"BREAKING: In.b added, required (String! without a default)"}},
		{"required input field added with a default", q + "input In { a: Int }", q + `input In { a: Int b: String! = "x" }`, []string{"SAFE: In.b added"}},
		{"optional input field added", q + "input In { a: Int }", q + "input In { a: Int b: String }", []string{"SAFE: In.b added"}},
		{"input field default removed", q + "input In { a: Int = 3 }", q + "input In { a: Int }", []string{"DANGEROUS: In.a default 3 removed"}},

		{"enum value removed", q + "enum CaseStage { OPEN FINAL }", q + "enum CaseStage { OPEN }", []string{"BREAKING: Enum CaseStage.FINAL removed"}},
		{"enum value added", q + "enum E { A }", q + "enum E { A B }", []string{"DANGEROUS: Enum E.B added (a client that reads the enum in an output may not handle it)"}},

		{"union member removed", q + "type A { a: Int } type B { b: Int } union U = A | B", q + "type A { a: Int } type B { b: Int } union U = A", []string{"BREAKING: Union U no longer includes B"}},
		{"union member added", q + "type A { a: Int } type B { b: Int } union U = A", q + "type A { a: Int } type B { b: Int } union U = A | B", []string{"DANGEROUS: Union U includes B (a client that switches over its members meets a new one)"}},
		{"interface removed from an object", q + "interface I { a: Int } type T implements I { a: Int }", q + "interface I { a: Int } type T { a: Int }", []string{"BREAKING: Object T no longer implements I"}},
		{"interface added to an object", q + "interface I { a: Int } type T { a: Int }", q + "interface I { a: Int } type T implements I { a: Int }", []string{"DANGEROUS: Object T implements I (a client that switches over the implementations of I meets a new one)"}},

		{"directive removed", q + "directive @d on FIELD_DEFINITION", q, []string{"BREAKING: @d removed"}},
		{"directive added", q, q + "directive @d on FIELD_DEFINITION", []string{"SAFE: @d added"}},
		{"directive argument made required", q + "directive @d(x: Int) on FIELD_DEFINITION", q + "directive @d(x: Int!) on FIELD_DEFINITION", []string{"BREAKING: @d(x:) type changed from Int to Int!"}},
		{"directive argument removed", q + "directive @d(x: Int) on FIELD_DEFINITION", q + "directive @d on FIELD_DEFINITION", []string{"BREAKING: @d(x:) removed"}},
		{"required directive argument added", q + "directive @d on FIELD_DEFINITION", q + "directive @d(x: Int!) on FIELD_DEFINITION", []string{"BREAKING: @d(x:) added, required (Int! without a default)"}},
		{"directive location removed", q + "directive @d on FIELD_DEFINITION | OBJECT", q + "directive @d on FIELD_DEFINITION", []string{"BREAKING: @d no longer allowed on OBJECT"}},

		{"directive made repeatable", q + "directive @d on FIELD_DEFINITION", q + "directive @d repeatable on FIELD_DEFINITION", []string{"SAFE: @d made repeatable"}},
		{"directive no longer repeatable", q + "directive @d repeatable on FIELD_DEFINITION", q + "directive @d on FIELD_DEFINITION", []string{"BREAKING: @d no longer repeatable"}},
		{"directive location added", q + "directive @d on FIELD_DEFINITION", q + "directive @d on FIELD_DEFINITION | OBJECT", []string{"SAFE: @d allowed on OBJECT"}},

		{"query root changed", "schema { query: Q } type Q { a: Int } type R { a: Int }", "schema { query: R } type Q { a: Int } type R { a: Int }", []string{"BREAKING: Schema query root changed from Q to R"}},
		{"mutation root removed", q + "type M { a: Int } schema { query: Query mutation: M }", q + "type M { a: Int }", []string{"BREAKING: Schema mutation root M removed"}},
		{"mutation root added", q + "type M { a: Int }", q + "type M { a: Int } schema { query: Query mutation: M }", []string{"SAFE: Schema mutation root M added"}},

		{"input made @oneOf", q + "input In { a: Int b: Int }", q + "input In @oneOf { a: Int b: Int }", []string{"BREAKING: Input In made @oneOf (a value with two of its fields, or none, is refused)"}},
		{"input no longer @oneOf", q + "input In @oneOf { a: Int b: Int }", q + "input In { a: Int b: Int }", []string{"SAFE: Input In no longer @oneOf"}},

		{"directive put on a field", q + "directive @d(c: String) on FIELD_DEFINITION", q + `directive @d(c: String) on FIELD_DEFINITION type T { a: Int @d(c: "x") }`, []string{"SAFE: Object T added"}},
		{"directive used on a field added", q + "directive @d(c: String) on FIELD_DEFINITION type T { a: Int }", q + `directive @d(c: String) on FIELD_DEFINITION type T { a: Int @d(c: "x") }`, []string{`DANGEROUS: T.a now @d(c: "x")`}},
		{"directive used on a field removed", q + `directive @d on FIELD_DEFINITION type T { a: Int @d }`, q + "directive @d on FIELD_DEFINITION type T { a: Int }", []string{"DANGEROUS: T.a no longer @d"}},
		{"directive used on a field given another argument", q + `directive @d(c: String) on FIELD_DEFINITION type T { a: Int @d(c: "x") }`, q + `directive @d(c: String) on FIELD_DEFINITION type T { a: Int @d(c: "y") }`, []string{`DANGEROUS: T.a no longer @d(c: "x")`, `DANGEROUS: T.a now @d(c: "y")`}},
		{"directive used on a type added", q + "directive @d on OBJECT type T { a: Int }", q + "directive @d on OBJECT type T @d { a: Int }", []string{"DANGEROUS: Object T now @d"}},
		{"directive used on an argument added", q + "directive @d on ARGUMENT_DEFINITION type T { a(x: Int): Int }", q + "directive @d on ARGUMENT_DEFINITION type T { a(x: Int @d): Int }", []string{"DANGEROUS: T.a(x:) now @d"}},

		{"field deprecated", q, `type Query { a: Int @deprecated(reason: "b") }`, []string{"SAFE: Query.a deprecated"}},
		{"enum value deprecated", q + "enum E { A B }", q + "enum E { A B @deprecated }", []string{"SAFE: Enum E.B deprecated"}},
		{"deprecation removed", `type Query { a: Int @deprecated }`, q, []string{"SAFE: Query.a no longer deprecated"}},
		{"description changed", q, `type Query { "the a" a: Int }`, nil},
	} {
		t.Run(c.rule, func(t *testing.T) {
			var got []string
			for _, ch := range Compare(load(t, c.old), load(t, c.new)) {
				got = append(got, ch.String())
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("from\n\t%s\nto\n\t%s\ngot  %q\nwant %q", c.old, c.new, got, c.want)
			}
		})
	}
}

// TestCompareOrder checks that changes come sorted by path, whatever the
// schemas' order, so that the generator's refusal reads the same each time.
func TestCompareOrder(t *testing.T) {
	got := Compare(
		load(t, "type Query { z: Int a: Int } enum E { A B }"),
		load(t, "type Query { q: Int } enum E { C }"),
	)
	var paths []string
	for _, c := range got {
		paths = append(paths, c.Text())
	}
	want := []string{"Enum E.A removed", "Enum E.B removed", "Enum E.C added (a client that reads the enum in an output may not handle it)", "Query.a removed", "Query.q added", "Query.z removed"}
	if !slices.Equal(paths, want) {
		t.Errorf("got  %q\nwant %q", paths, want)
	}
}
