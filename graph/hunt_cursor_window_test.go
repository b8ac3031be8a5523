package graph_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestHuntBeforeWithFirstAfterWithLast: README promises Relay cursor
// connections with first/after/last/before. In Relay's algorithm, after
// keeps the records past its cursor and before the records ahead of its
// cursor, whichever of first or last is given; then first takes the first
// of them, last the last. ent's pagination (entgql.MultiCursorsPredicate)
// reads both cursors as "past the cursor in the direction of the page":
// first with before answers records after the cursor, last with after
// records before it, and after with before together a window that is not
// between them. docs/errors.md refuses first with last; these are
// answered, wrongly; after with before under an orderBy is INTERNAL (the
// first cursor's predicate appends the id to the options the second one
// reads). The test takes either the answer of Relay's algorithm
// or a BAD_USER_INPUT refusal naming the argument.
func TestHuntBeforeWithFirstAfterWithLast(t *testing.T) {
	testdb.Each(t, testHuntBeforeWithFirstAfterWithLast)
}

func testHuntBeforeWithFirstAfterWithLast(t *testing.T, db *database.DB) {
	refs := []string{"TIR-WIN-0", "TIR-WIN-1", "TIR-WIN-2", "TIR-WIN-3", "TIR-WIN-4"}
	s, tok := withCases(t, db, refs...)
	for _, order := range []string{``, `, orderBy: [{field: REFERENCE}]`} {
		var all struct {
			Cases struct {
				Edges []struct {
					Cursor string
					Node   struct{ Reference string }
				}
			}
		}
		s.Do(t, tok, `{ cases(first: 10`+order+`) { edges { cursor node { reference } } } }`, nil).MustOK(t).Decode(t, &all)
		var got []string
		cursor := map[string]string{}
		for _, e := range all.Cases.Edges {
			got = append(got, e.Node.Reference)
			cursor[e.Node.Reference] = e.Cursor
		}
		if !slices.Equal(got, refs) {
			t.Fatalf("cases%s: %v, want %v", order, got, refs)
		}
		for _, tc := range []struct {
			args string
			vars map[string]any
			want []string
		}{
			{`first: 2, before: $b`, map[string]any{"b": cursor["TIR-WIN-2"]}, []string{"TIR-WIN-0", "TIR-WIN-1"}},
			{`last: 2, after: $a`, map[string]any{"a": cursor["TIR-WIN-2"]}, []string{"TIR-WIN-3", "TIR-WIN-4"}},
			{`first: 5, after: $a, before: $b`, map[string]any{"a": cursor["TIR-WIN-0"], "b": cursor["TIR-WIN-3"]}, []string{"TIR-WIN-1", "TIR-WIN-2"}},
			{`last: 5, after: $a, before: $b`, map[string]any{"a": cursor["TIR-WIN-1"], "b": cursor["TIR-WIN-4"]}, []string{"TIR-WIN-2", "TIR-WIN-3"}},
		} {
			var decl []string
			for _, v := range []string{"a", "b"} {
				if _, ok := tc.vars[v]; ok {
					decl = append(decl, "$"+v+": Cursor")
				}
			}
			doc := `query (` + strings.Join(decl, ", ") + `) { cases(` + tc.args + order + `) { edges { node { reference } } } }`
			r := s.Do(t, tok, doc, tc.vars)
			if len(r.Errors) > 0 {
				if len(r.Errors) != 1 || r.Errors[0].Code() != string(apperr.BadUserInput) || !slices.Contains([]string{"cases", "cases.after"}, r.Errors[0].Field()) {
					t.Errorf("cases(%s%s): want the records %v or one BAD_USER_INPUT on cases, cases.after or cases.before, got:\n%s", tc.args, order, tc.want, r.Body)
				}
				continue
			}
			var page struct {
				Cases struct {
					Edges []struct{ Node struct{ Reference string } }
				}
			}
			r.Decode(t, &page)
			var refsGot []string
			for _, e := range page.Cases.Edges {
				refsGot = append(refsGot, e.Node.Reference)
			}
			if !slices.Equal(refsGot, tc.want) {
				t.Errorf("cases(%s%s) answers %v, want %v (Relay's algorithm) or a BAD_USER_INPUT refusal", tc.args, order, refsGot, tc.want)
			}
		}
	}
}
