package authz_test

import (
	"testing"
	"time"

	"github.com/casegraph/casegraph/viewer"
)

// TestHuntEmergencyRevocationHoldsForThePerson: a grant a data protection
// officer revoked cannot be asked for again by its grantee, on that case,
// until it would have ended (docs/powers.md), and "a person is their
// subject, whichever agency a token names". The revocation's check keys on
// the subject and the agency, so the grantee, holding a token of a second
// agency that sees the case (the General Directorate sees every case), asks
// again a second after the revocation and reads the victim again.
func TestHuntEmergencyRevocationHoldsForThePerson(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		const person = "officer-seconded@police"
		issue := func(agency string) string {
			tok, err := e.s.Issuer.Issue(person, agency, []viewer.Role{viewer.RoleInvestigator}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		atDurres, atGD := issue("police-durres"), issue("police-gd")
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
