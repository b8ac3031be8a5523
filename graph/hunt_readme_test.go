package graph_test

import (
	"strings"
	"testing"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
)

// TestHuntEmptyNestedFilterRefusedBeforeAnythingRunsNamingWhere: docs/errors.md,
// "Connection arguments ent cannot take: BAD_USER_INPUT", promises:
//
//	Refused before anything runs, on root and nested connections alike, with
//	`extensions.field` naming `<field>.<argument>`: …
//	- an empty filter (`{}`) inside `not`, `and` or `or` of `where` (an empty
//	  `where` at the top is no filter).
//
// The server instead lets the operation run and refuses the filter only when
// ent builds its predicate in the resolver: the error comes from the error
// presenter (graph/errors.go, isEmptyNestedFilter) with no extensions.field at
// all, at the list's path, with "data" present, and the document's other root
// fields answered (a `viewer` beside it is resolved, and so would be a victim's
// legalName, read and audited). An integrator who maps extensions.field to the
// input at fault, as for every sibling refusal of this list (a bad cursor:
// cases.after, an orderBy naming a field twice: cases.orderBy, an empty list:
// cases.where.referenceIn), gets nothing to map.
func TestHuntEmptyNestedFilterRefusedBeforeAnythingRunsNamingWhere(t *testing.T) {
	testdb.Each(t, testHuntEmptyNestedFilterRefusedBeforeAnythingRunsNamingWhere)
}

func testHuntEmptyNestedFilterRefusedBeforeAnythingRunsNamingWhere(t *testing.T, db *database.DB) {
	s, tok := withCases(t, db, "TIR-HUNT-0")
	for _, tc := range []struct{ list, doc string }{
		{"cases", `{ cases(where: {not: {}}) { totalCount } }`},
		{"victims", `{ victims(where: {and: [{ageGroup: MINOR}, {}]}) { totalCount } }`},
		{"agencies", `{ agencies(where: {or: [{not: {not: {}}}]}) { totalCount } }`},
		// "before anything runs": the viewer beside it is not answered.
		{"cases", `{ viewer { subject } cases(where: {or: [{}]}) { totalCount } }`},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			r := s.Do(t, tok, tc.doc, nil)
			e := testserver.WantRefusal(t, r, testserver.Want{Code: string(apperr.BadUserInput)})
			if f := e.Field(); !strings.HasPrefix(f, tc.list+".where") {
				t.Errorf("extensions.field = %q, want %s.where (docs/errors.md: naming <field>.<argument>):\n%s", f, tc.list, r.Body)
			}
			if strings.Contains(string(r.Body), `"data"`) {
				t.Errorf("refused before anything runs, yet the answer has a data member:\n%s", r.Body)
			}
		})
	}
}
