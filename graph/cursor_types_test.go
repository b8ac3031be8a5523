package graph

import (
	"strings"
	"testing"
)

// TestOrderValuesCoverSchema: every ordering input type of the schema has
// its entry in orderValues, and each of its fields has a value there, so a
// cursor for it is checked for type (a new ordering type would otherwise
// let mistyped cursors through to PostgreSQL, INTERNAL).
func TestOrderValuesCoverSchema(t *testing.T) {
	n := 0
	for name, def := range parsedSchema.Types {
		if !strings.HasSuffix(name, "Order") || def.Fields.ForName("field") == nil {
			continue
		}
		n++
		valueOf, ok := orderValues[name]
		if !ok {
			t.Errorf("orderValues has no entry for %s", name)
			continue
		}
		enum := parsedSchema.Types[def.Fields.ForName("field").Type.Name()]
		for _, v := range enum.EnumValues {
			if want, err := valueOf(v.Name); err != nil || want == nil {
				t.Errorf("%s.%s: no value type (%v)", name, v.Name, err)
			}
		}
	}
	if n != len(orderValues) {
		t.Errorf("%d ordering types in the schema, %d in orderValues", n, len(orderValues))
	}
}
