package cost_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/cost"
)

// TestIDBoundsArePricedAsIDs: bounds that leave one id (idGTE: X,
// idLTE: X; idGT: X-1, idLT: X+1) are looked up and recorded as id: X is
// (graph.recordIDsAsked), so the model prices each bound as an id
// (cost.Limits.FilterIDCost). Until 2026-12-07 (nineteenth session) it
// priced only id, idNEQ, idIn and idNotIn: 99 one-id ranges under or (the
// most the 200 conditions allow) made the server look up and record 99
// ids for 101 points, where idIn of the same ids cost 1,092 (a review).
func TestIDBoundsArePricedAsIDs(t *testing.T) {
	l := cost.DefaultLimits()
	ranges := make([]string, 99)
	ids := make([]string, 99)
	for i := range ranges {
		id := fmt.Sprint(34359738368 + i)
		ranges[i] = fmt.Sprintf(`{idGTE: "%s", idLTE: "%s"}`, id, id)
		ids[i] = `"` + id + `"`
	}
	for _, tc := range []struct {
		name, asRange, asID string
		ids                 int
	}{
		{"GTEAndLTE", `{ cases(where: {idGTE: "34359738368", idLTE: "34359738368"}){ totalCount } }`, `{ cases(where: {id: "34359738368"}){ totalCount } }`, 1},
		{"OpenBounds", `{ cases(where: {idGT: "34359738367", idLT: "34359738369"}){ totalCount } }`, `{ cases(where: {id: "34359738368"}){ totalCount } }`, 1},
		{"NinetyNineUnderOr", `{ cases(where: {or: [` + strings.Join(ranges, ", ") + `]}){ totalCount } }`,
			`{ cases(where: {or: [{idIn: [` + strings.Join(ids, ", ") + `]}]}){ totalCount } }`, 99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := measure(t, tc.asRange, nil, l)
			if err != nil {
				t.Fatal(err)
			}
			id, err := measure(t, tc.asID, nil, l)
			if err != nil {
				t.Fatal(err)
			}
			// The range spells each id with two values where id spells it
			// with one: at least the ids' look-up is owed.
			lookedUp := tc.ids * l.FilterIDCost
			if r.Cost < lookedUp {
				t.Errorf("the range costs %d, the same ids named by id %d: its %d points of look-up are not charged", r.Cost, id.Cost, lookedUp)
			}
		})
	}
}
