package graph

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
)

// TestAnswerBytesAsJSONHasThem: every value that can be long is counted
// against the answer's size as the bytes its JSON takes (texts, lists of
// ids, numbers, enumeration values, lists of lists), never more (a text's
// escapes are not counted), and an object or a lone number is left to the
// fields budget. An audit event's entities ([]int) and a policy change's
// lines ([][]string) were not counted at all: twenty aliases of entities
// built a 33 MB answer before it was refused.
func TestAnswerBytesAsJSONHasThem(t *testing.T) {
	listOf := func(name string) context.Context {
		return graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{
			Definition: &ast.FieldDefinition{Type: ast.NonNullListType(ast.NonNullNamedType(name, nil), nil)},
		}}})
	}
	note := "a note"
	for _, c := range []struct {
		name  string
		ctx   context.Context
		value any
		json  any // what the answer writes
		exact bool
	}{
		{"a text", listOf("String"), "Tiranë", "Tiranë", true},
		{"a text to escape", listOf("String"), `a "quoted" word`, `a "quoted" word`, false},
		{"an optional text", listOf("String"), &note, note, true},
		{"texts", listOf("String"), []string{"Victim.legalName", "Victim.healthNotes"}, []string{"Victim.legalName", "Victim.healthNotes"}, true},
		{"ids", listOf("ID"), []int{7, 42, 123456}, []string{"7", "42", "123456"}, true},
		{"whole numbers", listOf("Int"), []int{7, 42, 123456}, []int{7, 42, 123456}, true},
		{"lists of texts", listOf("String"), [][]string{{"p", "police", "Victim:IDENTITY"}, {"g", "alice", "police"}},
			[][]string{{"p", "police", "Victim:IDENTITY"}, {"g", "alice", "police"}}, true},
		{"enumeration values", listOf("Region"), []domain.Region{"TIRANE", "DURRES"}, []string{"TIRANE", "DURRES"}, true},
		{"optional texts", listOf("String"), []*string{nil, &note}, []*string{nil, &note}, true},
		{"numbers", listOf("Float"), []float64{0.5, 1e21, 3}, []float64{0.5, 1e21, 3}, true},
		{"flags", listOf("Boolean"), []bool{true, false}, []bool{true, false}, true},
		{"an empty list", listOf("ID"), []int{}, []int{}, true},
	} {
		want, err := json.Marshal(c.json)
		if err != nil {
			t.Fatal(err)
		}
		got := answerBytes(c.ctx, c.value)
		if got > len(want) || (c.exact && got != len(want)) {
			t.Errorf("%s: counted %d bytes, the answer writes %d (%s)", c.name, got, len(want), want)
		}
	}
	for _, objects := range []any{[]*ent.Victim{{}, {}}, &ent.Victim{}, 12, true, nil} {
		if n := answerBytes(listOf("Victim"), objects); n != 0 {
			t.Errorf("%T counted %d bytes; its fields are counted as they are resolved", objects, n)
		}
	}
}
