package casework_test

import (
	"testing"
	"time"

	"github.com/casegraph/casegraph/casework"
	"github.com/casegraph/casegraph/domain"
)

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
		c := h.openCase(t)
		// 18 on the day after the identification (date(2, 15), 10:00 in
		// Tirana), sent as Tirana's midnight, 23:00 UTC on the day of
		// identification: MINOR by Tirana's days, ADULT by UTC's.
		born := time.Date(lastYear-18, time.February, 16, 0, 0, 0, 0, domain.Tirana)
		in := victimInput(newVictimName(), 17)
		delete(in, "exactAge")
		in["dateOfBirth"] = born.Format(time.RFC3339)
		v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": in, "cases": []string{c.ID}})
		// A guardian's consent opens the date of birth to the police, who
		// then may change the ages it is checked against.
		call[consentT](t, h, h.police, recordConsentMutation, map[string]any{"in": map[string]any{"victimID": v.ID, "givenBy": "PARENT_OR_GUARDIAN",
			"givenAt": stamp(date(2, 20)), "agencyKinds": []string{"LOCAL_POLICE_DIRECTORATE"}, "purposes": []string{"CRIMINAL_PROCEEDINGS"}}})
		// Stored as UTC's days decided it, through ent: the API refuses it.
		h.s.DB.Client.Victim.UpdateOneID(atoi(t, v.ID)).SetAgeGroup(domain.AgeGroupAdult).ExecX(systemCtx())
		contradicted := h.stored(t, v.ID)
		if byBirth, _ := casework.AgeOf(contradicted).GroupByBirth(); byBirth != domain.AgeGroupMinor {
			t.Fatalf("the fixture's date of birth gives %s, want MINOR", byBirth)
		}

		for _, tc := range []struct {
			name string
			in   map[string]any
		}{
			{"UpdateErrExactAgeWhileContradicted", map[string]any{"exactAge": 17}},
			{"MendErrStillAdult", map[string]any{"ageGroup": "ADULT"}},
			{"MendErrContradictsTheExactAgeSet", map[string]any{"ageGroup": "MINOR", "exactAge": 18}},
			{"MendErrContradictsTheDateOfBirthSet", map[string]any{"ageGroup": "MINOR", "dateOfBirth": stamp(born.AddDate(-12, 0, 0))}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h.refuse(t, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": 1, "in": tc.in}, badField("input.ageGroup"), v.ID)
				if after := h.stored(t, v.ID); after.AgeGroup != domain.AgeGroupAdult || after.ExactAge != nil || after.Version != 1 ||
					!after.DateOfBirth.Equal(*contradicted.DateOfBirth) {
					t.Errorf("a refused mend changed the victim: %s, exact age %v, born %s, version %d", after.AgeGroup, after.ExactAge, after.DateOfBirth, after.Version)
				}
			})
		}

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
