package casework_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The loser of a race gets CONFLICT, not the error its change would meet on
// the winner's record: the version is checked before any rule that reads
// the record's current state. Each case lets a winner change a record, then
// sends the loser's change with the version both read, which from the
// winner's state breaks a rule (a move to the stage the record is now at,
// a charge already under that article, a consent already withdrawn…).
func TestMutationStaleVersionIsConflictBeforeRules(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openAssigned(t, "SUPPORTING", "ngo-vatra", "shelter-national")
		h.assign(t, c.ID, "ADJUDICATING", "court-tirane")
		v := h.registerVictim(t, 30, c.ID)
		need(t, c.ID, v.ID)

		t.Run("MoveCaseStage", func(t *testing.T) {
			x := h.openCase(t)
			call[caseT](t, h, h.prosecutor, moveCaseStageMutation, map[string]any{"id": x.ID, "v": x.Version, "stage": "REGISTERED"})
			h.refuse(t, h.prosecutor, moveCaseStageMutation, map[string]any{"id": x.ID, "v": x.Version, "stage": "REGISTERED"}, conflict, x.ID)
		})
		t.Run("MoveProsecutionStage", func(t *testing.T) {
			p := h.registerProsecution(t, c.ID, date(3, 1))
			h.moveProsecution(t, p, "UNDER_INVESTIGATION", nil)
			h.refuse(t, h.prosecutor, moveProsStageMutation, map[string]any{"id": p.ID, "v": p.Version, "stage": "UNDER_INVESTIGATION"}, conflict, p.ID)
		})
		t.Run("ExtendInvestigationDeadline", func(t *testing.T) {
			p := h.moveProsecution(t, h.registerProsecution(t, c.ID, date(3, 1)), "UNDER_INVESTIGATION", nil)
			need(t, p.ID)
			until := p.InvestigationDeadline.AddDate(0, 1, 0)
			call[prosecutionT](t, h, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": stamp(until)})
			h.refuse(t, h.prosecutor, extendDeadlineMutation, map[string]any{"id": p.ID, "v": p.Version, "until": stamp(until)}, conflict, p.ID)
		})
		t.Run("ReclassifyCharge", func(t *testing.T) {
			p := h.registerProsecution(t, c.ID, date(3, 1))
			ch := call[chargeT](t, h, h.prosecutor, addChargeMutation, map[string]any{"in": map[string]any{"article": "CC_110A", "prosecutionID": p.ID}})
			call[chargeT](t, h, h.prosecutor, reclassifyMutation, map[string]any{"id": ch.ID, "v": ch.Version, "article": "CC_128B"})
			h.refuse(t, h.prosecutor, reclassifyMutation, map[string]any{"id": ch.ID, "v": ch.Version, "article": "CC_128B"}, conflict, ch.ID)
		})
		t.Run("UpdateCourtDecision", func(t *testing.T) {
			p := h.bringToTrial(t, h.registerProsecution(t, c.ID, date(3, 1)))
			d := call[decisionT](t, h, h.judge, recordDecisionMutation, map[string]any{"in": map[string]any{
				"instance": "FIRST_INSTANCE", "decidedOn": stamp(date(10, 1)), "verdict": "CONVICTED", "sentenceKind": "IMPRISONMENT",
				"sentenceMonths": 96, "prosecutionID": p.ID, "courtID": h.agency(t, "court-tirane"),
			}})
			call[decisionT](t, h, h.judge, updateDecisionMutation, map[string]any{"id": d.ID, "v": d.Version,
				"in": map[string]any{"verdict": "ACQUITTED", "clearSentenceKind": true, "clearSentenceMonths": true}})
			// Fine from the loser's reading (a conviction), impossible on an acquittal.
			h.refuse(t, h.judge, updateDecisionMutation, map[string]any{"id": d.ID, "v": d.Version,
				"in": map[string]any{"sentenceMonths": 120}}, conflict, d.ID)
		})
		t.Run("WithdrawConsent", func(t *testing.T) {
			cs := call[consentT](t, h, h.ngo, recordConsentMutation, map[string]any{"in": map[string]any{
				"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(time.Now().Add(-time.Hour)),
				"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"},
			}})
			call[consentT](t, h, h.ngo, withdrawConsentMutation, map[string]any{"id": cs.ID, "v": cs.Version})
			h.refuse(t, h.ngo, withdrawConsentMutation, map[string]any{"id": cs.ID, "v": cs.Version}, conflict, cs.ID)
		})
		t.Run("MoveReferralStatus", func(t *testing.T) {
			r := call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, c.ID)})
			call[referralT](t, h, h.ngo, moveReferralMutation, map[string]any{"id": r.ID, "v": r.Version, "status": "ACCEPTED"})
			h.refuse(t, h.ngo, moveReferralMutation, map[string]any{"id": r.ID, "v": r.Version, "status": "ACCEPTED"}, conflict, r.ID)
		})
		t.Run("UpdateSupportService", func(t *testing.T) {
			s := call[serviceT](t, h, h.shelter, recordServiceMutation, map[string]any{"in": map[string]any{
				"kind": "SHELTER", "startedOn": stamp(date(4, 1)), "victimID": v.ID, "providerID": h.agency(t, "shelter-national"),
			}})
			call[serviceT](t, h, h.shelter, updateServiceMutation, map[string]any{"id": s.ID, "v": s.Version,
				"in": map[string]any{"startedOn": stamp(date(6, 1))}})
			// An end after the start the loser read, before the winner's.
			h.refuse(t, h.shelter, updateServiceMutation, map[string]any{"id": s.ID, "v": s.Version,
				"in": map[string]any{"endedOn": stamp(date(5, 1))}}, conflict, s.ID)
		})
	})
}

// A stale expectedVersion is told the version now (extensions.currentVersion,
// as changePolicy's is), and one the record never had is told as that, not
// as a change made since: an integrator whose answer was lost learns from
// the refusal whether its update was made (twenty-sixth session).
func TestMutationStaleVersionSaysTheCurrentOne(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		updated := call[caseT](t, h, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": c.Version, "in": map[string]any{"title": "Changed once"}})
		for _, tc := range []struct {
			name    string
			version int
			message string
		}{
			{"Stale", c.Version, "changed since you read it"},
			{"Ahead", updated.Version + 97, fmt.Sprintf("has no version %d: its version is %d", updated.Version+97, updated.Version)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := h.refuse(t, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": tc.version, "in": map[string]any{"title": "Changed twice"}}, conflict, c.ID)
				if got := fmt.Sprint(e.Extensions["currentVersion"]); got != strconv.Itoa(updated.Version) {
					t.Errorf("extensions.currentVersion = %s, want %d: %+v", got, updated.Version, e)
				}
				if !strings.Contains(e.Message, tc.message) {
					t.Errorf("message %q does not say %q", e.Message, tc.message)
				}
			})
		}
	})
}
