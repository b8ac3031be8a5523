package casework_test

// Tests from a hunt of the integrator's contract (retries, idempotency,
// several mutations in one document, error codes), over HTTP.

import (
	"fmt"
	"testing"

	"github.com/casegraph/casegraph/internal/testserver"
	"github.com/casegraph/casegraph/viewer"
)

// TestHuntRetrySpellingOutANullTheRoleMayNotWrite: docs/mutations.md says
// that for an idempotent create "null is omission, for every optional
// field", so a retry that spells out a null the first request left out is
// the same request and returns the first record. An investigator may not
// write a victim's health notes, testimony or shelter location
// (policies/policy.csv), and leaves them out; a client library that writes
// every optional field of CreateVictimInput as null sends `healthNotes:
// null`. The mutation guard reads the keys sent, not the values, and
// refuses the retry with FORBIDDEN "Your role may not write
// Victim.healthNotes": the field is null, which the contract says means
// "not made", although the victim was registered by the first call, and
// the integrator that retried after an unknown outcome concludes it must
// register the victim again. A null writes nothing (the create stores what
// omission stores), so the retry must replay.
func TestHuntRetrySpellingOutANullTheRoleMayNotWrite(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		name := newVictimName()
		key := fmt.Sprintf("null-unwritable-%s", name)
		first := victimInput(name, 30)
		v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": first, "key": key})
		need(t, v.ID)
		for _, field := range []string{"healthNotes", "testimonySummary", "shelterLocation"} {
			t.Run(field, func(t *testing.T) {
				again := victimInput(name, 30)
				again[field] = nil
				before := h.rows(t)
				r := h.do(t, h.police, registerVictimMutation, map[string]any{"in": again, "key": key})
				var data struct{ RegisterVictim *struct{ ID string } }
				r.Decode(t, &data)
				if data.RegisterVictim == nil || data.RegisterVictim.ID != v.ID {
					t.Errorf("the retry spelling out %s: null did not replay victim %s (the first call's):\n%s", field, v.ID, r.Body)
				}
				testserver.WantUnchanged(t, h.s.DB.Client, before)
			})
		}
	})
}

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

// TestHuntUpdateSpellingOutNothingForAFieldTheRoleMayNotWrite: the update
// face of TestHuntRetrySpellingOutANullTheRoleMayNotWrite. docs/input.md
// lists `title: null` and `clearPhone: false` as fields that do nothing;
// an investigator's updateVictim that changes the nationality and spells
// out `healthNotes: null` or `clearHealthNotes: false` (a client writing
// every field of UpdateVictimInput) writes no health note, yet is refused
// FORBIDDEN "Your role may not write Victim.healthNotes", and the trail
// records a refused write of health notes.
func TestHuntUpdateSpellingOutNothingForAFieldTheRoleMayNotWrite(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		v := call[victimT](t, h, h.police, registerVictimMutation, map[string]any{"in": victimInput(newVictimName(), 30)})
		need(t, v.ID)
		for what, nothing := range map[string]any{"healthNotes": nil, "clearHealthNotes": false} {
			t.Run(what, func(t *testing.T) {
				cur := h.s.DB.Client.Victim.GetX(systemCtx(), mustID(t, v.ID))
				r := h.do(t, h.police, updateVictimMutation, map[string]any{"id": v.ID, "v": cur.Version,
					"in": map[string]any{"nationality": "AL", what: nothing}})
				var data struct{ UpdateVictim *struct{ ID string } }
				r.Decode(t, &data)
				if data.UpdateVictim == nil {
					t.Errorf("an update spelling out %s: %v, which writes nothing, was refused:\n%s", what, nothing, r.Body)
				}
			})
		}
	})
}

func mustID(t *testing.T, id string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(id, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
