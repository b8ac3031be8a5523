package graph_test

import (
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestListIDLookupOnLostConnectionIsUnavailable: the look-up of the ids a
// where names (graph.recordIDsAsked) fails as the list's own read does:
// UNAVAILABLE with a request id when the connection is gone (docs/audit.md,
// "Records asked for by id"). As first written (2026-12-07) it ran before
// the field's errors were marked as a resolver's, and the presenter took
// its error for an argument that could not be read: BAD_USER_INPUT, and
// the client was told not to retry (a review).
func TestListIDLookupOnLostConnectionIsUnavailable(t *testing.T) {
	testdb.Each(t, func(t *testing.T, base *database.DB) {
		db, faults := testdb.WithFaults(base)
		s := testserver.Start(t, db)
		tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
		opened := s.Do(t, tok, openCaseDoc, map[string]any{"in": faultCaseInput("TIR-REVIEW-1", agencyGlobalID(t, db, "police-tirane"))}).MustOK(t)
		var made struct{ OpenCase struct{ ID string } }
		opened.Decode(t, &made)
		const query = `query ($ids: [ID!]) { cases(first: 2, where: {idIn: $ids}) { totalCount } }`
		vars := map[string]any{"ids": []string{made.OpenCase.ID}}
		s.Do(t, tok, query, vars).MustOK(t)

		for name, lost := range lostConnections {
			t.Run(name, func(t *testing.T) {
				// The first statement on case_files is the look-up of the ids
				// named; the list's own statements then go through.
				faults.FailStatements("case_files", 1, lost)
				defer faults.Clear()
				wantUnavailable(t, s.Do(t, tok, query, vars), "the look-up of where's ids lost its connection")
			})
		}
		s.Do(t, tok, query, vars).MustOK(t)
	})
}
