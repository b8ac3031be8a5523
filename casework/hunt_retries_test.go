package casework_test

// Tests from a hunt of the integrator's contract (retries, idempotency,
// several mutations in one document, error codes), over HTTP.

import (
	"testing"

	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestHuntRetryAfterThePolicyChanged: a create retried with its
// idempotencyKey writes nothing and returns the record the first call made
// (docs/mutations.md, docs/errors.md: a client that got outcome UNKNOWN is
// told to retry with the same key to learn whether the change was made).
// If the policy changed between the two calls (an admin removed the
// investigator's right to write a victim's contact fields, or to call
// registerVictim at all), the retry is refused FORBIDDEN before the
// idempotency record is read: the mutation's field is null, which the
// contract says means "not made", although the first call made the
// victim. The integrator that retried to learn the outcome is told the
// opposite of what happened. The retry must replay (it writes nothing the
// role would now be refused), as it does when nothing changed.
func TestHuntRetryAfterThePolicyChanged(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		admin := h.principal(t, "police-gd", viewer.RoleAdmin)
		for _, tc := range []struct {
			name string
			line []string
		}{
			{"WriteOfAFieldItSet", []string{"p", "investigator", "investigation", "Victim:CONTACT", "write", "any"}},
			{"CallOfTheMutation", []string{"p", "investigator", "investigation", "Mutation.registerVictim", "call", "any"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				name := newVictimName()
				in := victimInput(name, 30)
				in["phone"] = "+355 69 000 0001"
				vars := map[string]any{"in": in, "key": "policy-" + name}
				v := call[victimT](t, h, h.police, registerVictimMutation, vars)
				need(t, v.ID)
				const change = `mutation ($add: [[String!]!], $remove: [[String!]!], $r: String!) { changePolicy(add: $add, remove: $remove, reason: $r) { added removed } }`
				call[map[string]any](t, h, admin, change, map[string]any{"remove": [][]string{tc.line}, "r": "Hunt: a line removed between a call and its retry"})
				defer call[map[string]any](t, h, admin, change, map[string]any{"add": [][]string{tc.line}, "r": "Hunt: the line restored"})
				before := h.rows(t)
				r := h.do(t, h.police, registerVictimMutation, vars)
				var data struct{ RegisterVictim *struct{ ID string } }
				r.Decode(t, &data)
				if data.RegisterVictim == nil || data.RegisterVictim.ID != v.ID {
					t.Errorf("the retry after the policy change did not replay victim %s, which the first call made:\n%s", v.ID, r.Body)
				}
				testserver.WantUnchanged(t, h.s.DB.Client, before)
			})
		}
	})
}
