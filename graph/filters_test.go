package graph_test

import (
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestTextFiltersAgree: the same text filter selects the same rows on both
// databases. A hunt over HTTP found SQLite's LIKE blind to ASCII case
// (referenceContains: "h2-a_b" found H2-A_B there, nothing on PostgreSQL)
// and its lower() blind to other letters' (referenceEqualFold: "H2-ËLBA"
// found H2-ëlba alone there, both on PostgreSQL).
func TestTextFiltersAgree(t *testing.T) {
	testdb.Each(t, testTextFiltersAgree)
}

func testTextFiltersAgree(t *testing.T, db *database.DB) {
	s, tok := withCases(t, db, "H2-A_B", "H2-a", "H2-ËLBA", "H2-ëlba")
	for _, tc := range []struct {
		where string
		want  int
	}{
		{`{referenceContains: "h2-a_b"}`, 0},
		{`{referenceContains: "A_B"}`, 1},
		{`{referenceHasPrefix: "h2-"}`, 0},
		{`{referenceHasSuffix: "LBA"}`, 1},
		{`{referenceHasSuffix: "lba"}`, 1},
		{`{referenceEqualFold: "H2-ËLBA"}`, 2},
		{`{referenceEqualFold: "h2-a"}`, 1},
		{`{referenceContainsFold: "ëlb"}`, 2},
		{`{referenceContainsFold: "h2-a"}`, 2},
	} {
		var got struct{ Cases struct{ TotalCount int } }
		s.Do(t, tok, `{ cases(where: `+tc.where+`) { totalCount } }`, nil).MustOK(t).Decode(t, &got)
		if got.Cases.TotalCount != tc.want {
			t.Errorf("cases(where: %s): %d, want %d", tc.where, got.Cases.TotalCount, tc.want)
		}
	}
}

// withCases starts a server on db with a case of each reference, opened by
// a Tirana investigator, and returns that investigator's token.
func withCases(t *testing.T, db *database.DB, references ...string) (*testserver.Server, string) {
	t.Helper()
	s := testserver.Start(t, db)
	tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
	lead := agencyGlobalID(t, db, "police-tirane")
	for _, ref := range references {
		s.Do(t, tok, openCaseDoc, map[string]any{"in": faultCaseInput(ref, lead)}).MustOK(t)
	}
	return s, tok
}
