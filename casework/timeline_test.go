package casework_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent/caseevent"
)

// TestTimelineEntriesKeepTheirVictim: every timeline entry about a victim
// or a record of theirs (a link, an update, a referral, a support service,
// a consent) keeps that victim, on every case of theirs, and the other
// entries keep none. Row scope hides an entry from whoever does not see
// its victim by that column alone (authz.TestTimelineHidesEntriesAboutHiddenVictims).
func TestTimelineEntriesKeepTheirVictim(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c, other := h.openAssigned(t, "SUPPORTING", "ngo-vatra", "shelter-national"), h.openAssigned(t, "SUPPORTING", "ngo-vatra")
		v := h.registerVictim(t, 19, c.ID, other.ID)
		call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version, "in": map[string]any{"region": "DURRES"}})
		r := call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, c.ID)})
		call[referralT](t, h, h.ngo, moveReferralMutation, map[string]any{"id": r.ID, "v": r.Version, "status": "ACCEPTED"})
		call[referralT](t, h, h.police, createReferralMutation, map[string]any{"in": h.referralInput(t, v.ID, nil)})
		sv := call[serviceT](t, h, h.shelter, recordServiceMutation, map[string]any{"in": map[string]any{
			"kind": "SHELTER", "startedOn": stamp(date(4, 1)), "victimID": v.ID, "providerID": h.agency(t, "shelter-national"),
		}})
		call[serviceT](t, h, h.shelter, updateServiceMutation, map[string]any{"id": sv.ID, "v": sv.Version, "in": map[string]any{"startedOn": stamp(date(5, 1))}})
		cs := call[consentT](t, h, h.ngo, recordConsentMutation, map[string]any{"in": map[string]any{
			"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(time.Now().Add(-time.Hour)),
			"agencyKinds": []string{"NGO_SHELTER"}, "purposes": []string{"SERVICES"},
		}})
		call[consentT](t, h, h.ngo, withdrawConsentMutation, map[string]any{"id": cs.ID, "v": cs.Version})

		victimID, err := strconv.Atoi(v.ID)
		if err != nil {
			t.Fatal(err)
		}
		aboutVictim := map[domain.CaseEventKind]bool{
			domain.CaseEventKindVictimLinked: true, domain.CaseEventKindVictimUpdated: true,
			domain.CaseEventKindReferralCreated: true, domain.CaseEventKindReferralStatusChanged: true,
			domain.CaseEventKindSupportRecorded: true, domain.CaseEventKindSupportUpdated: true,
			domain.CaseEventKindConsentRecorded: true, domain.CaseEventKindConsentWithdrawn: true,
		}
		seen := map[domain.CaseEventKind]int{}
		for _, id := range []string{c.ID, other.ID} {
			caseID, _ := strconv.Atoi(id)
			for _, e := range h.s.DB.Client.CaseEvent.Query().Where(caseevent.CaseID(caseID)).AllX(systemCtx()) {
				got := 0
				if e.SubjectVictimID != nil {
					got = *e.SubjectVictimID
				}
				want := 0
				if aboutVictim[e.Kind] {
					want = victimID
					seen[e.Kind]++
				}
				if got != want {
					t.Errorf("case %s, entry %s (%q): its victim is %d, want %d", id, e.Kind, e.Summary, got, want)
				}
			}
		}
		for kind := range aboutVictim {
			if seen[kind] == 0 {
				t.Errorf("no %s entry written: the test did not exercise it", kind)
			}
		}
	})
}
