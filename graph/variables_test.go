package graph_test

import (
	"strings"
	"testing"

	"github.com/casegraph/casegraph/apperr"
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
