package authz_test

import (
	"strings"
	"testing"

	"github.com/casegraph/casegraph/viewer"
)

// TestRevocationReasonIsInTheTrail: a data protection officer revoking a
// break-glass grant says why (reason), and the trail's
// EMERGENCY_ACCESS_REVOKED event keeps it, as the grant's justification
// beside it; the DPO's hunt (twenty-sixth session) found who ended a
// grant and when, never why. A reason not written out (blank, too short,
// invisible characters) or too long is refused with nothing revoked, and
// a retry's reason is not kept again.
func TestRevocationReasonIsInTheTrail(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		police, dpo := e.tok(t, "police-durres", viewer.RoleInvestigator), e.tok(t, "police-durres", viewer.RoleDPO)
		g := decode[struct{ RequestEmergencyAccess grantT }](t, e.do(t, police, requestEmergency,
			map[string]any{"case": gid(f.caseD), "j": justification, "h": 2}).MustOK(t)).RequestEmergencyAccess
		const revoke = `mutation ($id: ID!, $why: String) { revokeEmergencyAccess(id: $id, reason: $why) { id revokedAt } }`
		for name, why := range map[string]string{"Blank": "   ", "Short": "Found her.", "Invisible": "The victim was found safe\u200b in Durrës this morning.",
			"Long": strings.Repeat("The victim was found. ", 100)} {
			t.Run(name, func(t *testing.T) {
				before := counts(t, e.db.Client)
				wantRefusal(t, e.do(t, dpo, revoke, map[string]any{"id": g.ID, "why": why}), "BAD_USER_INPUT", "reason")
				unchanged(t, e.db.Client, before)
			})
		}
		const why = "The victim was found safe this morning; the search is over."
		e.do(t, dpo, revoke, map[string]any{"id": g.ID, "why": why}).MustOK(t)
		e.do(t, dpo, revoke, map[string]any{"id": g.ID, "why": "A retry after an answer that never came back."}).MustOK(t)
		var trail struct {
			AuditEvents struct {
				Edges []struct {
					Node struct{ Reason, Justification string }
				}
			}
		}
		e.do(t, dpo, `{ auditEvents(where: {kind: EMERGENCY_ACCESS_REVOKED}, first: 10) { edges { node { reason justification } } } }`, nil).MustOK(t).Decode(t, &trail)
		if n := len(trail.AuditEvents.Edges); n != 1 {
			t.Fatalf("%d EMERGENCY_ACCESS_REVOKED events, want 1: %+v", n, trail)
		}
		if got := trail.AuditEvents.Edges[0].Node; got.Reason != why || got.Justification != justification {
			t.Errorf("the revocation's event holds reason %q and justification %q, want %q and the grant's", got.Reason, got.Justification, why)
		}
	})
}
