package schemacompat

import (
	"bytes"
	"strings"
	"testing"
)

// TestPrint checks the published form: the header, definitions sorted a
// blank line apart, gqlgen's Go bindings left out, and a text that reads
// back as the same schema.
func TestPrint(t *testing.T) {
	s := load(t, `
directive @goModel(model: String) on OBJECT
directive @goField(name: String) on FIELD_DEFINITION
directive @sensitive(category: String!) on FIELD_DEFINITION
type Query { b: B a: Int }
"A b." type B @goModel(model: "x.B") { name: String @goField(name: "N") @sensitive(category: "IDENTITY") }
`)
	got := Print(s)
	want := Header + `directive @sensitive(category: String!) on FIELD_DEFINITION

"""
A b.
"""
type B {
  name: String @sensitive(category: "IDENTITY")
}

type Query {
  b: B
  a: Int
}
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	again, err := Parse("published", got)
	if err != nil {
		t.Fatal(err)
	}
	if changes := Compare(again, load(t, strings.TrimPrefix(want, Header))); len(changes) > 0 {
		t.Errorf("read back, the published form differs: %v", changes)
	}
	if !bytes.Equal(Print(again), got) {
		t.Errorf("printed again, the published form differs:\n%s", Print(again))
	}
}
