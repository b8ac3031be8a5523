package graph

import (
	"strings"
	"testing"

	"github.com/casegraph/casegraph/ent"
)

// TestOrderValuesCoverSchema: every ordering input type of the schema has
// its entry in ent.OrderValues (generated), and each of its fields has a
// value there, so a cursor for it is checked for type (a type missing
// there would let mistyped cursors through to PostgreSQL, INTERNAL).
func TestOrderValuesCoverSchema(t *testing.T) {
	n := 0
	for name, def := range parsedSchema.Types {
		if !strings.HasSuffix(name, "Order") || def.Fields.ForName("field") == nil {
			continue
		}
		n++
		valueOf, ok := ent.OrderValues[name]
		if !ok {
			t.Errorf("ent.OrderValues has no entry for %s", name)
			continue
		}
		enum := parsedSchema.Types[def.Fields.ForName("field").Type.Name()]
		for _, v := range enum.EnumValues {
			if want, err := valueOf(v.Name); err != nil || want == nil {
				t.Errorf("%s.%s: no value type (%v)", name, v.Name, err)
			}
		}
	}
	if n != len(ent.OrderValues) {
		t.Errorf("%d ordering types in the schema, %d in ent.OrderValues", n, len(ent.OrderValues))
	}
}
