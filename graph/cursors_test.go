package graph_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/ent/agency"
	"github.com/casegraph/casegraph/ent/suspect"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestConnectionArgumentsRefused: connection arguments that ent's
// pagination cannot take are BAD_USER_INPUT naming the argument, on root
// and nested connections alike, before anything runs (they were INTERNAL,
// and a bad nested cursor a panic: found by server.FuzzCursor); cursors the
// server gave out still page.
func TestConnectionArgumentsRefused(t *testing.T) {
	testdb.Each(t, testConnectionArgumentsRefused)
}

func testConnectionArgumentsRefused(t *testing.T, db *database.DB) {
	s, tok := withCases(t, db, "TIR-CURSOR-0", "TIR-CURSOR-1", "TIR-CURSOR-2")
	lead := agencyGlobalID(t, db, "police-tirane")
	byReference := firstCursor(t, s, tok, `{ cases(first: 1, orderBy: [{field: REFERENCE}]) { edges { cursor } } }`, nil)
	byID := firstCursor(t, s, tok, `{ cases(first: 1) { edges { cursor } } }`, nil)
	byOpenedAndStage := firstCursor(t, s, tok, `{ cases(first: 1, orderBy: [{field: OPENED_AT, direction: DESC}, {field: STAGE}]) { edges { cursor } } }`, nil)
	byOpened := firstCursor(t, s, tok, `{ cases(first: 1, orderBy: [{field: OPENED_AT}]) { edges { cursor } } }`, nil)
	byStage := firstCursor(t, s, tok, `{ cases(first: 1, orderBy: [{field: STAGE}]) { edges { cursor } } }`, nil)
	ledByStage := firstCursor(t, s, tok, `query ($a: ID!) { node(id: $a) { ... on Agency { ledCases(first: 1, orderBy: [{field: STAGE}]) { edges { cursor } } } } }`, map[string]any{"a": lead})
	ledByID := firstCursor(t, s, tok, `query ($a: ID!) { node(id: $a) { ... on Agency { ledCases(first: 1) { edges { cursor } } } } }`, map[string]any{"a": lead})
	// forged is a cursor the server gave out with its values replaced:
	// the ordering it carries is the page's, so only the values are wrong.
	forged := func(from string, values ...any) string {
		var c map[string]any
		decodeCursor(t, from, &c)
		c["v"] = values
		return encodeCursor(t, c)
	}

	t.Run("OK", func(t *testing.T) {
		for _, tc := range []struct{ doc, cursor, next string }{
			{`query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { reference } } } }`, byReference, "TIR-CURSOR-1"},
			{`query ($c: Cursor) { cases(first: 1, after: $c) { edges { node { reference } } } }`, byID, "TIR-CURSOR-1"},
			{`query ($c: Cursor, $a: ID!) { node(id: $a) { ... on Agency { ledCases(first: 1, after: $c) { totalCount } } } }`, ledByID, ""},
			{`query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: OPENED_AT, direction: DESC}, {field: STAGE}]) { edges { node { reference } } } }`, byOpenedAndStage, ""},
			{`query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { reference } } } }`, forged(byReference, nil), ""},
			// One ordering term written without the list's brackets (input
			// coercion): the same ordering, the same cursor.
			{`query ($c: Cursor) { cases(first: 1, after: $c, orderBy: {field: REFERENCE}) { edges { node { reference } } } }`, byReference, "TIR-CURSOR-1"},
			// Its direction spelled out, or paging backwards: the same
			// ordering.
			{`query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE, direction: ASC}]) { edges { node { reference } } } }`, byReference, "TIR-CURSOR-1"},
			{`query ($c: Cursor) { cases(last: 1, before: $c, orderBy: [{field: REFERENCE}]) { edges { node { reference } } } }`, byReference, ""},
			// A cursor given out before cursors carried their ordering
			// (2026-12-06) is taken where it can only have come from: a
			// page in the default order.
			{`query ($c: Cursor) { cases(first: 1, after: $c) { edges { node { reference } } } }`, givenOutBefore(t, byID), "TIR-CURSOR-1"},
			// A field that may be empty, among the records that have one
			// (said at the top of the filter, or in its and).
			{`query ($c: Cursor) { cases(first: 1, after: $c, where: {closedAtNotNil: true}, orderBy: [{field: CLOSED_AT, direction: DESC}]) { edges { node { reference } } } }`, "", ""},
			{`query ($c: Cursor) { cases(first: 1, after: $c, where: {and: [{region: TIRANE}, {closedAtNotNil: true}]}, orderBy: {field: CLOSED_AT}) { edges { node { reference } } } }`, "", ""},
			{`query ($c: Cursor) { cases(first: 1, after: $c) { edges @include(if: true) { cursor } pageInfo { endCursor } } }`, "", ""},
			{`query ($c: Cursor) { cases(first: 1, after: $c, where: {referenceIn: ["TIR-CURSOR-1"]}) { edges { node { reference } } } }`, "", "TIR-CURSOR-1"},
		} {
			var got struct {
				Cases struct {
					Edges []struct{ Node struct{ Reference string } }
				}
			}
			vars := map[string]any{"a": lead}
			if tc.cursor != "" {
				vars["c"] = tc.cursor
			}
			s.Do(t, tok, tc.doc, vars).MustOK(t).Decode(t, &got)
			if tc.next != "" && (len(got.Cases.Edges) != 1 || got.Cases.Edges[0].Node.Reference != tc.next) {
				t.Errorf("%s: the page after the first: %+v, want %s", tc.doc, got, tc.next)
			}
		}
	})

	// The same through variables: one ordering term sent without brackets
	// reaches the checks as a typed slice, which passed them all (a
	// review), and a forged cursor with it was INTERNAL on PostgreSQL.
	for _, tc := range []struct {
		name, doc string
		vars      map[string]any
		field     string
	}{
		{"OrderingTermAsAVariable", `query ($o: [CaseOrder!]) { cases(first: 1, orderBy: $o) { totalCount } }`,
			map[string]any{"o": map[string]any{"field": "CLOSED_AT"}}, "cases.orderBy"},
		{"ForgedCursorWithAnOrderingVariable", `query ($o: [CaseOrder!], $c: Cursor) { cases(first: 1, after: $c, orderBy: $o) { edges { node { id } } } }`,
			map[string]any{"o": map[string]any{"field": "OPENED_AT"}, "c": forged(byOpened, "zzz")}, "cases.after"},
		{"EmptyListInAFilterVariable", `query ($w: CaseWhereInput) { cases(where: $w) { totalCount } }`,
			map[string]any{"w": map[string]any{"referenceIn": []any{}}}, "cases.where.referenceIn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := s.Do(t, tok, tc.doc, tc.vars)
			if codes := res.Codes(); len(codes) != 1 || codes[0] != string(apperr.BadUserInput) || res.Errors[0].Extensions["field"] != tc.field {
				t.Fatalf("want one BAD_USER_INPUT on %s, got:\n%s", tc.field, res.Body)
			}
		})
	}

	for _, tc := range []struct {
		name, doc, cursor, field string
	}{
		{"NestedCursorNotDecodable", `query ($c: Cursor) { victims(first: 1) { edges { node { cases(first: 1, after: $c) { totalCount } } } } }`, "@@@", "cases.after"},
		{"CursorOfAnotherOrdering", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: OPENED_AT}, {field: REFERENCE}]) { totalCount } }`, byReference, "cases.after"},
		{"CursorWithOrderingUsedWithout", `query ($c: Cursor) { cases(last: 1, before: $c) { totalCount } }`, byReference, "cases.before"},
		{"CursorValueNotScalar", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { totalCount } }`, "gqFpAaF2kYGhYQE", "cases.after"},
		{"CursorValueOfAnotherTypeForADate", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: OPENED_AT}]) { edges { node { id } } } }`, forged(byOpened, "abc"), "cases.after"},
		{"CursorValueOfAnotherTypeForAString", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { id } } } }`, forged(byReference, true), "cases.after"},
		{"CursorValueOfAnotherTypeForAnEnum", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: STAGE}]) { edges { node { id } } } }`, forged(byStage, int64(3)), "cases.after"},
		// Values no database compares alike: NUL was INTERNAL on
		// PostgreSQL and an empty page on SQLite; invalid UTF-8 the same;
		// year 10000 opposite pages on the two.
		{"CursorValueWithNUL", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { id } } } }`, forged(byReference, "a\x00b"), "cases.after"},
		{"CursorValueNotUTF8", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { id } } } }`, forged(byReference, "a\xffb"), "cases.after"},
		{"CursorValueYear10000", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: OPENED_AT}]) { edges { node { id } } } }`, forged(byOpened, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), "cases.after"},
		// A cursor carries its list and ordering: another list's, or one
		// of another ordering whose values have the same types (the
		// hunt's, TestCursorOfAnotherOrderingRefused), is refused, nested
		// too; so is one given out before cursors carried their ordering
		// (2026-12-06) that has values, which may be of any ordering.
		{"CursorOfAnotherList", `query ($c: Cursor, $a: ID!) { node(id: $a) { ... on Agency { ledCases(first: 1, after: $c) { totalCount } } } }`, byID, "ledCases.after"},
		{"NestedCursorOfAnotherList", `query ($c: Cursor) { cases(first: 1, after: $c) { totalCount } }`, ledByID, "cases.after"},
		{"NestedCursorOfAnotherOrdering", `query ($c: Cursor, $a: ID!) { node(id: $a) { ... on Agency { ledCases(first: 1, after: $c, orderBy: [{field: REGION}]) { totalCount } } } }`, ledByStage, "ledCases.after"},
		{"CursorGivenOutBeforeWithValues", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { id } } } }`, givenOutBefore(t, byReference), "cases.after"},
		{"CursorWithoutOrderingForOneTerm", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: {field: REFERENCE}) { edges { node { id } } } }`, byID, "cases.after"},
		// Each type has its own range of ids: a cursor of cases given to
		// victims paged from the start as if it were the victims'.
		{"CursorOfAnotherType", `query ($c: Cursor) { victims(first: 1, after: $c) { edges { node { id } } } }`, byID, "victims.after"},
		{"FirstAndLast", `{ cases(first: 1, last: 1) { totalCount } }`, "", "cases"},
		{"OrderingFieldTwice", `{ cases(first: 1, orderBy: [{field: REFERENCE}, {field: REFERENCE, direction: DESC}]) { totalCount } }`, "", "cases.orderBy"},
		{"OrderingInFragmentSpreadTwice", `{ ...A ...A } fragment A on Query { cases(first: 1, orderBy: [{field: REFERENCE}, {field: REFERENCE}]) { totalCount } }`, "", "cases.orderBy"},
		// A field that may be empty orders only the records that have one:
		// no value compares with NULL, so the cursors skipped them (a hunt
		// over HTTP reached 7 of 122 cases by closedAt on SQLite, 81 on
		// PostgreSQL).
		{"OrderingByAFieldThatMayBeEmpty", `{ cases(first: 1, orderBy: [{field: STAGE}, {field: CLOSED_AT}]) { totalCount } }`, "", "cases.orderBy"},
		{"OrderingByAFieldThatMayBeEmptyWithItsFilterFalse", `{ prosecutions(first: 1, where: {investigationDeadlineNotNil: false}, orderBy: {field: INVESTIGATION_DEADLINE}) { totalCount } }`, "", "prosecutions.orderBy"},
		{"OrderingAnEdgeByAFieldThatMayBeEmpty", `{ victims(first: 1) { edges { node { services(first: 1, orderBy: {field: ENDED_ON}) { totalCount } } } } }`, "", "services.orderBy"},
		{"OrderingASuspectsProceedingsByTheirDeadline", `{ suspects(first: 1) { edges { node { prosecutionsConnection(first: 1, orderBy: {field: INVESTIGATION_DEADLINE}) { totalCount } } } } }`, "", "prosecutionsConnection.orderBy"},
		// An empty list in a filter was dropped: referenceIn: [] matched
		// every case.
		// pageInfo without edges was answered from totalCount alone:
		// hasNextPage true and no cursor, for ever.
		{"PageInfoWithoutEdges", `{ cases(first: 1) { totalCount pageInfo { hasNextPage endCursor } } }`, "", "cases"},
		{"PageInfoWithEdgesSkipped", `{ cases(first: 1) { edges @skip(if: true) { cursor } pageInfo { hasNextPage endCursor } } }`, "", "cases"},
		{"PageInfoWithEdgesNotIncluded", `{ cases(first: 1) { ... @include(if: false) { edges { cursor } } pageInfo { endCursor } } }`, "", "cases"},
		{"PageInfoWithoutEdgesInAFragment", `{ victims(first: 1) { edges { node { cases(first: 1) { ...P } } } } } fragment P on CaseConnection { pageInfo { endCursor } }`, "", "cases"},
		{"EmptyListInAFilter", `{ cases(where: {referenceIn: []}) { totalCount } }`, "", "cases.where.referenceIn"},
		{"EmptyOr", `{ cases(where: {or: []}) { totalCount } }`, "", "cases.where.or"},
		{"EmptyListNested", `{ victims(where: {and: [{ageGroup: MINOR}, {not: {idIn: []}}]}) { totalCount } }`, "", "victims.where.and.1.not.idIn"},
		// A statistics filter took an empty list as no filter: a dashboard
		// whose offices' multi-select was cleared (office: []) was given
		// the country's proceedings (twenty-seventh session, 2026-12-08).
		{"EmptyListInAStatisticsFilter", `{ prosecutionStatistics(where: {office: []}) { total { count } } }`, "", "prosecutionStatistics.where.office"},
		{"EmptyListInAStatisticsFilterUnderAnAlias", `{ n: victimStatistics(groupBy: [SEX], where: {sex: []}) { total { count } } }`, "", "victimStatistics.where.sex"},
		{"EmptyListInMeasuresFilter", `{ referralMeasures(where: {serviceKind: [], from: "2024-01"}) { total { suppressed } } }`, "", "referralMeasures.where.serviceKind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]any{"a": lead}
			if tc.cursor != "" {
				vars["c"] = tc.cursor
			}
			res := s.Do(t, tok, tc.doc, vars)
			if codes := res.Codes(); len(codes) != 1 || codes[0] != string(apperr.BadUserInput) || res.Errors[0].Extensions["field"] != tc.field {
				t.Fatalf("want one BAD_USER_INPUT on %s, got:\n%s", tc.field, res.Body)
			}
		})
	}
}

// TestCursorOfAnotherOrderingRefused: a cursor is taken only by the
// ordering of the page it came from (docs/errors.md), BAD_USER_INPUT on
// <field>.after otherwise. The check compared only the cursor's shape (how
// many values, of which Go type), so a cursor of a page ordered by STAGE
// was taken by an ordering by REGION (both strings: the page started after
// the region "UNDER_INVESTIGATION", skipping every case of a region before
// it), one ordered by OPENED_AT by one ordered by CREATED_AT, and one of a
// descending page by the ascending ordering of the same field: each paged
// silently from a place that meant nothing in the order asked (a hunt,
// 2026-12-06).
func TestCursorOfAnotherOrderingRefused(t *testing.T) {
	testdb.Each(t, testCursorOfAnotherOrderingRefused)
}

func testCursorOfAnotherOrderingRefused(t *testing.T, db *database.DB) {
	s, tok := withCases(t, db, "TIR-ORDER-0", "TIR-ORDER-1", "TIR-ORDER-2")
	cursorOf := func(orderBy string) string {
		return firstCursor(t, s, tok, `{ cases(first: 1, orderBy: `+orderBy+`) { edges { cursor } } }`, nil)
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

// TestEmptyNestedFilterRefused: an empty filter inside not, and or or is
// BAD_USER_INPUT (it was INTERNAL: found by server.FuzzGraphQLRequest); an
// empty where at the top is no filter at all.
func TestEmptyNestedFilterRefused(t *testing.T) {
	s := testserver.Start(t, testdb.SQLite(t))
	tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	s.Do(t, tok, `{ cases(where: {}) { totalCount } }`, nil).MustOK(t)
	for _, doc := range []string{
		`{ cases(where: {not: {}}) { totalCount } }`,
		`{ victims(where: {and: [{ageGroup: MINOR}, {}]}) { totalCount } }`,
		`{ agencies(where: {or: [{not: {not: {}}}]}) { totalCount } }`,
	} {
		res := s.Do(t, tok, doc, nil)
		if codes := res.Codes(); len(codes) != 1 || codes[0] != string(apperr.BadUserInput) {
			t.Errorf("%s: want BAD_USER_INPUT, got:\n%s", doc, res.Body)
		}
	}
}

// TestNestedPageKeepsItsOrder: a nested connection under a list
// (a case's victims, asked of each case of a page of cases) answers the
// page its orderBy asks for, in that order, as the same connection asked
// of one case through node(id:) does. An integrator walking each case's
// victims (the first page under the list, the next ones through node(id:)
// after the page's endCursor) gets every victim exactly once.
//
// Under a list, ent's eager loading limits each parent's rows with a
// window function (entgql.LimitPerRow), which sent no ORDER BY around it
// until 2026-12-06 (a hunt): the rows came back in whatever order the
// database returned them, the page dropped as the one past it a row that
// was not, and its endCursor was not its last edge's place.
func TestNestedPageKeepsItsOrder(t *testing.T) {
	testdb.Each(t, testNestedPageKeepsItsOrder)
}

func testNestedPageKeepsItsOrder(t *testing.T, db *database.DB) {
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

// TestNestedPageIsTheOneNodeGives: each parent's page of a nested
// connection under a list is the page node(id:) of that parent gives, the
// same records in the same order with the same cursors and pageInfo,
// forwards and backwards, through a join table (a case's victims, where
// one victim may be in two cases of the list; a proceeding's defendants,
// and from the other side a suspect's proceedings) and through a foreign
// key (the cases an agency leads).
func TestNestedPageIsTheOneNodeGives(t *testing.T) {
	testdb.Each(t, testNestedPageIsTheOneNodeGives)
}

func testNestedPageIsTheOneNodeGives(t *testing.T, db *database.DB) {
	seedDemo(t, db)
	// In the demo data a suspect is a defendant in one proceeding: three
	// suspects are in two more of their case, so that their proceedings
	// take several pages.
	ctx := viewer.SystemContext(context.Background())
	c := db.Client
	office := c.Agency.Query().Where(agency.Code("prosecution-tirane")).OnlyX(ctx)
	for i, sp := range c.Suspect.Query().Order(suspect.ByID()).Limit(3).AllX(ctx) {
		for j := range 2 {
			c.Prosecution.Create().SetRegistrationNumber(fmt.Sprintf("PR-SUSPECT-%d-%d", i, j)).
				SetRegisteredAt(time.Date(2026, time.March, 1+j, 9, 0, 0, 0, time.UTC)).SetCaseID(sp.CaseID).
				SetOfficeID(office.ID).AddDefendantIDs(sp.ID).ExecX(ctx)
		}
	}
	s := testserver.Start(t, db)
	tok := s.Token(t, "onac", viewer.RoleCoordinator)
	const page = `{ edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }`
	for _, tc := range []struct {
		list, parent, edge string
		size               int
	}{
		{"cases(first: 100)", "Case", `victims(first: 2, orderBy: [{field: PSEUDONYM, direction: DESC}])`, 2},
		{"cases(first: 100)", "Case", `victims(last: 2, orderBy: [{field: PSEUDONYM, direction: DESC}])`, 2},
		{"agencies(first: 100)", "Agency", `ledCases(first: 3, orderBy: [{field: REFERENCE, direction: DESC}])`, 3},
		{"agencies(first: 100)", "Agency", `ledCases(last: 3, orderBy: [{field: OPENED_AT}, {field: STAGE}])`, 3},
		{"prosecutions(first: 100)", "Prosecution", `defendantsConnection(first: 1, orderBy: [{field: PSEUDONYM, direction: DESC}])`, 1},
		{"prosecutions(first: 100)", "Prosecution", `defendantsConnection(last: 1)`, 1},
		{"suspects(first: 100)", "Suspect", `prosecutionsConnection(first: 1, orderBy: [{field: REGISTERED_AT, direction: DESC}])`, 1},
		{"suspects(first: 100)", "Suspect", `prosecutionsConnection(last: 1)`, 1},
	} {
		var list struct {
			List struct {
				Edges []struct {
					Node struct {
						ID   string
						Page json.RawMessage
					}
				}
			}
		}
		s.Do(t, tok, `{ list: `+tc.list+` { edges { node { id page: `+tc.edge+` `+page+` } } } }`, nil).MustOK(t).Decode(t, &list)
		cut := 0
		for _, p := range list.List.Edges {
			var one struct {
				Node struct{ Page json.RawMessage }
			}
			s.Do(t, tok, `query ($id: ID!) { node(id: $id) { ... on `+tc.parent+` { page: `+tc.edge+` `+page+` } } }`,
				map[string]any{"id": p.Node.ID}).MustOK(t).Decode(t, &one)
			if !bytes.Equal(p.Node.Page, one.Node.Page) {
				t.Errorf("%s { %s } of %s %s:\n%s\nnode(id:) gives:\n%s", tc.list, tc.edge, tc.parent, p.Node.ID, p.Node.Page, one.Node.Page)
			}
			var info struct {
				Edges    []struct{}
				PageInfo struct{ HasNextPage, HasPreviousPage bool }
			}
			if err := json.Unmarshal(one.Node.Page, &info); err != nil {
				t.Fatal(err)
			}
			if len(info.Edges) == tc.size && (info.PageInfo.HasNextPage || info.PageInfo.HasPreviousPage) {
				cut++
			}
		}
		if cut == 0 {
			t.Errorf("%s { %s }: no parent has more records than the page; the test needs some", tc.list, tc.edge)
		}
	}
}

// TestNestedOrderingOfOneTerm: an orderBy of one term without brackets,
// in the document or in a variable, is a list of that term (GraphQL's
// input coercion), and orders a nested page as the list of it does, under
// a list and through node(id:). ent's eager loading of a nested page
// reads the orderBy as the document holds it, and took only a list: until
// 2026-12-07 (eighteenth session) such a page came in the order of ids,
// under cursors that claimed the ordering asked, while the root list
// (whose arguments gqlgen coerces) was ordered.
func TestNestedOrderingOfOneTerm(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		seedDemo(t, db)
		s := testserver.Start(t, db)
		tok := s.Token(t, "onac", viewer.RoleCoordinator)
		var list struct {
			Cases struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		s.Do(t, tok, `{ cases(first: 20) { edges { node { id } } } }`, nil).MustOK(t).Decode(t, &list)
		// The documents take the variables' declarations, then the
		// ordering.
		const (
			page   = `victims(first: 3, orderBy: %s) { edges { cursor node { id } } pageInfo { endCursor } }`
			term   = `{field: PSEUDONYM, direction: DESC}`
			asList = `query (%s) { cases(first: 20) { edges { node { id ` + page + ` } } } }`
			asNode = `query (%s$id: ID!) { node(id: $id) { ... on Case { ` + page + ` } } }`
		)
		for _, doc := range []string{asList, asNode} {
			for _, c := range list.Cases.Edges {
				vars := map[string]any{"id": c.Node.ID}
				if doc == asList {
					vars = map[string]any{}
				}
				ask := func(order string, v map[string]any) []byte {
					t.Helper()
					declared := ""
					if order == "$o" {
						declared = "$o: [VictimOrder!], "
					}
					q := strings.Replace(fmt.Sprintf(doc, declared, order), "query (, ", "query (", 1)
					q = strings.Replace(q, "query () ", "", 1)
					return s.Do(t, tok, q, v).MustOK(t).Data
				}
				want := ask("["+term+"]", vars)
				oneTerm := ask(term, vars)
				vars["o"] = map[string]any{"field": "PSEUDONYM", "direction": "DESC"}
				inVariable := ask("$o", vars)
				if !bytes.Equal(oneTerm, want) || !bytes.Equal(inVariable, want) {
					t.Fatalf("%s: one term gives\n%s\nin a variable\n%s\nthe list of it\n%s", doc, oneTerm, inVariable, want)
				}
				if doc == asList {
					break
				}
			}
		}
	})
}

// TestCursorsGoWithTheirDirection: a page goes forwards (first, from
// after) or backwards (last, from before); a cursor of the other
// direction is BAD_USER_INPUT naming it, on root and nested connections,
// with and without an orderBy. ent's pagination (entgql.MultiCursorsPredicate)
// reads every cursor as "past it in the direction of the page", so until
// 2026-12-06 (a hunt) first with before answered records after the cursor,
// last with after records before it, after with before together a window
// that was not between them, and that under an orderBy INTERNAL (the first
// cursor's predicate appends the id to the options the second one reads).
// Relay's algorithm (after and before cut the edges, then first or last
// take from them) is what these would have to answer; README says why
// they are refused instead.
func TestCursorsGoWithTheirDirection(t *testing.T) {
	testdb.Each(t, testCursorsGoWithTheirDirection)
}

func testCursorsGoWithTheirDirection(t *testing.T, db *database.DB) {
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
			args  string
			vars  map[string]any
			field string
		}{
			{`first: 2, before: $b`, map[string]any{"b": cursor["TIR-WIN-2"]}, "cases.before"},
			{`last: 2, after: $a`, map[string]any{"a": cursor["TIR-WIN-2"]}, "cases.after"},
			{`first: 5, after: $a, before: $b`, map[string]any{"a": cursor["TIR-WIN-0"], "b": cursor["TIR-WIN-3"]}, "cases.before"},
			{`last: 5, after: $a, before: $b`, map[string]any{"a": cursor["TIR-WIN-1"], "b": cursor["TIR-WIN-4"]}, "cases.after"},
			// Without first or last the page is the default first 50.
			{`before: $b`, map[string]any{"b": cursor["TIR-WIN-2"]}, "cases.before"},
			{`after: $a, before: $b`, map[string]any{"a": cursor["TIR-WIN-0"], "b": cursor["TIR-WIN-3"]}, "cases.before"},
		} {
			var decl []string
			for _, v := range []string{"a", "b"} {
				if _, ok := tc.vars[v]; ok {
					decl = append(decl, "$"+v+": Cursor")
				}
			}
			doc := `query (` + strings.Join(decl, ", ") + `) { cases(` + tc.args + order + `) { edges { node { reference } } } }`
			testserver.WantRefusal(t, s.Do(t, tok, doc, tc.vars), testserver.Want{Code: string(apperr.BadUserInput), Field: tc.field})
			// The same under a list: the check is the document's, before
			// the eager loading plans anything.
			nested := `query (` + strings.Join(decl, ", ") + `) { agencies(first: 1) { edges { node { ledCases(` + tc.args + order + `) { edges { node { reference } } } } } } }`
			testserver.WantRefusal(t, s.Do(t, tok, nested, tc.vars), testserver.Want{Code: string(apperr.BadUserInput), Field: strings.Replace(tc.field, "cases", "ledCases", 1)})
		}
	}
}

// firstCursor is the cursor of the first edge of the one connection doc
// asks for, wherever it is in the answer.
func firstCursor(t *testing.T, s *testserver.Server, tok, doc string, vars map[string]any) string {
	t.Helper()
	r := s.Do(t, tok, doc, vars).MustOK(t)
	m := regexp.MustCompile(`"cursor":"([^"]+)"`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("%s: no edge:\n%s", doc, r.Body)
	}
	return string(m[1])
}

// decodeCursor decodes a cursor as the server writes it (msgpack, then
// base64) into v.
func decodeCursor(t *testing.T, cursor string, v any) {
	t.Helper()
	raw, err := base64.RawStdEncoding.DecodeString(cursor)
	if err == nil {
		err = msgpack.Unmarshal(raw, v)
	}
	if err != nil {
		t.Fatalf("cursor %q: %v", cursor, err)
	}
}

func encodeCursor(t *testing.T, v any) string {
	t.Helper()
	raw, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawStdEncoding.EncodeToString(raw)
}

// givenOutBefore is the cursor the server gave out before cursors carried
// their page's ordering (2026-12-06) where it now gives out cursor: ent's
// alone, as ent writes it.
func givenOutBefore(t *testing.T, cursor string) string {
	t.Helper()
	var c entgql.Cursor[int]
	decodeCursor(t, cursor, &c)
	var b bytes.Buffer
	c.MarshalGQL(&b)
	old, err := strconv.Unquote(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return old
}

// TestCursorIntegerBeyondInt64Refused: a cursor carrying the key of the
// page's ordering (cursor_codec.go) and, for an integer field, a msgpack
// uint64 above 2^63-1 is refused BAD_USER_INPUT, root and nested. It
// passed connectionArguments (an integer field took any integer kind) and
// reached the database driver, which refuses a uint64 with its high bit
// set: INTERNAL on SQLite and PostgreSQL (a review).
func TestCursorIntegerBeyondInt64Refused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		tok := s.Token(t, "prosecution-tirane", viewer.RoleProsecutor)
		for _, v := range []any{uint64(math.MaxUint64), uint64(1<<63 + 1)} {
			cursor := encodeCursor(t, map[string]any{"i": 1, "v": []any{v}, "o": "Query.prosecutions:DEADLINE_EXTENSIONS ASC"})
			r := s.Do(t, tok, `query ($a: Cursor) { prosecutions(first: 5, after: $a, orderBy: [{field: DEADLINE_EXTENSIONS}]) {
  totalCount edges { cursor node { id } } } }`, map[string]any{"a": cursor})
			if codes := r.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) {
				t.Errorf("a forged cursor holding %d for DEADLINE_EXTENSIONS: codes %v, want [BAD_USER_INPUT]\n%s", v, codes, r.Body)
			}
		}
	})
}
