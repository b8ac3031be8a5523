package casework_test

// Tests from a hunt of the integrator's contract (retries, idempotency,
// several mutations in one document, error codes), over HTTP.

import (
	"fmt"
	"testing"

	"github.com/casegraph/casegraph/internal/testserver"
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
