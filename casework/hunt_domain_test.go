package casework_test

import (
	"testing"
	"time"

	"github.com/casegraph/casegraph/internal/testserver"
)

// Tests of a hunt over HTTP for the rules of docs/domain.md: each fails on
// the code it was written against, and passes once the rule it quotes
// holds.

// TestHuntOpenedAtFollowedByClosedAtInEitherOrder: the same three
// mutations (register a proceeding dated before the case was opened, end
// it, move the case's openedAt later) leave the case differently, or are
// refused, by their order.
//
// The promise: README, "The case follows its proceedings": "its closedAt
// the date the last of them ended, or the case's openedAt if that is later
// (also after updateCase moves it)"; docs/domain.md, Cases: the case is
// "closed on the date the last proceeding ended, but never before the case
// was opened ... so closedAt depends on openedAt too.
// casework.followProceedings applies the rule whenever what it reads
// changes: a proceeding registered or moved, and openedAt moved by
// updateCase".
//
// What the server does: with openedAt moved first (20 → 25 February) and
// the proceeding ended after (merged on 10 January), the case is closed on
// 25 February, by the rule. With the proceeding ended first, the case is
// closed on 20 February only because it was opened then (the clamp), and
// moving openedAt to 25 February is refused, BAD_USER_INPUT on
// input.openedAt, "The case closed on …; it cannot have been opened after
// that": the check meant for a case closed by hand (docs/input.md, "a case
// never closes before it opened") reads the clamp, which the rule would
// move with openedAt, as a date the case closed. A correction of the
// opening date that the rule would take is lost, and which state an office
// ends in depends on the order its clerks typed the same facts.
func TestHuntOpenedAtFollowedByClosedAtInEitherOrder(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		corrected := date(2, 25) // the opening date as corrected; the case was opened on 2/20
		updateOpenedAt := func(t *testing.T, id string, version int) *testserver.Response {
			return h.do(t, h.police, updateCaseMutation, map[string]any{"id": id, "v": version,
				"in": map[string]any{"openedAt": stamp(corrected)}})
		}

		// The opening date corrected first, the proceeding ended after.
		first := h.openCase(t)
		p := h.registerProsecution(t, first.ID, date(1, 5))
		st := h.caseState(t, first.ID)
		if r := updateOpenedAt(t, first.ID, st.version); len(r.Errors) > 0 {
			t.Fatalf("moving openedAt of an open case: %s", r.Body)
		}
		h.moveProsecution(t, p, "MERGED", ptr(date(1, 10)))
		want := h.caseState(t, first.ID)
		if want.stage != "MERGED" || want.closedAt != stamp(corrected) {
			t.Fatalf("openedAt first: case %+v, want MERGED closed on %s (README: the case's openedAt if that is later)", want, stamp(corrected))
		}

		// The same facts, the proceeding ended first.
		second := h.openCase(t)
		p = h.registerProsecution(t, second.ID, date(1, 5))
		h.moveProsecution(t, p, "MERGED", ptr(date(1, 10)))
		st = h.caseState(t, second.ID)
		if st.closedAt != stamp(second.OpenedAt) {
			t.Fatalf("setup: case %+v, want closed when it was opened (%s)", st, stamp(second.OpenedAt))
		}
		r := updateOpenedAt(t, second.ID, st.version)
		if len(r.Errors) > 0 {
			t.Errorf("BUG: the proceeding ended first, moving the case's openedAt from %s to %s is refused, where the other order took it and closed the case on %s: %s",
				stamp(second.OpenedAt), stamp(corrected), stamp(corrected), r.Body)
		}
		if got := h.caseState(t, second.ID); got.stage != want.stage || got.closedAt != want.closedAt {
			t.Errorf("proceeding ended first: case %s closed %q, the other order %s closed %q", got.stage, got.closedAt, want.stage, want.closedAt)
		}
	})
}

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
