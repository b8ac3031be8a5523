package authz_test

import (
	"testing"
	"time"

	"github.com/casegraph/casegraph/viewer"
)

// TestEmergencyRevocationHoldsForThePerson: a grant a data protection
// officer revoked cannot be asked for again by its grantee, on that case,
// until it would have ended (docs/powers.md), and "a person is their
// subject, whichever agency a token names". The revocation's check keyed on
// the subject and the agency, so the grantee, holding a token of a second
// agency that sees the case (the General Directorate sees every case),
// asked again a second after the revocation and read the victim again (a
// hunt over HTTP). Revoking also ends the grant the person holds through
// the other agency's token.
func TestEmergencyRevocationHoldsForThePerson(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		const person = "officer-seconded@police"
		atDurres, atGD := personToken(t, e, person, "police-durres"), personToken(t, e, person, "police-gd")
		if got := e.legalNameAs(t, atGD, f.vD); got != "" {
			t.Fatalf("without a grant the General Directorate token reads vD (%q): the test proves nothing", got)
		}
		ask := map[string]any{"case": gid(f.caseD), "j": justification, "h": 4}
		g := decode[struct{ RequestEmergencyAccess grantT }](t, e.do(t, atDurres, requestEmergency, ask).MustOK(t)).RequestEmergencyAccess
		if got := e.legalNameAs(t, atDurres, f.vD); got == "" {
			t.Fatal("the grant did not open vD")
		}
		e.do(t, e.tok(t, "police-durres", viewer.RoleDPO), revokeEmergency, map[string]any{"id": g.ID}).MustOK(t)
		// Control: the same token is refused, as TestEmergencyRevocationHolds pins.
		wantRefusal(t, e.do(t, atDurres, requestEmergency, ask), "FORBIDDEN", "")

		r := e.do(t, atGD, requestEmergency, ask)
		if len(r.Errors) == 0 {
			t.Errorf("the grantee whose grant of caseD was revoked was granted caseD again a moment later through its token of police-gd: %s", r.Body)
		}
		if got := e.legalNameAs(t, atGD, f.vD); got != "" {
			t.Errorf("the grantee read vD again after a data protection officer revoked its emergency access to the case: %q", got)
		}
	})
}

// TestEmergencyRevocationEndsThePersonsGrantsThroughEveryAgency: a person
// holding grants of one case through two agencies' tokens loses both when
// the officer of one revokes the grant it sees; a colleague's grant of the
// other agency is untouched.
func TestEmergencyRevocationEndsThePersonsGrantsThroughEveryAgency(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		const person = "officer-seconded@police"
		atDurres, atGD := personToken(t, e, person, "police-durres"), personToken(t, e, person, "police-gd")
		colleague := personToken(t, e, "colleague@police-gd", "police-gd")
		ask := map[string]any{"case": gid(f.caseD), "j": justification, "h": 4}
		g := decode[struct{ RequestEmergencyAccess grantT }](t, e.do(t, atDurres, requestEmergency, ask).MustOK(t)).RequestEmergencyAccess
		e.do(t, atGD, requestEmergency, ask).MustOK(t)
		e.do(t, colleague, requestEmergency, ask).MustOK(t)
		want := secret(f.pseudonym[f.vD], "legalName")
		if got := e.legalNameAs(t, atGD, f.vD); got != want {
			t.Fatalf("the grant through police-gd did not open vD: %q", got)
		}

		e.do(t, e.tok(t, "police-durres", viewer.RoleDPO), revokeEmergency, map[string]any{"id": g.ID}).MustOK(t)
		if got := e.legalNameAs(t, atGD, f.vD); got != "" {
			t.Errorf("the person read vD through its police-gd grant after the officer revoked its emergency access to the case: %q", got)
		}
		if got := e.legalNameAs(t, colleague, f.vD); got != want {
			t.Errorf("revoking the person's grants ended a colleague's: %q", got)
		}
	})
}

// personToken is an investigator's token for subject at agency: one
// person holding tokens of two agencies, as the identity provider allows.
func personToken(t *testing.T, e *env, subject, agency string) string {
	t.Helper()
	tok, err := e.s.Issuer.Issue(subject, agency, []viewer.Role{viewer.RoleInvestigator}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
