package authz_test

import (
	"slices"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/internal/testserver"
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

		// ADULT by its group, born in 2000, identified on the fixture's
		// day in 2025: police-durres may not read the date of birth before
		// a consent, and a consent dated back to when the victim was 13,
		// or 16, is refused alike, as any consent dated before the
		// identification is: which of them opened the data told the date
		// of birth (a review found it to the day in 14 tries).
		born := time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)
		vBorn := abuseVictim(t, c, f, "V-2026-0111", domain.AgeGroupAdult, &born, nil, time.Time{}, f.caseD)
		t.Run("ErrBeforeIdentification", func(t *testing.T) {
			for _, at := range []time.Time{born.AddDate(13, 0, 0), born.AddDate(16, 0, 0), past.Add(-time.Minute)} {
				e.refuse(t, police, recordConsent, map[string]any{"in": consentIn(vBorn, at)}, "BAD_USER_INPUT", "input.givenAt")
			}
			e.readVictim(t, police, vBorn)
		})
		// A guardian's consent, which no age voids, may come before the
		// identification (the first contact): it tells nothing of an age.
		t.Run("OKGuardianBeforeIdentification", func(t *testing.T) {
			vFirst := abuseVictim(t, c, f, "V-2026-0115", domain.AgeGroupAdult, &born, nil, time.Time{}, f.caseD)
			in := consentIn(vFirst, past.AddDate(0, -1, 0))
			in["givenBy"] = "PARENT_OR_GUARDIAN"
			e.do(t, police, recordConsent, map[string]any{"in": in}).MustOK(t)
			e.readVictim(t, police, vFirst, opened...)
		})
		t.Run("FromIdentificationOpens", func(t *testing.T) {
			e.do(t, police, recordConsent, map[string]any{"in": consentIn(vBorn, past)}).MustOK(t)
			e.readVictim(t, police, vBorn, opened...)
		})

		// Ages that disagree with the group (stored before the API kept
		// them in agreement, or by a migration): ADULT by its group, 14 at
		// identification by its date of birth. The stored date of birth
		// decides, though the recorder may not read it, and the trail says
		// the consent rested on it.
		young := past.AddDate(-14, 0, 0)
		vYoung := abuseVictim(t, c, f, "V-2026-0113", domain.AgeGroupAdult, &young, nil, time.Time{}, f.caseD)
		t.Run("StoredBirthDecidesOverTheGroup", func(t *testing.T) {
			r := e.do(t, police, recordConsent, map[string]any{"in": consentIn(vYoung, past.AddDate(0, 0, 1))}).MustOK(t)
			e.readVictim(t, police, vYoung)
			events := eventsOf(t, e.db, r.Header.Get("X-Request-Id"))
			if _, ok := findEvent(events, func(ev audit.Event) bool {
				return ev.Kind == audit.FieldAccess && ev.Decision == audit.Denied && ev.EntityID == vYoung && slices.Contains(ev.Fields, "Victim.dateOfBirth")
			}); !ok {
				t.Errorf("no refused read of the date of birth recorded for the voided consent:\n%s", dump(events))
			}
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
			consentOf := func() *ent.Consent { return c.Consent.Query().Where(consent.VictimID(vLater)).OnlyX(sys()) }
			before := consentOf()
			// Identified on the fixture's day in 2025 at 12: 13 or 14 now.
			r := e.do(t, police, update, map[string]any{"id": gid(vLater), "v": version(),
				"in": map[string]any{"ageGroup": "MINOR", "exactAge": 12}}).MustOK(t)
			e.readVictim(t, police, vLater)
			// The consent itself did not change: neither its version nor
			// its updatedAt moves, and no change of it is filed (either
			// would tell whoever sees the consent that the ages crossed 16).
			if after := consentOf(); after.Version != before.Version || !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Errorf("the consent moved: version %d → %d, updatedAt %s → %s", before.Version, after.Version, before.UpdatedAt, after.UpdatedAt)
			}
			if ev, ok := findEvent(eventsOf(t, e.db, r.Header.Get("X-Request-Id")), func(ev audit.Event) bool { return ev.EntityType == "Consent" }); ok {
				t.Errorf("the age change filed an event about the consent: %s", dump([]audit.Event{ev}))
			}
			e.do(t, police, update, map[string]any{"id": gid(vLater), "v": version(),
				"in": map[string]any{"ageGroup": "MINOR", "exactAge": 17}}).MustOK(t)
			e.readVictim(t, police, vLater, opened...)
		})

		// recordConsent locks the victim whose ages decide the consent: an
		// age change committed while it runs is either seen by it or sees
		// its consent (a review had a consent of a 12-year-old open her
		// data, recorded beside the change that made her 12).
		t.Run("AgeChangedWhileRecorded", func(t *testing.T) {
			if e.db.Dialect != "postgres" {
				t.Skip("SQLite runs one write transaction at a time")
			}
			vRace := abuseVictim(t, c, f, "V-2026-0114", domain.AgeGroupAdult, nil, nil, time.Time{}, f.caseD)
			tx, err := e.db.SQL.BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			if _, err := tx.ExecContext(t.Context(), "SELECT 1 FROM victims WHERE id = $1 FOR UPDATE", vRace); err != nil {
				t.Fatal(err)
			}
			done := make(chan *testserver.Response, 1)
			go func() {
				done <- e.do(t, police, recordConsent, map[string]any{"in": consentIn(vRace, time.Now().Add(-time.Hour))})
			}()
			time.Sleep(500 * time.Millisecond) // the request reaches the victim and waits
			if _, err := tx.ExecContext(t.Context(), "UPDATE victims SET age_group = 'MINOR', exact_age = 12 WHERE id = $1", vRace); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			// A MINOR whose age the recorder may not read never consents
			// alone: refused, as if the change had come first.
			wantRefusal(t, <-done, "BAD_USER_INPUT", "input.givenBy")
			e.readVictim(t, police, vRace)
		})
	})
}
