package graph_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
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
	var page struct {
		Cases struct {
			Edges []struct {
				Cursor string
				Node   struct{ Reference string }
			}
		}
	}
	s.Do(t, tok, `{ cases(first: 1, orderBy: [{field: REFERENCE}]) { edges { cursor node { reference } } } }`, nil).MustOK(t).Decode(t, &page)
	byReference := page.Cases.Edges[0].Cursor
	s.Do(t, tok, `{ cases(first: 1) { edges { cursor node { reference } } } }`, nil).MustOK(t).Decode(t, &page)
	byID := page.Cases.Edges[0].Cursor
	s.Do(t, tok, `{ cases(first: 1, orderBy: [{field: OPENED_AT, direction: DESC}, {field: STAGE}]) { edges { cursor node { reference } } } }`, nil).MustOK(t).Decode(t, &page)
	byOpenedAndStage := page.Cases.Edges[0].Cursor
	forged := func(values ...any) string {
		var b bytes.Buffer
		entgql.Cursor[int]{ID: 1, Value: values}.MarshalGQL(&b)
		c, err := strconv.Unquote(b.String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("OK", func(t *testing.T) {
		for _, tc := range []struct{ doc, cursor, next string }{
			{`query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { reference } } } }`, byReference, "TIR-CURSOR-1"},
			{`query ($c: Cursor) { cases(first: 1, after: $c) { edges { node { reference } } } }`, byID, "TIR-CURSOR-1"},
			{`query ($c: Cursor) { agencies(first: 1) { edges { node { cases(first: 1, after: $c) { totalCount } } } } }`, byID, ""},
			{`query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: OPENED_AT, direction: DESC}, {field: STAGE}]) { edges { node { reference } } } }`, byOpenedAndStage, ""},
			{`query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { reference } } } }`, forged(nil), ""},
			// One ordering term written without the list's brackets (input
			// coercion): the same ordering, the same cursor.
			{`query ($c: Cursor) { cases(first: 1, after: $c, orderBy: {field: REFERENCE}) { edges { node { reference } } } }`, byReference, "TIR-CURSOR-1"},
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
			var vars map[string]any
			if tc.cursor != "" {
				vars = map[string]any{"c": tc.cursor}
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
			map[string]any{"o": map[string]any{"field": "OPENED_AT"}, "c": forged("zzz")}, "cases.after"},
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
		{"CursorValueOfAnotherTypeForADate", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: OPENED_AT}]) { edges { node { id } } } }`, forged("abc"), "cases.after"},
		{"CursorValueOfAnotherTypeForAString", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { id } } } }`, forged(true), "cases.after"},
		{"CursorValueOfAnotherTypeForAnEnum", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: STAGE}]) { edges { node { id } } } }`, forged(int64(3)), "cases.after"},
		// Values no database compares alike: NUL was INTERNAL on
		// PostgreSQL and an empty page on SQLite; invalid UTF-8 the same;
		// year 10000 opposite pages on the two.
		{"CursorValueWithNUL", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { id } } } }`, forged("a\x00b"), "cases.after"},
		{"CursorValueNotUTF8", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: REFERENCE}]) { edges { node { id } } } }`, forged("a\xffb"), "cases.after"},
		{"CursorValueYear10000", `query ($c: Cursor) { cases(first: 1, after: $c, orderBy: [{field: OPENED_AT}]) { edges { node { id } } } }`, forged(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), "cases.after"},
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			var vars map[string]any
			if tc.cursor != "" {
				vars = map[string]any{"c": tc.cursor}
			}
			res := s.Do(t, tok, tc.doc, vars)
			if codes := res.Codes(); len(codes) != 1 || codes[0] != string(apperr.BadUserInput) || res.Errors[0].Extensions["field"] != tc.field {
				t.Fatalf("want one BAD_USER_INPUT on %s, got:\n%s", tc.field, res.Body)
			}
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
