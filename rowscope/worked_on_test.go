package rowscope

import (
	"testing"

	"github.com/casegraph/casegraph/ent/migrate"
)

// TestTypeOfID reads each record type's range from the schema: the first
// id of a table, one far inside it, and ids of other tables or of none.
func TestTypeOfID(t *testing.T) {
	starts := map[string]int{}
	for _, tb := range migrate.Tables {
		if tb.Annotation != nil && tb.Annotation.IncrementStart != nil {
			starts[tb.Name] = *tb.Annotation.IncrementStart
		}
	}
	for _, rt := range entities {
		if rt.record == "" {
			continue
		}
		start, ok := starts[rt.table]
		if !ok {
			t.Fatalf("%s has no id range", rt.table)
		}
		for _, id := range []int{start + 1, start + 1<<31} {
			if got := TypeOfID(id); got != rt.record {
				t.Errorf("TypeOfID(%d) = %q, want %q", id, got, rt.record)
			}
		}
	}
	if got := TypeOfID(starts["agencies"] + 1); got != "" {
		t.Errorf("an agency's id: %q, want none (not a record an agency works on)", got)
	}
	if got := TypeOfID(1 << 50); got != "" {
		t.Errorf("an id in no range: %q", got)
	}
}
