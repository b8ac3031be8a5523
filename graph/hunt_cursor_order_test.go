package graph_test

import (
	"testing"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
)

// TestHuntCursorOfAnotherOrdering: docs/errors.md refuses, BAD_USER_INPUT
// on <field>.after, "a cursor from a page ordered differently" ("pass
// edges.cursor or pageInfo.startCursor/endCursor from a page with the same
// orderBy"). The check compares only the cursor's shape (how many values,
// of which Go type), so a cursor of a page ordered by STAGE is taken by an
// ordering by REGION (both strings: the page starts after the region
// "UNDER_INVESTIGATION", skipping every case of a region before it), one
// ordered by OPENED_AT by one ordered by CREATED_AT, and one of a
// descending page by the ascending ordering of the same field: each pages
// silently from a place that means nothing in the order asked.
func TestHuntCursorOfAnotherOrdering(t *testing.T) {
	testdb.Each(t, testHuntCursorOfAnotherOrdering)
}

func testHuntCursorOfAnotherOrdering(t *testing.T, db *database.DB) {
	s, tok := withCases(t, db, "TIR-ORDER-0", "TIR-ORDER-1", "TIR-ORDER-2")
	cursorOf := func(orderBy string) string {
		var page struct {
			Cases struct {
				Edges []struct{ Cursor string }
			}
		}
		s.Do(t, tok, `{ cases(first: 1, orderBy: `+orderBy+`) { edges { cursor } } }`, nil).MustOK(t).Decode(t, &page)
		if len(page.Cases.Edges) != 1 {
			t.Fatalf("no case ordered by %s", orderBy)
		}
		return page.Cases.Edges[0].Cursor
	}
	for _, tc := range []struct{ name, from, to string }{
		{"STAGE for REGION", `[{field: STAGE}]`, `[{field: REGION}]`},
		{"OPENED_AT for CREATED_AT", `[{field: OPENED_AT}]`, `[{field: CREATED_AT}]`},
		{"REFERENCE DESC for REFERENCE ASC", `[{field: REFERENCE, direction: DESC}]`, `[{field: REFERENCE, direction: ASC}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cursorOf(tc.from)
			r := s.Do(t, tok, `query ($c: Cursor) { cases(first: 2, after: $c, orderBy: `+tc.to+`) { edges { node { reference } } } }`,
				map[string]any{"c": c})
			testserver.WantRefusal(t, r, testserver.Want{Code: string(apperr.BadUserInput), Field: "cases.after"})
		})
	}
}
