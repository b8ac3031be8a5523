package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestTotalCountUnderAnAliasCountsTheConnection: totalCount counts the
// records of the whole connection whatever the client calls it in its
// answer. Asked under an alias (n: totalCount), ent's pagination looked
// for a field whose alias is "totalCount", found none, counted nothing,
// and answered the number of edges on the page instead (2 of 3 here), at
// the root and nested alike: an integrator that names its fields saw a
// total that is a page size.
func TestTotalCountUnderAnAliasCountsTheConnection(t *testing.T) {
	testdb.Each(t, testTotalCountUnderAnAlias)
}

func testTotalCountUnderAnAlias(t *testing.T, db *database.DB) {
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

// TestEdgesUnderAnAliasAreThePage: a page's edges are its records whatever
// the client calls them. Asked under an alias (page: edges), ent's
// pagination found no field whose alias is "edges", loaded no record, and
// answered an empty list, with pageInfo saying there is a next page and
// giving no cursor to reach it: the walk returned nothing, or started
// again for ever. At the root and nested alike.
func TestEdgesUnderAnAliasAreThePage(t *testing.T) {
	testdb.Each(t, testEdgesUnderAnAlias)
}

func testEdgesUnderAnAlias(t *testing.T, db *database.DB) {
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

// The fields of a connection asked under their names, and under aliases
// (aliasedNames gives each alias's field); ID is the node's identifying field.
const (
	plainConnection   = `totalCount edges { cursor node { ID } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`
	aliasedConnection = `n: totalCount page: edges { c: cursor item: node { key: ID } } info: pageInfo { more: hasNextPage back: hasPreviousPage start: startCursor end: endCursor }`
)

var aliasedNames = map[string]string{"n": "totalCount", "page": "edges", "c": "cursor", "item": "node", "key": "ID",
	"info": "pageInfo", "more": "hasNextPage", "back": "hasPreviousPage", "start": "startCursor", "end": "endCursor"}

// TestEveryConnectionAnswersItsFieldsUnderAliases: on every connection,
// root and nested, a connection's fields under aliases answer what they
// answer under their names, and the same connection under two aliases
// with two page sizes answers each page as it does alone.
func TestEveryConnectionAnswersItsFieldsUnderAliases(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seedDemo(t, db)
		s := testserver.Start(t, db)
		// The national coordinator sees every row, and the emergency
		// grants made to it; its data protection officer reads the
		// trail of its reads.
		coordinator := s.Token(t, "onac", viewer.RoleCoordinator)
		dpo := s.Token(t, "onac", viewer.RoleDPO)
		ctx := viewer.SystemContext(context.Background())
		onac := db.Client.Agency.Query().Where(agency.Code("onac")).OnlyX(ctx)
		for _, caseID := range db.Client.CaseFile.Query().Limit(3).IDsX(ctx) {
			db.Client.EmergencyGrant.Create().SetSubject(testserver.Subject("onac", viewer.RoleCoordinator)).SetAgencyID(onac.ID).
				SetCaseID(caseID).SetJustification("test of aliases on every connection").SetExpiresAt(time.Now().Add(time.Hour)).ExecX(ctx)
		}
		// Asking for victims' names (refused to the role), for the trail
		// to hold events.
		for range 3 {
			s.Do(t, coordinator, `{ victims(first: 3) { edges { node { legalName } } } }`, nil)
		}

		const (
			root          = `{ %s }`
			underCases    = `{ cases(first: 5) { edges { node { %s } } } }`
			underVictims  = `{ victims(first: 5) { edges { node { %s } } } }`
			underAgencies = `{ agencies(first: 20) { edges { node { %s } } } }`
			underProsec   = `{ prosecutions(first: 5) { edges { node { %s } } } }`
			underSuspects = `{ suspects(first: 5) { edges { node { %s } } } }`
		)
		for _, tc := range []struct {
			name, token, place, connection string
			// auditEvents has no totalCount, and its events no id.
			noTotalCount bool
		}{
			{name: "cases", place: root, connection: "cases(first: %d)"},
			{name: "victims", place: root, connection: "victims(first: %d)"},
			{name: "suspects", place: root, connection: "suspects(first: %d)"},
			{name: "prosecutions", place: root, connection: "prosecutions(first: %d)"},
			{name: "referrals", place: root, connection: "referrals(first: %d)"},
			{name: "agencies", place: root, connection: "agencies(first: %d)"},
			{name: "emergencyGrants", place: root, connection: "emergencyGrants(first: %d)"},
			{name: "auditEvents", token: dpo, place: root, connection: "auditEvents(first: %d, oldestFirst: true)", noTotalCount: true},
			{name: "case victims", place: underCases, connection: "victims(first: %d)"},
			{name: "case suspects", place: underCases, connection: "suspects(first: %d)"},
			{name: "case prosecutions", place: underCases, connection: "prosecutions(first: %d)"},
			{name: "case prosecutions by deadline", place: underCases, connection: "prosecutions(first: %d, where: {investigationDeadlineNotNil: true}, orderBy: [{field: INVESTIGATION_DEADLINE}])"},
			{name: "case referrals", place: underCases, connection: "referrals(first: %d)"},
			{name: "case timeline", place: underCases, connection: "events(first: %d)"},
			{name: "case assignments", place: underCases, connection: "assignments(first: %d)"},
			{name: "case agencies", place: underCases, connection: "agencies(first: %d)"},
			{name: "victim cases", place: underVictims, connection: "cases(first: %d)"},
			{name: "agency cases", place: underAgencies, connection: "cases(first: %d)"},
			{name: "prosecution charges", place: underProsec, connection: "charges(first: %d)"},
			{name: "prosecution decisions", place: underProsec, connection: "decisions(first: %d)"},
			{name: "prosecution defendants", place: underProsec, connection: "defendantsConnection(first: %d)"},
			{name: "suspect prosecutions", place: underSuspects, connection: "prosecutionsConnection(first: %d)"},
		} {
			token := tc.token
			if token == "" {
				token = coordinator
			}
			id := "id"
			plain, aliased := plainConnection, aliasedConnection
			if tc.noTotalCount {
				id = "seq"
				plain, aliased = strings.TrimPrefix(plain, "totalCount "), strings.TrimPrefix(aliased, "n: totalCount ")
			}
			plain, aliased = strings.ReplaceAll(plain, "ID", id), strings.ReplaceAll(aliased, "ID", id)
			ask := func(fields string) []map[string]any {
				t.Helper()
				doc := fmt.Sprintf(tc.place, fields)
				var data any
				s.Ask(t, token, doc, nil).MustOK(t).Decode(t, &data)
				return holders(data, tc.place)
			}
			conn := func(name string, page int, fields string) string {
				return name + ": " + fmt.Sprintf(tc.connection, page) + " { " + fields + " }"
			}
			alone2, alone3 := ask(conn("a", 2, plain)), ask(conn("c", 3, plain))
			together := ask(conn("a", 2, plain) + " " + conn("b", 2, aliased) + " " + conn("c", 3, plain))
			if len(together) != len(alone2) || len(together) != len(alone3) {
				t.Fatalf("%s: %d records hold the connection asked together, %d and %d alone", tc.name, len(together), len(alone2), len(alone3))
			}
			edges := 0
			for i, h := range together {
				want2, want3 := alone2[i]["a"], alone3[i]["c"]
				if !reflect.DeepEqual(h["a"], want2) {
					t.Errorf("%s: beside aliases it answers\n%s\nalone\n%s", tc.name, jsonOf(h["a"]), jsonOf(want2))
				}
				if got := named(h["b"], id); !reflect.DeepEqual(got, want2) {
					t.Errorf("%s: under aliases it answers (renamed)\n%s\nunder names\n%s", tc.name, jsonOf(got), jsonOf(want2))
				}
				if !reflect.DeepEqual(h["c"], want3) {
					t.Errorf("%s: a page of 3 beside one of 2 answers\n%s\nalone\n%s", tc.name, jsonOf(h["c"]), jsonOf(want3))
				}
				list, _ := want2.(map[string]any)["edges"].([]any)
				edges += len(list)
			}
			if edges == 0 {
				t.Errorf("%s: no edge anywhere; the test needs data there", tc.name)
			}
			if tc.place == root {
				info := alone2[0]["a"].(map[string]any)["pageInfo"].(map[string]any)
				if edges != 2 || info["hasNextPage"] != true {
					t.Errorf("%s: a first page of %d with pageInfo %v; the test needs more than 2 records", tc.name, edges, info)
				}
			}
		}
	})
}

// holders are the objects of the answer data that hold the connections
// asked in place: the data itself at the root, each node of the page
// otherwise.
func holders(data any, place string) []map[string]any {
	top := data.(map[string]any)
	if strings.HasPrefix(place, "{ %s") {
		return []map[string]any{top}
	}
	var out []map[string]any
	for _, parent := range top {
		for _, e := range parent.(map[string]any)["edges"].([]any) {
			out = append(out, e.(map[string]any)["node"].(map[string]any))
		}
	}
	return out
}

// named is v with each alias of aliasedNames replaced by its field's name,
// id the node's identifying field.
func named(v any, id string) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if name, ok := aliasedNames[k]; ok {
				k = strings.ReplaceAll(name, "ID", id)
			}
			out[k] = named(x, id)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = named(x, id)
		}
		return out
	}
	return v
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestEdgesAndNodeUnderOneName: a connection's edges, and an edge's node,
// are asked under one name. ent loads one page for each connection the
// client names and eager-loads the connections nested in the first edges
// it finds, so under a second name the nested connections were answered
// from the first's page: `v: victims(first: 3)` under the second name
// answered at most the two victims `v: victims(first: 1)` under the first
// had loaded (one, and one more to know of a next page).
// BAD_USER_INPUT naming the field; aliases of totalCount, pageInfo and
// cursor, and a field asked twice under one name, are answered.
func TestEdgesAndNodeUnderOneName(t *testing.T) {
	s := testserver.Start(t, testdb.SQLite(t))
	tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	for _, tc := range []struct{ doc, field string }{
		{`{ cases(first: 2) { a: edges { cursor } b: edges { node { id } } } }`, "cases.edges"},
		{`{ cases(first: 2) { edges { cursor } page: edges { node { id } } } }`, "cases.edges"},
		{`{ cases(first: 2) { edges { x: node { id } y: node { reference } } } }`, "cases.edges.node"},
		{`{ cases(first: 2) { edges { node { id } } } cases(first: 2) { page: edges { node { id } } } }`, "cases.edges"},
		{`{ cases(first: 2) { edges { node { id } } ...F } } fragment F on CaseConnection { page: edges { cursor } }`, "cases.edges"},
		{`{ cases(first: 2) { edges { node { id } } ... on CaseConnection { page: edges { cursor } } } }`, "cases.edges"},
		{`{ cases(first: 1) { a: edges { node { v: victims(first: 1) { edges { cursor } } } } b: edges { node { v: victims(first: 3) { edges { cursor } } } } } }`, "cases.edges"},
		{`{ cases(first: 1) { edges { node { victims(first: 2) { a: edges { cursor } b: edges { cursor } } } } } }`, "cases.edges.node.victims.edges"},
		{`{ auditEvents(first: 1) { a: edges { cursor } b: edges { cursor } } }`, "auditEvents.edges"},
	} {
		r := s.Ask(t, tok, tc.doc, nil)
		testserver.WantRefusal(t, r, testserver.Want{Code: "BAD_USER_INPUT", Field: tc.field})
	}
	for _, doc := range []string{
		`{ cases(first: 2) { a: totalCount b: totalCount edges { x: cursor y: cursor node { id } } p: pageInfo { hasNextPage } q: pageInfo { endCursor } } }`,
		`{ cases(first: 2) { edges { cursor } edges { node { id } } } }`,
		`{ a: cases(first: 1) { page: edges { node { id } } } b: cases(first: 2) { page: edges { node { id } } } }`,
	} {
		s.Ask(t, tok, doc, nil).MustOK(t)
	}
}

// TestPaginationTemplateMatchesEntgql: ent/template/gql_pagination.tmpl is
// entgql's pagination template copied whole with one change (it names the
// connection's own fields by name), so it is the copy of the entgql in
// use: after an upgrade of entgo.io/contrib, copy its template again and
// make the change again.
func TestPaginationTemplateMatchesEntgql(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var version string
	for line := range strings.Lines(string(mod)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "entgo.io/contrib "); ok {
			version = strings.Fields(v)[0]
		}
	}
	tmpl, err := os.ReadFile("../ent/template/gql_pagination.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	if copied := "of entgo.io/contrib " + version + ","; version == "" || !strings.Contains(string(tmpl), copied) {
		t.Errorf("ent/template/gql_pagination.tmpl does not say it is the template %q: copy entgql's template/pagination.tmpl of the version in go.mod and make its change again", "of entgo.io/contrib "+version)
	}
}
