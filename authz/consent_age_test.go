package authz_test

import (
	"slices"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/viewer"
)

// TestConsentVoidedByAge: a victim's own consent opens nothing when the
// victim's stored ages place them under 16 when they gave it, whatever the
// recorder could read (recordConsent's refusal reads only that, so as not
// to tell a hidden age) and whenever the ages were recorded. Over HTTP, by
// what the consent opens to the police that recorded it.
func TestConsentVoidedByAge(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		c := e.db.Client
		police := e.tok(t, "police-durres", viewer.RoleInvestigator)
		opened := []string{"legalName", "phone", "address"} // what a consent for CRIMINAL_PROCEEDINGS opens to the police
		consentIn := func(victimID int, at time.Time) map[string]any {
			return map[string]any{"agencyKinds": []string{"LOCAL_POLICE_DIRECTORATE"}, "purposes": []string{"CRIMINAL_PROCEEDINGS"},
				"givenBy": "VICTIM", "givenAt": at.UTC().Format(time.RFC3339), "victimID": gid(victimID)}
		}

		// ADULT by its group, born in 2000: police-durres may not read the
		// date of birth before a consent, so a consent dated back to 2013
		// is recorded, and opens nothing.
		born := time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)
		vBorn := abuseVictim(t, c, f, "V-2026-0111", domain.AgeGroupAdult, &born, nil, time.Time{}, f.caseD)
		t.Run("BackdatedBelowSixteenOpensNothing", func(t *testing.T) {
			r := e.do(t, police, recordConsent, map[string]any{"in": consentIn(vBorn, born.AddDate(13, 0, 0))}).MustOK(t)
			e.readVictim(t, police, vBorn)
			// The consent rests on a date of birth the recorder may not
			// read: the trail says it was consulted, and refused.
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if _, ok := findEvent(events, func(ev audit.Event) bool {
				return ev.Kind == audit.FieldAccess && ev.Decision == audit.Denied && ev.EntityID == vBorn && slices.Contains(ev.Fields, "Victim.dateOfBirth")
			}); !ok {
				t.Errorf("no refused read of the date of birth recorded for the voided consent:\n%s", dump(events))
			}
		})
		t.Run("FromSixteenOpens", func(t *testing.T) {
			e.do(t, police, recordConsent, map[string]any{"in": consentIn(vBorn, born.AddDate(16, 0, 0))}).MustOK(t)
			e.readVictim(t, police, vBorn, opened...)
		})

		// ADULT of unknown age: a consent given an hour ago opens its data,
		// until an exact age recorded later places the victim under 16
		// then; and again once the age is corrected.
		vLater := abuseVictim(t, c, f, "V-2026-0112", domain.AgeGroupAdult, nil, nil, time.Time{}, f.caseD)
		t.Run("AgeRecordedLater", func(t *testing.T) {
			e.do(t, police, recordConsent, map[string]any{"in": consentIn(vLater, time.Now().Add(-time.Hour))}).MustOK(t)
			e.readVictim(t, police, vLater, opened...)
			const update = `mutation ($id: ID!, $v: Int!, $in: UpdateVictimInput!) { updateVictim(id: $id, expectedVersion: $v, input: $in) { id } }`
			version := func() int { return c.Victim.GetX(sys(), vLater).Version }
			// Identified on the fixture's day in 2025 at 12: 13 or 14 now.
			e.do(t, police, update, map[string]any{"id": gid(vLater), "v": version(),
				"in": map[string]any{"ageGroup": "MINOR", "exactAge": 12}}).MustOK(t)
			e.readVictim(t, police, vLater)
			e.do(t, police, update, map[string]any{"id": gid(vLater), "v": version(),
				"in": map[string]any{"ageGroup": "MINOR", "exactAge": 17}}).MustOK(t)
			e.readVictim(t, police, vLater, opened...)
		})
	})
}
