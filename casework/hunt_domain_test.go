package casework_test

import (
	"testing"
	"time"
)

// Tests of a hunt over HTTP for the rules of docs/domain.md: each fails on
// the code it was written against, and passes once the rule it quotes
// holds.

// TestHuntRegisteredProceedingPastItsDeadlineIsExtended: a proceeding
// whose office set its investigation deadline at registration reads
// overdue while it is REGISTERED, and its deadline cannot be extended.
//
// The promise: docs/domain.md, Investigation deadlines: "Starting the
// investigation ... sets its deadline three months later, unless the
// office set one at registration; an extension
// (extendInvestigationDeadline) moves it later by at most three months";
// What the monitoring mechanism watches: "an investigation is open in
// REGISTERED and UNDER_INVESTIGATION (ProceedingStage.InvestigationOpen),
// and a proceeding is overdue when its investigation is open and its
// deadline has passed"; the schema: Prosecution.investigationDeadline
// "Changes through extendInvestigationDeadline once set".
//
// What the server does: the proceeding's overdueDays counts the days past
// the deadline set at registration (its investigation is open), yet
// extendInvestigationDeadline refuses it, BAD_USER_INPUT on id, "Only a
// proceeding under investigation has a deadline to extend; this one is
// REGISTERED": the deadline that makes it overdue is one the office
// cannot extend, and no other mutation changes it, so the office's
// proceeding stays on the overdue list until it starts the investigation.
func TestHuntRegisteredProceedingPastItsDeadlineIsExtended(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		deadline := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Second)
		p := call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
			"registrationNumber": newRegistration(), "registeredAt": stamp(deadline.AddDate(0, -1, 0)), "caseID": c.ID,
			"investigationDeadline": stamp(deadline), "officeID": h.agency(t, "prosecution-tirane"),
		}})
		var overdue struct{ Node struct{ OverdueDays *int } }
		h.do(t, h.prosecutor, `query($id: ID!) { node(id: $id) { ... on Prosecution { overdueDays } } }`, map[string]any{"id": p.ID}).
			MustOK(t).Decode(t, &overdue)
		if p.Stage != "REGISTERED" || overdue.Node.OverdueDays == nil || *overdue.Node.OverdueDays < 9 {
			t.Fatalf("setup: %s, overdueDays %v, want REGISTERED and about 10 days overdue", p.Stage, overdue.Node.OverdueDays)
		}
		until := deadline.AddDate(0, 2, 0)
		r := h.do(t, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": stamp(until)})
		if len(r.Errors) > 0 {
			t.Fatalf("BUG: a proceeding %d days past the deadline its office set at registration (its investigation open, REGISTERED) cannot have that deadline extended: %s",
				*overdue.Node.OverdueDays, r.Body)
		}
		var got struct{ ExtendInvestigationDeadline prosecutionT }
		r.Decode(t, &got)
		sameTime(t, "investigationDeadline", got.ExtendInvestigationDeadline.InvestigationDeadline, until)
	})
}
