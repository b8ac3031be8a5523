package authz_test

import (
	"slices"
	"testing"

	"github.com/casegraph/casegraph/viewer"
)

// TestIDBoundsThatLeaveOneIDAcrossLevelsAreRecorded: a where whose id
// bounds leave one id asks for that id as id: X does (docs/audit.md,
// "Records asked for by id"), whether the bounds stand in one level, are
// split between the levels of an and, or are a bound and a not of its
// other side. Until 2026-12-07 (nineteenth session) only one level's
// bounds were read, so each of these probed a hidden record and left no
// trace (a review). A not holding more than one bound, or a bound and
// another condition, keeps no interval and names nothing.
func TestIDBoundsThatLeaveOneIDAcrossLevelsAreRecorded(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		investigator := e.tok(t, "police-durres", viewer.RoleInvestigator)
		for name, query := range map[string]string{
			"BoundsInAnAnd":        `query ($id: ID!) { victims(where: {and: [{idGTE: $id}, {idLTE: $id}]}) { totalCount } }`,
			"OneBoundUnderAnAnd":   `query ($id: ID!) { victims(where: {idGTE: $id, and: [{idLTE: $id}]}) { totalCount } }`,
			"ABoundAndANotOfAbove": `query ($id: ID!) { victims(where: {idGTE: $id, not: {idGT: $id}}) { totalCount } }`,
		} {
			t.Run(name, func(t *testing.T) {
				vars := map[string]any{"id": gid(f.vT)}
				r := e.do(t, investigator, query, vars).MustOK(t)
				got := e.refusalsOf(t, r)
				want := e.refusalsOf(t, e.do(t, investigator, nodeProbe, vars))
				if len(want) != 1 || want[0].EntityID != f.vT {
					t.Fatalf("the control: node(id:) leaves %s", dump(want))
				}
				if !slices.Equal(refusalShapes(got), refusalShapes(want)) {
					t.Errorf("the where asks for record %d alone and leaves\n%s\nwant node(id:)'s\n%s\n(answer %s)", f.vT, dump(got), dump(want), r.Body)
				}
			})
		}
		for name, query := range map[string]string{
			"ANotOfTwoBounds":     `query ($id: ID!) { victims(where: {idGTE: $id, not: {idGT: $id, idLT: $id}}) { totalCount } }`,
			"ANotOfABoundAndMore": `query ($id: ID!) { victims(where: {idGTE: $id, not: {idGT: $id, pseudonym: "x"}}) { totalCount } }`,
			"BoundsInAnOr":        `query ($id: ID!) { victims(where: {or: [{idGTE: $id}, {idLTE: $id}]}) { totalCount } }`,
		} {
			t.Run(name, func(t *testing.T) {
				r := e.do(t, investigator, query, map[string]any{"id": gid(f.vT)}).MustOK(t)
				if got := e.refusalsOf(t, r); len(got) != 0 {
					t.Errorf("%s names no record alone: want no refusal, got %s", query, dump(got))
				}
			})
		}
	})
}
