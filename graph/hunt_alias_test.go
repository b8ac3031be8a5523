package graph_test

import (
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
)

// TestHuntAliasedTotalCount: totalCount counts the records of the whole
// connection whatever the client calls it in its answer. Asked under an
// alias (n: totalCount), ent's pagination looks for a field whose alias is
// "totalCount", finds none, counts nothing, and answers the number of
// edges on the page instead (2 of 3 here), at the root and nested alike:
// an integrator that names its fields sees a total that is a page size.
func TestHuntAliasedTotalCount(t *testing.T) {
	testdb.Each(t, testHuntAliasedTotalCount)
}

func testHuntAliasedTotalCount(t *testing.T, db *database.DB) {
	s, tok := withCases(t, db, "TIR-ALIAS-0", "TIR-ALIAS-1", "TIR-ALIAS-2")
	for _, tc := range []struct{ name, doc string }{
		{"plain", `{ cases(first: 2) { totalCount edges { node { reference } } } }`},
		{"aliased", `{ cases(first: 2) { n: totalCount edges { node { reference } } } }`},
		{"aliased, nested", `{ agencies(where: {code: "police-tirane"}) { edges { node { cases(first: 2) { n: totalCount edges { node { reference } } } } } } }`},
	} {
		var got struct {
			Cases struct {
				TotalCount any
				N          *int
			}
			Agencies struct {
				Edges []struct {
					Node struct{ Cases struct{ N *int } }
				}
			}
		}
		s.Do(t, tok, tc.doc, nil).MustOK(t).Decode(t, &got)
		var n *int
		switch tc.name {
		case "plain":
			if f, ok := got.Cases.TotalCount.(float64); !ok || f != 3 {
				t.Errorf("%s: totalCount %v, want 3", tc.name, got.Cases.TotalCount)
			}
			continue
		case "aliased":
			n = got.Cases.N
		default:
			if len(got.Agencies.Edges) != 1 {
				t.Fatalf("%s: %d agencies police-tirane", tc.name, len(got.Agencies.Edges))
			}
			n = got.Agencies.Edges[0].Node.Cases.N
		}
		if n == nil || *n != 3 {
			t.Errorf("%s: %s\nanswers n = %v, want totalCount 3 (the cases there are, not the 2 on the page)", tc.name, tc.doc, deref(n))
		}
	}
}

func deref(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

// TestHuntAliasedEdges: a page's edges are its records whatever the client
// calls them. Asked under an alias (page: edges), ent's pagination finds
// no field whose alias is "edges", loads no record, and answers an empty
// list, with pageInfo saying there is a next page and giving no cursor to
// reach it: the walk returns nothing, or starts again for ever. At the
// root and nested alike.
func TestHuntAliasedEdges(t *testing.T) {
	testdb.Each(t, testHuntAliasedEdges)
}

func testHuntAliasedEdges(t *testing.T, db *database.DB) {
	s, tok := withCases(t, db, "TIR-ALIAS-0", "TIR-ALIAS-1", "TIR-ALIAS-2")
	type page struct {
		Page []struct {
			Cursor string
			Node   struct{ Reference string }
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
	check := func(name, doc string, got page) {
		t.Helper()
		var refs []string
		for _, e := range got.Page {
			refs = append(refs, e.Node.Reference)
		}
		if len(refs) != 2 || refs[0] != "TIR-ALIAS-0" || refs[1] != "TIR-ALIAS-1" {
			t.Errorf("%s: %s\nanswers the edges %v, want [TIR-ALIAS-0 TIR-ALIAS-1]", name, doc, refs)
		}
		if !got.PageInfo.HasNextPage || got.PageInfo.EndCursor == nil ||
			(len(got.Page) > 0 && *got.PageInfo.EndCursor != got.Page[len(got.Page)-1].Cursor) {
			t.Errorf("%s: pageInfo %+v (endCursor %v), want hasNextPage and the last edge's cursor", name, got.PageInfo, got.PageInfo.EndCursor)
		}
	}

	const root = `{ cases(first: 2) { page: edges { cursor node { reference } } pageInfo { hasNextPage endCursor } } }`
	var r struct{ Cases page }
	s.Do(t, tok, root, nil).MustOK(t).Decode(t, &r)
	check("root", root, r.Cases)

	const nested = `{ agencies(where: {code: "police-tirane"}) { edges { node {
  cases(first: 2) { page: edges { cursor node { reference } } pageInfo { hasNextPage endCursor } } } } } }`
	var n struct {
		Agencies struct {
			Edges []struct{ Node struct{ Cases page } }
		}
	}
	s.Do(t, tok, nested, nil).MustOK(t).Decode(t, &n)
	if len(n.Agencies.Edges) != 1 {
		t.Fatalf("%d agencies police-tirane", len(n.Agencies.Edges))
	}
	check("nested", nested, n.Agencies.Edges[0].Node.Cases)
}
