package graph_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestHuntNestedPageInTheOrderAsked: a nested connection under a list
// (a case's victims, asked of each case of a page of cases) answers the
// page its orderBy asks for, in that order, as the same connection asked
// of one case through node(id:) does. An integrator walking each case's
// victims (the first page under the list, the next ones through node(id:)
// after the page's endCursor) gets every victim exactly once.
//
// Under a list, ent's eager loading limits each parent's rows with a
// window function (entgql.LimitPerRow) and sends no ORDER BY around it,
// so the rows come back in whatever order the database returns them; the
// page then drops its last row as the one past the page, which is not the
// one past the page, and its endCursor is not its last edge's place.
func TestHuntNestedPageInTheOrderAsked(t *testing.T) {
	testdb.Each(t, testHuntNestedPageInTheOrderAsked)
}

func testHuntNestedPageInTheOrderAsked(t *testing.T, db *database.DB) {
	seedDemo(t, db)
	s := testserver.Start(t, db)
	tok := s.Token(t, "onac", viewer.RoleCoordinator)

	type victimPage struct {
		Edges []struct {
			Node struct{ ID, Pseudonym string }
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
	var list struct {
		Cases struct {
			Edges []struct {
				Node struct {
					ID   string
					All  victimPage
					Page victimPage
				}
			}
		}
	}
	s.Do(t, tok, `{ cases(first: 100) { edges { node { id
  all: victims(first: 50) { edges { node { id pseudonym } } }
  page: victims(first: 2, orderBy: [{field: PSEUDONYM, direction: DESC}]) {
    edges { node { id pseudonym } } pageInfo { hasNextPage endCursor } } } } } }`, nil).MustOK(t).Decode(t, &list)

	const next = `query ($id: ID!, $after: Cursor) { node(id: $id) { ... on Case {
  victims(first: 2, after: $after, orderBy: [{field: PSEUDONYM, direction: DESC}]) {
    edges { node { id pseudonym } } pageInfo { hasNextPage endCursor } } } } }`
	checked, wrong := 0, []string{}
	for _, c := range list.Cases.Edges {
		var all []string
		for _, e := range c.Node.All.Edges {
			all = append(all, e.Node.Pseudonym)
		}
		if len(all) < 3 {
			continue
		}
		checked++
		slices.Sort(all)
		slices.Reverse(all)
		var first []string
		for _, e := range c.Node.Page.Edges {
			first = append(first, e.Node.Pseudonym)
		}
		// The walk: the first page from the list, the rest case by case.
		walked := slices.Clone(first)
		page := c.Node.Page
		for n := 0; page.PageInfo.HasNextPage && n < 50; n++ {
			var got struct{ Node struct{ Victims victimPage } }
			s.Do(t, tok, next, map[string]any{"id": c.Node.ID, "after": *page.PageInfo.EndCursor}).MustOK(t).Decode(t, &got)
			page = got.Node.Victims
			for _, e := range page.Edges {
				walked = append(walked, e.Node.Pseudonym)
			}
		}
		if !slices.Equal(first, all[:2]) || !slices.Equal(walked, all) {
			wrong = append(wrong, "case "+c.Node.ID+": first page "+strings.Join(first, ",")+
				" (want "+strings.Join(all[:2], ",")+"), walk "+strings.Join(walked, ",")+" (want "+strings.Join(all, ",")+")")
		}
	}
	if checked == 0 {
		t.Fatal("no case of the first 100 has three victims; the test needs some")
	}
	if len(wrong) > 0 {
		t.Errorf("%d of %d cases with three victims or more: victims(first: 2, orderBy: PSEUDONYM DESC) under cases is not the page asked for:\n%s",
			len(wrong), checked, strings.Join(wrong, "\n"))
	}
}
