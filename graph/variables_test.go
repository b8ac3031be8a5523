package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/casegraph/casegraph/apperr"
	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestVariableErrorsQuoteNoValue: a variable's value of the wrong type is
// BAD_USER_INPUT saying where it sits and the type wanted, never the value
// sent nor Go's names of types. A hunt over HTTP was told "Maria Hoxha
// born 1990-02-03 is not a valid Sex", "cannot use map as ID" and "cannot
// use string as Int" (for 24.5).
func TestVariableErrorsQuoteNoValue(t *testing.T) {
	s := testserver.Start(t, testdb.SQLite(t))
	tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	const victim = `mutation ($in: CreateVictimInput!) { registerVictim(input: $in) { id } }`
	for _, tc := range []struct {
		name, doc string
		vars      map[string]any
		want      string
	}{
		{"EnumWithAName", `query ($s: Sex) { victims(where: {sex: $s}) { totalCount } }`, map[string]any{"s": "Maria Hoxha born 1990-02-03"}, "$s is not a value of the enum Sex."},
		{"IntWithAFraction", `query ($n: Int) { cases(first: $n) { totalCount } }`, map[string]any{"n": 24.5}, "$n must be a value of type Int."},
		{"IDAsAnObject", `query ($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": map[string]any{"a": "Maria Hoxha"}}, "$id must be a value of type ID."},
		{"InputAsAList", victim, map[string]any{"in": []any{"Maria Hoxha"}}, "$in must be a CreateVictimInput object."},
		{"UnknownField", victim, map[string]any{"in": map[string]any{"Maria Hoxha born 1990": 1}}, "$in has a field its type does not have."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, tok, tc.doc, tc.vars)
			if codes := r.Codes(); len(codes) != 1 || codes[0] != string(apperr.BadUserInput) || r.Errors[0].Message != tc.want {
				t.Errorf("want one BAD_USER_INPUT %q, got:\n%s", tc.want, r.Body)
			}
			for _, leak := range []string{"Maria", "24.5", "map", "slice", "string"} {
				if strings.Contains(string(r.Body), leak) {
					t.Errorf("the answer quotes %q: %s", leak, r.Body)
				}
			}
		})
	}
}

// TestEnumVariableInAnotherCase: an enum value sent in a variable in
// another case than the schema's ("tirane" for TIRANE, "female" for
// FEMALE) is refused as every other value of no enum is: a request error
// (no data) at the variable, "$r is not a value of the enum Region.",
// pointing at its definition, and nothing runs. gqlparser's validation of
// variables compares enum values without regard to case
// (strings.EqualFold), so such a value passed it and was refused only by
// the enum's Go type while the field ran: "A value in the request is not
// valid (at cases.where.region)" on a path of arguments, no
// extensions.field and no location, and `data: null` with status 200
// under application/graphql-response+json, so an integrator's request
// error looked like a partial result (twenty-sixth session, an
// integrator's walk over HTTP).
func TestEnumVariableInAnotherCase(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) { enumVariableInAnotherCase(t, db) })
}

func enumVariableInAnotherCase(t *testing.T, db *database.DB) {
	s := testserver.Start(t, db)
	tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	victim := map[string]any{"pseudonym": "V-2026-0777", "sex": "female", "ageGroup": "ADULT",
		"identificationStatus": "POTENTIAL_VICTIM", "identifiedBy": "STATE_POLICE",
		"identifiedAt": "2026-03-01T09:30:00Z", "region": "TIRANE"}
	for _, tc := range []struct {
		name, doc string
		vars      map[string]any
		want      string
		path      []any
		column    int
	}{
		{"Argument", `query ($r: Region) { cases(where: {region: $r}) { totalCount } }`,
			map[string]any{"r": "tirane"}, "$r is not a value of the enum Region.", []any{"variable", "r"}, 8},
		{"InAList", `query ($r: [Region!]) { cases(where: {regionIn: $r}) { totalCount } }`,
			map[string]any{"r": []any{"TIRANE", "Durres"}}, "$r[1] is not a value of the enum Region.", []any{"variable", "r", float64(1)}, 8},
		{"InAFilter", `query ($w: CaseWhereInput) { cases(where: $w) { totalCount } }`,
			map[string]any{"w": map[string]any{"not": map[string]any{"region": "tirane"}}}, "$w.not.region is not a value of the enum Region.", []any{"variable", "w", "not", "region"}, 8},
		{"AnOrdering", `query ($o: [CaseOrder!]) { cases(orderBy: $o) { totalCount } }`,
			map[string]any{"o": []any{map[string]any{"field": "OPENED_AT", "direction": "desc"}}}, "$o[0].direction is not a value of the enum OrderDirection.", []any{"variable", "o", float64(0), "direction"}, 8},
		{"AMutationsInput", `mutation ($in: CreateVictimInput!) { registerVictim(input: $in) { id } }`,
			map[string]any{"in": victim}, "$in.sex is not a value of the enum Sex.", []any{"variable", "in", "sex"}, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, accept := range []string{"application/json", "application/graphql-response+json"} {
				req := testserver.Post(t, s.URL, tok, tc.doc, tc.vars)
				req.Header.Set("Accept", accept)
				r := s.Send(t, req)
				if _, data := r.Top["data"]; data {
					t.Errorf("%s: a value of no enum is a request error, with no data:\n%s", accept, r.Body)
				}
				if want := map[string]int{"application/json": 200, "application/graphql-response+json": 400}[accept]; r.Status != want {
					t.Errorf("%s: status %d, want %d", accept, r.Status, want)
				}
				if len(r.Errors) != 1 || r.Errors[0].Code() != string(apperr.BadUserInput) || r.Errors[0].Message != tc.want {
					t.Fatalf("%s: want one BAD_USER_INPUT %q, got:\n%s", accept, tc.want, r.Body)
				}
				e := r.Errors[0]
				if fmt.Sprint(e.Path) != fmt.Sprint(tc.path) || len(e.Locations) != 1 || e.Locations[0] != (testserver.Location{Line: 1, Column: tc.column}) {
					t.Errorf("%s: want the path %v and the variable's definition at 1:%d, got:\n%s", accept, tc.path, tc.column, r.Body)
				}
			}
		})
	}
	// Nothing of the refused mutation was written.
	r := s.Do(t, tok, `{ victims(where: {pseudonym: "V-2026-0777"}) { totalCount } }`, nil).MustOK(t)
	if !strings.Contains(string(r.Data), `"totalCount":0`) {
		t.Errorf("the refused registerVictim wrote a victim: %s", r.Data)
	}
	// The schema's own spelling is taken.
	victim["sex"] = "FEMALE"
	s.Do(t, tok, `mutation ($in: CreateVictimInput!) { registerVictim(input: $in) { id } }`, map[string]any{"in": victim}).MustOK(t)
}
