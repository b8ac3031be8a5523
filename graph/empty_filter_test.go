package graph_test

import (
	"strings"
	"testing"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
)

// TestEmptyNestedFilterRefusedBeforeAnythingRuns: docs/errors.md refuses
// an empty filter ({}) inside a where "before anything runs, on root and
// nested connections alike, with extensions.field naming
// <field>.<argument>". Until 2026-12-07 (eighteenth session) it was
// refused only when the resolver built ent's filter: the document's other
// fields had run (a victim's legalName beside it read and audited), the
// answer had a data member and no extensions.field (a hunt). A condition
// given as null counts as none.
func TestEmptyNestedFilterRefusedBeforeAnythingRuns(t *testing.T) {
	testdb.Each(t, testEmptyNestedFilterRefusedBeforeAnythingRuns)
}

func testEmptyNestedFilterRefusedBeforeAnythingRuns(t *testing.T, db *database.DB) {
	s, tok := withCases(t, db, "TIR-HUNT-0")
	for _, tc := range []struct{ list, doc string }{
		{"cases", `{ cases(where: {not: {}}) { totalCount } }`},
		{"victims", `{ victims(where: {and: [{ageGroup: MINOR}, {}]}) { totalCount } }`},
		{"agencies", `{ agencies(where: {or: [{not: {not: {}}}]}) { totalCount } }`},
		// "before anything runs": the viewer beside it is not answered.
		{"cases", `{ viewer { subject } cases(where: {or: [{}]}) { totalCount } }`},
		{"cases", `{ cases(where: {not: {referenceIn: null}}) { totalCount } }`},
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
