package casework_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/casegraph/casegraph/casework"
	"github.com/casegraph/casegraph/domain"
	"github.com/casegraph/casegraph/ent"
)

// storedAgainstTheAgeRules registers over HTTP, on a new case, a MINOR
// identified on date(2, 15) and born at born, with no exact age; opens its
// date of birth to the police by a guardian's consent (they then may
// change the ages it is checked against); and then stores through ent what
// store sets, which the API refuses, as UTC's days let it be stored until
// 2026-12-07 (twentieth session; `casegraph victims age-conflicts` lists
// such victims). It returns the victim and its stored record.
func (h *harness) storedAgainstTheAgeRules(t *testing.T, born time.Time, store func(*ent.VictimUpdateOne) *ent.VictimUpdateOne) (victimT, *ent.Victim) {
	t.Helper()
	c := h.openCase(t)
	in := victimInput(newVictimName(), 17)
	delete(in, "exactAge")
	in["dateOfBirth"] = born.Format(time.RFC3339)
	v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": in, "cases": []string{c.ID}})
	call[consentT](t, h, h.police, recordConsentMutation, map[string]any{"in": map[string]any{"victimID": v.ID, "givenBy": "PARENT_OR_GUARDIAN",
		"givenAt": stamp(date(2, 20)), "agencyKinds": []string{"LOCAL_POLICE_DIRECTORATE"}, "purposes": []string{"CRIMINAL_PROCEEDINGS"}}})
	store(h.s.DB.Client.Victim.UpdateOneID(atoi(t, v.ID))).ExecX(systemCtx())
	return v, h.stored(t, v.ID)
}

// mendRefusal is an updateVictim input a mend test expects refused on
// field.
type mendRefusal struct {
	name, field string
	in          map[string]any
}

// refuseMends sends each refusal as the police's updateVictim of v at the
// stored version, in a subtest, and checks that it is refused with nothing
// written: the victim's ages and version are stored's.
func (h *harness) refuseMends(t *testing.T, v victimT, stored *ent.Victim, refusals []mendRefusal) {
	t.Helper()
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			h.refuse(t, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": stored.Version, "in": tc.in}, badField(tc.field), v.ID)
			if after := h.stored(t, v.ID); after.AgeGroup != stored.AgeGroup || !reflect.DeepEqual(after.ExactAge, stored.ExactAge) ||
				after.Version != stored.Version || !after.DateOfBirth.Equal(*stored.DateOfBirth) {
				t.Errorf("a refused mend changed the victim: %s, exact age %v, born %s, version %d", after.AgeGroup, after.ExactAge, after.DateOfBirth, after.Version)
			}
		})
	}
}

// TestMutationVictimAgeGroupMended: a victim stored with an age group its
// date of birth contradicts, as UTC's days decided it until 2026-12-07
// (twentieth session; `casegraph victims age-conflicts` lists them), is
// mended by one updateVictim setting the age group the date of birth
// gives, over HTTP, by an agency that may read the date of birth. Until
// then every update of its ages is refused on input.ageGroup, and so is a
// mend that still contradicts the date of birth or the exact age it sets,
// each with nothing written. Once mended, its ages change as any victim's.
func TestMutationVictimAgeGroupMended(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// 18 on the day after the identification (date(2, 15), 10:00 in
		// Tirana), sent as Tirana's midnight, 23:00 UTC on the day of
		// identification: MINOR by Tirana's days, ADULT by UTC's.
		born := time.Date(lastYear-18, time.February, 16, 0, 0, 0, 0, domain.Tirana)
		v, contradicted := h.storedAgainstTheAgeRules(t, born, func(u *ent.VictimUpdateOne) *ent.VictimUpdateOne { return u.SetAgeGroup(domain.AgeGroupAdult) })
		if byBirth, _ := casework.AgeOf(contradicted).GroupByBirth(); byBirth != domain.AgeGroupMinor {
			t.Fatalf("the fixture's date of birth gives %s, want MINOR", byBirth)
		}

		h.refuseMends(t, v, contradicted, []mendRefusal{
			{"UpdateErrExactAgeWhileContradicted", "input.ageGroup", map[string]any{"exactAge": 17}},
			{"MendErrStillAdult", "input.ageGroup", map[string]any{"ageGroup": "ADULT"}},
			{"MendErrContradictsTheExactAgeSet", "input.ageGroup", map[string]any{"ageGroup": "MINOR", "exactAge": 18}},
			{"MendErrContradictsTheDateOfBirthSet", "input.ageGroup", map[string]any{"ageGroup": "MINOR", "dateOfBirth": stamp(born.AddDate(-12, 0, 0))}},
		})

		t.Run("MendOK", func(t *testing.T) {
			got := call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": 1, "in": map[string]any{"ageGroup": "MINOR"}})
			stored := h.stored(t, v.ID)
			if byBirth, _ := casework.AgeOf(stored).GroupByBirth(); got.Version != 2 || got.AgeGroup != "MINOR" || stored.AgeGroup != byBirth {
				t.Errorf("updateVictim = %+v, stored %s, by the date of birth %s", got, stored.AgeGroup, byBirth)
			}
			got = call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": 2, "in": map[string]any{"exactAge": 17}})
			if age := h.stored(t, v.ID).ExactAge; got.Version != 3 || age == nil || *age != 17 {
				t.Errorf("an update of the mended victim's ages: version %d, stored exact age %v", got.Version, age)
			}
		})
	})
}

// TestMutationVictimBornAfterIdentificationMended: a victim stored with a
// date of birth after the day of its identification by Tirana's days, as
// UTC's days let it be stored until 2026-12-07 (twentieth session;
// `casegraph victims age-conflicts` lists them as
// BORN-AFTER-IDENTIFICATION), is mended by one updateVictim setting a date
// of birth on or before the day of identification, over HTTP, by an
// agency that may read the date of birth. Until then every update of its
// ages is refused on input.dateOfBirth, and so is a mend whose date of
// birth is still after that day; one whose date of birth the stored age
// group contradicts is refused on input.ageGroup; each with nothing
// written. Once mended, its ages change as any victim's.
func TestMutationVictimBornAfterIdentificationMended(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		// Identified on date(2, 15), 10:00 in Tirana (09:00 UTC), so on
		// the 16th at the latest in any zone; born on the 17th, sent as
		// Tirana's midnight (23:00 UTC on the 16th): after the day of
		// identification by Tirana's days, not by UTC's.
		dayOfIdentification := time.Date(lastYear, time.February, 15, 0, 0, 0, 0, domain.Tirana)
		bornAfter := time.Date(lastYear, time.February, 17, 0, 0, 0, 0, domain.Tirana)
		v, stored := h.storedAgainstTheAgeRules(t, dayOfIdentification, func(u *ent.VictimUpdateOne) *ent.VictimUpdateOne { return u.SetDateOfBirth(bornAfter) })
		if !casework.AgeOf(stored).BornAfterIdentified() {
			t.Fatalf("the fixture's date of birth %s is not after the day of identification %s", stored.DateOfBirth, stored.IdentifiedAt)
		}

		h.refuseMends(t, v, stored, []mendRefusal{
			{"UpdateErrAgeGroupWhileBornAfter", "input.dateOfBirth", map[string]any{"ageGroup": "MINOR"}},
			{"MendErrStillAfterSentAsUTCMidnight", "input.dateOfBirth", map[string]any{"dateOfBirth": stamp(time.Date(lastYear, time.February, 17, 0, 0, 0, 0, time.UTC))}},
			{"MendErrContradictsTheAgeGroup", "input.ageGroup", map[string]any{"dateOfBirth": stamp(dayOfIdentification.AddDate(-30, 0, 0))}},
		})

		t.Run("MendOK", func(t *testing.T) {
			got := call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": 1, "in": map[string]any{"dateOfBirth": stamp(dayOfIdentification)}})
			mended := h.stored(t, v.ID)
			if got.Version != 2 || mended.DateOfBirth == nil || !mended.DateOfBirth.Equal(dayOfIdentification) || casework.AgeOf(mended).BornAfterIdentified() {
				t.Errorf("updateVictim = %+v, stored date of birth %v", got, mended.DateOfBirth)
			}
			got = call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": 2, "in": map[string]any{"exactAge": 0}})
			if age := h.stored(t, v.ID).ExactAge; got.Version != 3 || age == nil || *age != 0 {
				t.Errorf("an update of the mended victim's ages: version %d, stored exact age %v", got.Version, age)
			}
		})
	})
}
