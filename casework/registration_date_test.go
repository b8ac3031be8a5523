package casework_test

import (
	"strings"
	"testing"
	"time"
)

// TestMutationRegistrationAfterWhatItRecords: a proceeding's registration
// is not moved after what the proceeding already records, which
// registering and recording refuse in that order: a court decision
// (recordCourtDecision refuses one dated before the registration) and the
// investigation deadline (registerProsecution refuses one before it). The
// stages are MoveErrBeforeTheLatestStage's and
// UpdateErrRegisteredAfterAStage's (TestMutationProsecution).
func TestMutationRegistrationAfterWhatItRecords(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		t.Run("ErrAfterADecision", func(t *testing.T) {
			c := h.openAssigned(t, "ADJUDICATING", "court-tirane")
			p := h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 2)))
			call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": map[string]any{
				"instance": "FIRST_INSTANCE", "decidedOn": stamp(date(3, 5)), "verdict": "ACQUITTED",
				"prosecutionID": p.ID, "courtID": h.agency(t, "court-tirane")}})
			h.refuse(t, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
				"in": map[string]any{"registeredAt": stamp(date(3, 20))}}, badField("input.registeredAt"), p.ID)
			// The same day as the decision is still before it.
			call[prosecutionT](t, h, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
				"in": map[string]any{"registeredAt": stamp(date(3, 5))}})
		})
		// A decision is dated by its day in Tirana: sent as local midnight
		// on the day of registration it is not before the registration,
		// and a decision of the day before a registration in Tirana's
		// first hour (23:30 UTC) is. Until 2026-12-07 (nineteenth
		// session) the registration's day was UTC's, so each went the
		// other way, and the registration could not be moved to the
		// decision's own day either.
		t.Run("DecisionDayIsTiranas", func(t *testing.T) {
			court := h.agency(t, "court-tirane")
			decide := func(p prosecutionT, on string) map[string]any {
				return map[string]any{"in": map[string]any{"instance": "FIRST_INSTANCE", "decidedOn": on,
					"verdict": "ACQUITTED", "prosecutionID": p.ID, "courtID": court}}
			}
			// Registered at 09:00 UTC on 2 March, 10:00 in Tirana; decided
			// that day, sent as Tirana's midnight (23:00 UTC on 1 March).
			registered := date(3, 2)
			p := h.bringToTrial(t, h.registerProsecution(t, h.openAssigned(t, "ADJUDICATING", "court-tirane").ID, registered))
			localMidnight := time.Date(lastYear, 3, 2, 0, 0, 0, 0, time.FixedZone("CET", 3600)).Format(time.RFC3339)
			call[decisionT](t, h, h.judge, recordDecisionMutation, decide(p, localMidnight))
			// Registered at 00:30 in Tirana on 3 March (23:30 UTC on 2
			// March); a decision of 2 March, sent as UTC's midnight, comes
			// before it.
			late := time.Date(lastYear, 3, 2, 23, 30, 0, 0, time.UTC)
			q := h.bringToTrial(t, h.registerProsecution(t, h.openAssigned(t, "ADJUDICATING", "court-tirane").ID, late))
			h.refuse(t, h.judge, recordDecisionMutation, decide(q, stamp(time.Date(lastYear, 3, 2, 0, 0, 0, 0, time.UTC))), badField("input.decidedOn"))
		})
		// A registration is dated when it happened, as a stage is: one
		// dated later today (a local time sent as UTC) would leave its
		// proceeding unable to move until then.
		t.Run("ErrInTheFuture", func(t *testing.T) {
			c := h.openCase(t)
			ahead := stamp(time.Now().Add(2 * time.Hour))
			e := h.refuse(t, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": newRegistration(), "registeredAt": ahead, "caseID": c.ID,
				"officeID": h.agency(t, "prosecution-tirane")}}, badField("input.registeredAt"))
			if !strings.Contains(e.Message, ahead) || !strings.Contains(e.Message, "server's time") {
				t.Errorf("message %q does not say which time is ahead of which", e.Message)
			}
			p := h.registerProsecution(t, c.ID, date(3, 2))
			h.refuse(t, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
				"in": map[string]any{"registeredAt": ahead}}, badField("input.registeredAt"), p.ID)
		})
		// A registration a few seconds ahead of the server's clock (the
		// client's runs ahead) is accepted; a stage moved without a date
		// right after is dated with it, not refused as before it.
		t.Run("OKStageRightAfterARegistrationAhead", func(t *testing.T) {
			c := h.openCase(t)
			ahead := time.Now().Add(30 * time.Second).Truncate(time.Second)
			p := call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": newRegistration(), "registeredAt": stamp(ahead), "caseID": c.ID,
				"officeID": h.agency(t, "prosecution-tirane")}})
			got := call[prosecutionT](t, h, h.prosecutor, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version,
				"stage": "UNDER_INVESTIGATION"})
			if got.InvestigationStartedAt == nil || !got.InvestigationStartedAt.Equal(ahead) {
				t.Errorf("investigationStartedAt = %v, want the registration's %v", got.InvestigationStartedAt, ahead)
			}
		})
		// A stage dated with the date the server gave the one before, as
		// the client read it (to the nanosecond on SQLite): not before it.
		t.Run("OKStageDatedAsTheOneBeforeWasRead", func(t *testing.T) {
			p := h.registerProsecution(t, h.openCase(t).ID, date(3, 2))
			started := call[prosecutionT](t, h, h.prosecutor, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version,
				"stage": "UNDER_INVESTIGATION"})
			if started.InvestigationStartedAt == nil {
				t.Fatalf("no investigationStartedAt: %+v", started)
			}
			call[prosecutionT](t, h, h.prosecutor, moveProsStageMutation, map[string]any{"id": p.ID, "v": started.Version,
				"stage": "INVESTIGATION_CLOSED", "at": started.InvestigationStartedAt.Format(time.RFC3339Nano)})
		})
		t.Run("ErrAfterTheDeadline", func(t *testing.T) {
			c := h.openCase(t)
			p := call[prosecutionT](t, h, h.prosecutor, registerProsMutation, map[string]any{"in": map[string]any{
				"registrationNumber": newRegistration(), "registeredAt": stamp(date(3, 2)), "caseID": c.ID,
				"officeID": h.agency(t, "prosecution-tirane"), "investigationDeadline": stamp(date(4, 1))}})
			h.refuse(t, h.prosecutor, updateProsMutation, map[string]any{"id": p.ID, "v": p.Version,
				"in": map[string]any{"registeredAt": stamp(date(5, 1))}}, badField("input.registeredAt"), p.ID)
		})
	})
}
