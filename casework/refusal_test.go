package casework_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casegraph/casegraph/audit"
	"github.com/casegraph/casegraph/viewer"
)

// A refused sensitive field says which kind of rule refused it
// (extensions.reason: ROLE, ROW or CONSENT), each something the caller may
// know already (policies/README.md, "Why a field is refused"); the rest of
// the answer stands.
func TestSensitiveFieldRefusalReason(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openAssigned(t, "SUPPORTING", "ngo-vatra")
		in := victimInput(newVictimName(), 30)
		in["legalName"] = "Test Person"
		v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": in, "cases": []string{c.ID}})
		need(t, c.ID, v.ID)
		const query = `query ($id: ID!) { node(id: $id) { ... on Victim { pseudonym legalName } } }`

		read := func(t *testing.T, who principal) (string, *string, []map[string]any) {
			t.Helper()
			r := h.do(t, who, query, map[string]any{"id": v.ID})
			var data struct {
				Node *struct {
					Pseudonym string
					LegalName *string
				}
			}
			r.Decode(t, &data)
			if data.Node == nil {
				t.Fatalf("the victim is not visible to %s:\n%s", who.Subject, r.Body)
			}
			var exts []map[string]any
			for _, e := range r.Errors {
				exts = append(exts, e.Extensions)
			}
			return data.Node.Pseudonym, data.Node.LegalName, exts
		}
		refused := func(t *testing.T, who principal, reason string) {
			t.Helper()
			pseudonym, legalName, exts := read(t, who)
			if pseudonym != v.Pseudonym || legalName != nil {
				t.Errorf("pseudonym %q, legalName %v; want %q and null", pseudonym, legalName, v.Pseudonym)
			}
			if len(exts) != 1 || exts[0]["code"] != "FORBIDDEN" || exts[0]["field"] != "Victim.legalName" || exts[0]["reason"] != reason {
				got, _ := json.Marshal(exts)
				t.Errorf("errors' extensions = %s, want one FORBIDDEN on Victim.legalName with reason %s", got, reason)
			}
		}

		// An analyst's role reads no identity, whatever the victim.
		t.Run("Role", func(t *testing.T) { refused(t, h.principal(t, "onac", viewer.RoleAnalyst), "ROLE") })
		// The national police see every victim, but this case is not theirs.
		t.Run("Row", func(t *testing.T) { refused(t, h.reader, "ROW") })
		// Tirana's police work on the case, but the victim has not consented.
		t.Run("Consent", func(t *testing.T) { refused(t, h.police, "CONSENT") })

		// With the consent, the same read is allowed: CONSENT was the one
		// thing missing.
		call[consentT](t, h, h.ngo, recordConsentMutation, map[string]any{"in": map[string]any{
			"victimID": v.ID, "givenBy": "VICTIM", "givenAt": stamp(time.Now().Add(-time.Hour)),
			"agencyKinds": []string{"LOCAL_POLICE_DIRECTORATE"}, "purposes": []string{"CRIMINAL_PROCEEDINGS"},
		}})
		t.Run("ConsentGiven", func(t *testing.T) {
			_, legalName, exts := read(t, h.police)
			if legalName == nil || *legalName != "Test Person" || len(exts) != 0 {
				t.Errorf("legalName %v, errors %v; want it read", legalName, exts)
			}
		})
	})
}

// TestMutationWritingNothingToAFieldTheRoleMayNotWrite: the policy asks
// for the sensitive fields an input writes, not those it names.
// docs/input.md lists healthNotes: null and clearHealthNotes: false among
// the fields that do nothing, so an investigator's update of a victim's
// nationality that spells them out (a client writing every field of
// UpdateVictimInput) is made, and the trail records no refused write of
// health notes. It was FORBIDDEN "Your role may not write
// Victim.healthNotes" (a hunt). A value, or clearHealthNotes: true, does
// write them, and is refused.
func TestMutationWritingNothingToAFieldTheRoleMayNotWrite(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		v := h.registerVictim(t, 30)
		need(t, v.ID)
		update := func(t *testing.T, field string, value any) (map[string]any, func() int) {
			t.Helper()
			version := h.stored(t, v.ID).Version
			vars := map[string]any{"id": v.ID, "v": version, "in": map[string]any{"nationality": "AL", field: value}}
			refusals := h.refusedCalls(t, h.police, "updateVictim")
			return vars, func() int { return h.refusedCalls(t, h.police, "updateVictim") - refusals }
		}
		for field, nothing := range map[string]any{"healthNotes": nil, "clearHealthNotes": false} {
			t.Run(fmt.Sprintf("OK %s %v", field, nothing), func(t *testing.T) {
				vars, refused := update(t, field, nothing)
				if got := call[victimT](t, h, h.police, updateVictimMutation, vars); got.Version != vars["v"].(int)+1 {
					t.Errorf("version %d after the update, want %d", got.Version, vars["v"].(int)+1)
				}
				if n := refused(); n != 0 {
					t.Errorf("the trail records %d refused updates of a victim after an update that wrote no health note", n)
				}
			})
		}
		for field, something := range map[string]any{"healthNotes": "Needs care.", "clearHealthNotes": true} {
			t.Run(fmt.Sprintf("Err %s %v", field, something), func(t *testing.T) {
				vars, refused := update(t, field, something)
				h.refuse(t, h.police, updateVictimMutation, vars, want{Code: "FORBIDDEN", Field: "Victim.healthNotes"}, v.ID)
				if n := refused(); n != 1 {
					t.Errorf("the trail records %d refused updates of the victim, want 1", n)
				}
			})
		}
	})
}

// TestMutationOutOfTheCallersRows: an update that would take the record
// out of the caller's rows (a victim of no case moved to another region,
// for police who see their region's) is refused as FORBIDDEN, saying so,
// and changes nothing. It answered NOT_FOUND "Not found." for a record the
// caller had just read (found by a helper's hunt).
func TestMutationOutOfTheCallersRows(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		v := h.registerVictim(t, 30)
		need(t, v.ID)
		e := h.refuse(t, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
			"in": map[string]any{"region": "SHKODER"}}, want{Code: "FORBIDDEN"}, v.ID)
		if !strings.Contains(e.Message, "out of the records your agency may see") {
			t.Errorf("message %q does not say why", e.Message)
		}
		// Within the rows, the same update is made.
		call[victimT](t, h, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
			"in": map[string]any{"region": "TIRANE", "sex": "MALE"}})
	})
}

// TestMutationAgesNotAnOracle: the rule that a victim's age group agrees
// with their date of birth at identification must not tell a caller who
// may not read the date of birth what it is. Police without the victim's
// consent could send updates that failed one way for a date that made the
// victim a minor and another way otherwise, and find the date of birth to
// the day, with nothing in the audit trail (found by a helper's hunt).
// Now such an update is FORBIDDEN alike whatever the stored date says, and
// the refused look at it is recorded.
func TestMutationAgesNotAnOracle(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t)
		in := victimInput(newVictimName(), 19)
		in["exactAge"], in["ageGroup"] = nil, "ADULT"
		in["dateOfBirth"] = stamp(date(2, 15).AddDate(-19, 0, -1)) // 19 when identified on date(2, 15)
		v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": in, "cases": []string{c.ID}})
		need(t, v.ID)
		// Identified on date(2, 15) the victim was an adult, as the update
		// says; two years earlier a minor, which it would contradict.
		var messages []string
		for _, identified := range []time.Time{date(2, 15), date(2, 15).AddDate(-2, 0, 0)} {
			r := h.do(t, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": v.Version,
				"in": map[string]any{"ageGroup": "ADULT", "identifiedAt": stamp(identified)}})
			if len(r.Errors) != 1 || r.Errors[0].Code() != "FORBIDDEN" {
				t.Fatalf("identified %s: want FORBIDDEN whatever the date of birth, got %s", stamp(identified), r.Body)
			}
			messages = append(messages, r.Errors[0].Message)
			denied := false
			for _, e := range auditEventsOf(t, h.s, r.Header.Get("X-Request-Id")) {
				if slices.Contains(e.Fields, "Victim.dateOfBirth") && e.Decision == audit.Denied {
					denied = true
				}
			}
			if !denied {
				t.Errorf("identified %s: no refused look at Victim.dateOfBirth in the trail", stamp(identified))
			}
		}
		if messages[0] != messages[1] {
			t.Errorf("the answers differ with the date of birth: %q, %q", messages[0], messages[1])
		}
	})
}
