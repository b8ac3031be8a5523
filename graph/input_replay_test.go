package graph_test

import (
	"context"
	"slices"
	"testing"

	"github.com/casegraph/casegraph/database"
	"github.com/casegraph/casegraph/internal/testdb"
	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestKeyedEmergencyRequestRefusedForItsInput: a keyed
// requestEmergencyAccess whose justification the input rules refuse (a
// control character) is handed to casework as a possible replay
// (checkInput), and, being none, is refused BAD_USER_INPUT and writes no
// audit event, as without a key. It was NOT_FOUND on an unknown case,
// filed in the trail under it: casework's own checks of the request ran
// first on the unchecked justification (a review).
func TestKeyedEmergencyRequestRefusedForItsInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *database.DB) {
		s := testserver.Start(t, db)
		tok := s.Token(t, "police-tirane", viewer.RoleInvestigator)
		sys := viewer.SystemContext(context.Background())
		events := func() int {
			n, err := db.Client.AuditEvent.Query().Count(sys)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		const doc = `mutation ($c: ID!, $j: String!, $k: String) { requestEmergencyAccess(caseID: $c, justification: $j, hours: 1, idempotencyKey: $k) { id } }`
		vars := map[string]any{"c": "999999", "j": "The victim is missing and we need to reach her family\u0007 now."}

		before := events()
		unkeyed := s.Do(t, tok, doc, vars)
		unkeyedWrote := events() - before
		if codes := unkeyed.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) {
			t.Fatalf("control: without a key, codes %v, want [BAD_USER_INPUT]\n%s", codes, unkeyed.Body)
		}

		vars["k"] = "review-r1-emergency-1"
		before = events()
		keyed := s.Do(t, tok, doc, vars)
		keyedWrote := events() - before
		if codes := keyed.Codes(); !slices.Equal(codes, []string{"BAD_USER_INPUT"}) {
			t.Errorf("with an idempotency key (no record under it), codes %v, want [BAD_USER_INPUT] as without one\n%s", codes, keyed.Body)
		}
		if keyedWrote != unkeyedWrote {
			t.Errorf("with an idempotency key the refused request wrote %d audit events, without one %d", keyedWrote, unkeyedWrote)
		}
	})
}
