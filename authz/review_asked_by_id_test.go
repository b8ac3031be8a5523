package authz_test

import (
	"testing"

	"github.com/casegraph/casegraph/viewer"
)

// TestReviewRecordAskedByIDUnderTwoNotsIsRecorded: docs/audit.md,
// "Records asked for by id": a record asked for by id and not shown is a
// RECORD_REFUSED "however it was asked for", and ids under not are left
// out only because "they ask for the records they do not name". Under two
// negations they name them positively: not: {not: {id: X}},
// not: {idNEQ: X} and not: {idNotIn: [X, …]} each ask for exactly X (the
// last for hundreds of ids at once, as idIn does), and answer which of
// them the caller sees. What happens: IDsAsked (ent/template/where_ids.tmpl)
// never descends into Not, so each of these probes a hidden Tirana victim
// and leaves no event; the national DPO asking "who looked at this
// victim" finds nothing, as before the fix for idIn. (Found by review.)
func TestReviewRecordAskedByIDUnderTwoNotsIsRecorded(t *testing.T) {
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
