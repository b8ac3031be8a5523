package authz_test

import (
	"testing"

	"github.com/casegraph/casegraph/viewer"
)

// TestRecordAskedByIDUnderTwoNotsIsRecorded: an id a where names under an
// odd number of nots through idNEQ or idNotIn, or under two through id or
// idIn, asks for that record (not: {idNEQ: X} is id X) and is recorded
// as node(id:) records it (docs/audit.md, "Records asked for by id").
// Until 2026-12-07 (eighteenth session, the day the rule came) nothing
// under a not counted, so not: {idNotIn: [...]} probed up to 1,000 hidden
// ids a filter with no trace (a review).
func TestRecordAskedByIDUnderTwoNotsIsRecorded(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		investigator := e.tok(t, "police-durres", viewer.RoleInvestigator)
		for _, probe := range []struct{ name, query string }{
			{"not not id", `query ($id: ID!) { victims(where: {not: {not: {id: $id}}}) { totalCount } }`},
			{"not idNEQ", `query ($id: ID!) { victims(where: {not: {idNEQ: $id}}) { totalCount } }`},
			{"not idNotIn", `query ($id: ID!) { victims(where: {not: {idNotIn: [$id]}}) { totalCount } }`},
			{"or of not idNEQ", `query ($id: ID!) { victims(where: {or: [{not: {idNEQ: $id}}]}) { totalCount } }`},
		} {
			t.Run(probe.name, func(t *testing.T) {
				vars := map[string]any{"id": gid(f.vT)}
				r := e.do(t, investigator, probe.query, vars).MustOK(t)
				got := e.refusalsOf(t, r)
				want := e.refusalsOf(t, e.do(t, investigator, nodeProbe, vars))
				if len(want) != 1 || want[0].EntityID != f.vT {
					t.Fatalf("the control: node(id:) leaves %v", refusalShapes(want))
				}
				if len(got) != 1 || refusalShape(got[0]) != refusalShape(want[0]) {
					t.Errorf("%s asks for hidden victim %d exactly as id: does (answer %s), but leaves %d refusal events %s; want the one node(id:) leaves: %s",
						probe.name, f.vT, r.Body, len(got), refusalShapes(got), refusalShape(want[0]))
				}
			})
		}
	})
}
