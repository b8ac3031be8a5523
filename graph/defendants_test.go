package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/ent/prosecution"
	"github.com/casegraph/casegraph/ent/suspect"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// nestedPage is one parent's page of a nested connection, as the tests of
// this file ask for it.
type nestedPage struct {
	TotalCount int
	Edges      []struct {
		Cursor string
		Node   struct{ ID, Key string }
	}
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
}

func (p nestedPage) keys() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.Key
	}
	return out
}

func (p nestedPage) ids() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.ID
	}
	return out
}

const nestedPageFields = `{ totalCount edges { cursor node { id key: %s } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }`

// TestDefendantsConnectionPagesTheList: Prosecution.defendantsConnection
// is the proceeding's defendants (the deprecated list
// Prosecution.defendants) as a connection: under a list of proceedings
// each proceeding's page is the one node(id:) of the proceeding gives, in
// the order asked, and walking it from its endCursor reaches every
// defendant of the list once; totalCount counts the list. The list had no
// page arguments, so a client could not page a proceeding's defendants
// (a hunt, 2026-12-06).
func TestDefendantsConnectionPagesTheList(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seedDemo(t, db)
		ctx := viewer.SystemContext(context.Background())
		c := db.Client
		// Three proceedings get four more defendants each, suspects of
		// their case, so that their defendants take several pages.
		for i, p := range c.Prosecution.Query().Order(prosecution.ByID()).Limit(3).AllX(ctx) {
			for j := range 4 {
				s := c.Suspect.Create().SetPseudonym(fmt.Sprintf("S-PAGE-%d-%d", i, j)).SetSex(domain.SexMale).
					SetNationality("AL").SetRole(domain.SuspectRoleRecruiter).SetCaseID(p.CaseID).SaveX(ctx)
				c.Prosecution.UpdateOneID(p.ID).AddDefendantIDs(s.ID).ExecX(ctx)
			}
		}
		s := testserver.Start(t, db)
		tok := s.Token(t, "onac", viewer.RoleCoordinator)

		for _, edge := range []string{
			`defendantsConnection(first: 2, orderBy: [{field: PSEUDONYM, direction: DESC}])`,
			`defendantsConnection(last: 2, orderBy: [{field: PSEUDONYM, direction: DESC}])`,
		} {
			page := fmt.Sprintf(nestedPageFields, "pseudonym")
			var list struct {
				Prosecutions struct {
					Edges []struct {
						Node struct {
							ID         string
							Defendants []struct{ Pseudonym string }
							Page       json.RawMessage
						}
					}
				}
			}
			s.Do(t, tok, `{ prosecutions(first: 100) { edges { node { id defendants { pseudonym } page: `+edge+` `+page+` } } } }`, nil).
				MustOK(t).Decode(t, &list)
			walked := 0
			for _, p := range list.Prosecutions.Edges {
				var one struct {
					Node struct{ Page json.RawMessage }
				}
				s.Do(t, tok, `query ($id: ID!) { node(id: $id) { ... on Prosecution { page: `+edge+` `+page+` } } }`,
					map[string]any{"id": p.Node.ID}).MustOK(t).Decode(t, &one)
				if !bytes.Equal(p.Node.Page, one.Node.Page) {
					t.Errorf("prosecutions { %s } of %s:\n%s\nnode(id:) gives:\n%s", edge, p.Node.ID, p.Node.Page, one.Node.Page)
				}
				var all []string
				for _, d := range p.Node.Defendants {
					all = append(all, d.Pseudonym)
				}
				slices.Sort(all)
				slices.Reverse(all)
				var first nestedPage
				if err := json.Unmarshal(p.Node.Page, &first); err != nil {
					t.Fatal(err)
				}
				if first.TotalCount != len(all) {
					t.Errorf("%s: defendantsConnection's totalCount %d, the list holds %d", p.Node.ID, first.TotalCount, len(all))
				}
				if len(all) <= 2 || strings.Contains(edge, "last") {
					if want := all[max(0, len(all)-2):]; strings.Contains(edge, "last") && !slices.Equal(first.keys(), want) {
						t.Errorf("%s: the last page %v, want %v", p.Node.ID, first.keys(), want)
					}
					continue
				}
				walked++
				got := first.keys()
				for cur := first; cur.PageInfo.HasNextPage && len(got) < 50; {
					var next struct{ Node struct{ Page nestedPage } }
					s.Do(t, tok, `query ($id: ID!, $after: Cursor) { node(id: $id) { ... on Prosecution {
  page: defendantsConnection(first: 2, after: $after, orderBy: [{field: PSEUDONYM, direction: DESC}]) `+page+` } } }`,
						map[string]any{"id": p.Node.ID, "after": *cur.PageInfo.EndCursor}).MustOK(t).Decode(t, &next)
					cur = next.Node.Page
					got = append(got, cur.keys()...)
				}
				if !slices.Equal(got, all) {
					t.Errorf("%s: walking defendantsConnection gave %v, the list %v", p.Node.ID, got, all)
				}
			}
			if strings.Contains(edge, "first") && walked < 3 {
				t.Errorf("%d proceedings with more than two defendants were walked; the test needs three", walked)
			}
		}
	})
}

// TestDefendantsPageWithinItsCost: a page of 50 proceedings with 30
// defendants each is answered whole, as the list and as the connection.
// The list was priced as 10 items, so the fields it resolved passed twice
// its cost and the answer stopped with TOO_COMPLEX ("fields resolved"; a
// hunt, 2026-12-06); it is priced as 50 now, the connection by its first.
func TestDefendantsPageWithinItsCost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seedDemo(t, db)
		ctx := viewer.SystemContext(context.Background())
		c := db.Client
		suspects := c.Suspect.Query().Order(suspect.ByID()).Limit(30).IDsX(ctx)
		proceedings := c.Prosecution.Query().Order(prosecution.ByID()).Limit(50).AllX(ctx)
		if len(suspects) < 30 || len(proceedings) < 50 {
			t.Fatalf("the demo data has %d suspects and %d proceedings", len(suspects), len(proceedings))
		}
		for _, p := range proceedings {
			have := p.QueryDefendants().IDsX(ctx)
			var add []int
			for _, id := range suspects {
				if !slices.Contains(have, id) {
					add = append(add, id)
				}
			}
			c.Prosecution.UpdateOneID(p.ID).AddDefendantIDs(add...).ExecX(ctx)
		}
		s := testserver.Start(t, db)
		tok := s.Token(t, "onac", viewer.RoleCoordinator)
		for _, tc := range []struct{ name, field string }{
			{"the list", `defendants { pseudonym sex nationality role }`},
			{"the connection", `defendants: defendantsConnection(first: 50) { edges { node { pseudonym sex nationality role } } }`},
		} {
			r := s.Do(t, tok, `{ prosecutions(first: 50, orderBy: [{field: REGISTERED_AT}]) { edges { node { registrationNumber `+tc.field+` } } } }`, nil)
			if len(r.Errors) > 0 {
				t.Fatalf("%s: %d proceedings of 30 defendants each: %s", tc.name, len(proceedings), r.Errors[0].Message)
			}
			var data struct {
				Prosecutions struct {
					Edges []struct {
						Node struct{ Defendants json.RawMessage }
					}
				}
			}
			r.Decode(t, &data)
			for _, e := range data.Prosecutions.Edges {
				if n := bytes.Count(e.Node.Defendants, []byte(`"pseudonym"`)); n < 30 {
					t.Errorf("%s: a proceeding with %d defendants, want at least 30", tc.name, n)
				}
			}
		}
	})
}

// TestNestedProsecutionsByDeadline: a case's prosecutions are ordered by
// investigationDeadline as the root list is, with the filter that keeps
// the proceedings that have one (where: {investigationDeadlineNotNil:
// true}): the same records in the same order as the root list filtered to
// the case, and under a list of cases the page node(id:) of the case
// gives. Until 2026-12-07 (eighteenth session) a nested prosecutions took
// no where, so the ordering was refused there (BAD_USER_INPUT: "order
// prosecutions by a field every record has"); without the filter it still
// is, and the refusal names the filter.
func TestNestedProsecutionsByDeadline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seedDemo(t, db)
		ctx := viewer.SystemContext(context.Background())
		c := db.Client
		office := c.Agency.Query().Where(agency.Code("prosecution-tirane")).OnlyX(ctx)
		// Three cases get five more proceedings: four with a deadline (two
		// on the same day, which the id orders) and one without.
		deadline := time.Date(2027, time.March, 1, 9, 0, 0, 0, time.UTC)
		for i, caseID := range c.CaseFile.Query().Order(casefile.ByID()).Limit(3).IDsX(ctx) {
			for j, days := range []int{30, 10, 10, 20, -1} {
				p := c.Prosecution.Create().SetRegistrationNumber(fmt.Sprintf("PR-DEADLINE-%d-%d", i, j)).
					SetRegisteredAt(deadline.AddDate(-1, 0, 0)).SetCaseID(caseID).SetOfficeID(office.ID)
				if days >= 0 {
					p.SetInvestigationDeadline(deadline.AddDate(0, 0, days))
				}
				p.ExecX(ctx)
			}
		}
		s := testserver.Start(t, db)
		tok := s.Token(t, "onac", viewer.RoleCoordinator)

		page := fmt.Sprintf(nestedPageFields, "investigationDeadline")
		// Each filter, and the root list's filter to the case ($id) that
		// means the same.
		for _, tc := range []struct{ where, order, root string }{
			{`{investigationDeadlineNotNil: true}`, `[{field: INVESTIGATION_DEADLINE, direction: DESC}]`,
				`{caseID: $id, investigationDeadlineNotNil: true}`},
			{`{and: [{investigationDeadlineNotNil: true}, {stageNEQ: FINAL}]}`, `[{field: INVESTIGATION_DEADLINE}, {field: REGISTERED_AT}]`,
				`{and: [{caseID: $id}, {investigationDeadlineNotNil: true}, {stageNEQ: FINAL}]}`},
			{`{overdue: false, investigationDeadlineNotNil: true}`, `{field: INVESTIGATION_DEADLINE}`,
				`{caseID: $id, overdue: false, investigationDeadlineNotNil: true}`},
		} {
			edge := `prosecutions(first: 2, where: ` + tc.where + `, orderBy: ` + tc.order + `)`
			var list struct {
				Cases struct {
					Edges []struct {
						Node struct {
							ID   string
							Page json.RawMessage
						}
					}
				}
			}
			s.Do(t, tok, `{ cases(first: 100) { edges { node { id page: `+edge+` `+page+` } } } }`, nil).MustOK(t).Decode(t, &list)
			cut := 0
			for _, cs := range list.Cases.Edges {
				var one struct {
					Node struct{ Page json.RawMessage }
				}
				s.Do(t, tok, `query ($id: ID!) { node(id: $id) { ... on Case { page: `+edge+` `+page+` } } }`,
					map[string]any{"id": cs.Node.ID}).MustOK(t).Decode(t, &one)
				if !bytes.Equal(cs.Node.Page, one.Node.Page) {
					t.Errorf("cases { %s } of %s:\n%s\nnode(id:) gives:\n%s", edge, cs.Node.ID, cs.Node.Page, one.Node.Page)
				}
				var nested nestedPage
				if err := json.Unmarshal(cs.Node.Page, &nested); err != nil {
					t.Fatal(err)
				}
				// The root list, filtered to the case, read whole.
				var root struct{ Prosecutions nestedPage }
				s.Do(t, tok, `query ($id: ID!) { prosecutions(first: 100, where: `+tc.root+`, orderBy: `+tc.order+`) `+page+` }`,
					map[string]any{"id": cs.Node.ID}).MustOK(t).Decode(t, &root)
				all := root.Prosecutions
				if nested.TotalCount != all.TotalCount || !slices.Equal(nested.ids(), all.ids()[:min(2, len(all.Edges))]) {
					t.Errorf("case %s: %s answers %v of %d, the root list %v of %d", cs.Node.ID, edge, nested.ids(), nested.TotalCount, all.ids(), all.TotalCount)
				}
				if len(all.Edges) <= 2 {
					continue
				}
				cut++
				got := nested.ids()
				for cur := nested; cur.PageInfo.HasNextPage && len(got) < 50; {
					var next struct{ Node struct{ Page nestedPage } }
					s.Do(t, tok, `query ($id: ID!, $after: Cursor) { node(id: $id) { ... on Case {
  page: prosecutions(first: 2, after: $after, where: `+tc.where+`, orderBy: `+tc.order+`) `+page+` } } }`,
						map[string]any{"id": cs.Node.ID, "after": *cur.PageInfo.EndCursor}).MustOK(t).Decode(t, &next)
					cur = next.Node.Page
					got = append(got, cur.ids()...)
				}
				if !slices.Equal(got, all.ids()) {
					t.Errorf("case %s: walking %s gave %v, the root list %v", cs.Node.ID, edge, got, all.ids())
				}
			}
			if cut < 3 {
				t.Errorf("%s: %d cases have more than two proceedings in it; the test needs three", edge, cut)
			}
		}

		// Without the filter the ordering is refused, saying which filter.
		for _, doc := range []string{
			`{ cases(first: 2) { edges { node { prosecutions(first: 2, orderBy: [{field: INVESTIGATION_DEADLINE}]) { totalCount } } } } }`,
			`{ cases(first: 2) { edges { node { prosecutions(first: 2, where: {investigationDeadlineIsNil: false}, orderBy: {field: INVESTIGATION_DEADLINE}) { totalCount } } } } }`,
		} {
			r := s.Do(t, tok, doc, nil)
			e := testserver.WantRefusal(t, r, testserver.Want{Code: "BAD_USER_INPUT", Field: "prosecutions.orderBy"})
			if !strings.Contains(e.Message, "where: {investigationDeadlineNotNil: true}") {
				t.Errorf("the refusal does not name the filter: %s", e.Message)
			}
		}
	})
}
