package casework_test

import (
	"testing"
	"time"
)

// TestWritesNeedStanding: an agency sees the victims referred to it, to
// decide the referral, but writes about them only once it accepts: a hunt
// over HTTP found an agency that had rejected its referral renaming the
// victim and withdrawing another agency's consent, and one with a pending
// referral changing her phone.
func TestWritesNeedStanding(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t) // ngo-vatra has no part in it
		v := h.registerVictim(t, 30, c.ID)
		refer := func(t *testing.T) referralT {
			return call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, c.ID)})
		}
		consent := map[string]any{"in": map[string]any{"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(time.Now().Add(-time.Hour)),
			"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"}}}
		refused := func(t *testing.T) {
			t.Helper()
			update := map[string]any{"id": v.ID, "v": v.Version, "in": map[string]any{"identificationStatus": "OFFICIAL_VICTIM"}}
			h.refuse(t, h.ngo, updateVictimMutation, update, want{Code: "FORBIDDEN", Field: "id"}, v.ID)
			h.refuse(t, h.ngo, recordConsentMutation, consent, want{Code: "FORBIDDEN", Field: "input.victimID"}, v.ID)
		}

		pending := refer(t)
		t.Run("PendingReferral", refused)
		call[referralT](t, h, h.ngo, moveReferralMutation, map[string]any{"id": pending.ID, "v": pending.Version, "status": "REJECTED"})
		t.Run("RejectedReferral", refused)

		accepted := refer(t)
		call[referralT](t, h, h.ngo, moveReferralMutation, map[string]any{"id": accepted.ID, "v": accepted.Version, "status": "ACCEPTED"})
		t.Run("AcceptedReferral", func(t *testing.T) {
			call[consentT](t, h, h.ngo, recordConsentMutation, consent)
		})
	})
}
