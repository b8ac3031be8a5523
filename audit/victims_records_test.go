package audit_test

import (
	"slices"
	"testing"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/sensitivity"
)

// notVictimsRecords are the types with sensitive fields that hold no one
// victim's data apart from the victim itself: the Victim, and a suspect
// (a person of the case, found by its own id).
var notVictimsRecords = []string{"Victim", "Suspect"}

// TestVictimsRecordsCoverTheSchema: every type of the API with a sensitive
// field is the victim, a record of one victim's (whose reads "who looked
// at this victim" finds, audit.VictimsRecordTypes), or said here to be
// neither. A new type with a sensitive field fails it until it is placed
// (a hunt found consents' givenBy missing from a victim's lookups).
func TestVictimsRecordsCoverTheSchema(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	placed := append(audit.VictimsRecordTypes(), notVictimsRecords...)
	var sensitive []string
	for name, def := range schema.Types {
		for _, f := range def.Fields {
			if f.Directives.ForName(sensitivity.DirectiveName) != nil {
				sensitive = append(sensitive, name)
				if !slices.Contains(placed, name) {
					t.Errorf("%s has a sensitive field (%s) and is neither a victim's record (audit.victimsRecords) nor said to be none (notVictimsRecords)", name, f.Name)
				}
				break
			}
		}
	}
	for _, name := range placed {
		if !slices.Contains(sensitive, name) {
			t.Errorf("%s is placed but has no sensitive field in the schema", name)
		}
	}
}
