package casework_test

import "testing"

// TestIdempotentRetryOfASetInAnotherOrder: every list a create takes is a
// set, so a retry naming the same values in another order (a client that
// rebuilds the request from an unordered set) is the same request, and
// returns what the first made; other values are another request
// (CONFLICT). It was CONFLICT (found by a helper's hunt).
func TestIdempotentRetryOfASetInAnotherOrder(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c1, c2 := h.openCase(t), h.openCase(t)
		need(t, c1.ID, c2.ID)
		in := victimInput(newVictimName(), 30)
		register := func(forms []string, cases ...string) map[string]any {
			v := map[string]any{}
			for k, x := range in {
				v[k] = x
			}
			v["formsOfExploitation"] = forms
			return map[string]any{"in": v, "cases": cases, "key": "victim-" + c1.ID}
		}
		first := call[victimT](t, h, h.police, registerVictimMutation, register([]string{"SEXUAL", "FORCED_BEGGING"}, c1.ID, c2.ID))
		again := call[victimT](t, h, h.police, registerVictimMutation, register([]string{"FORCED_BEGGING", "SEXUAL"}, c2.ID, c1.ID))
		if again.ID != first.ID {
			t.Errorf("the retry in another order made %s, the first %s", again.ID, first.ID)
		}
		h.refuse(t, h.police, registerVictimMutation, register([]string{"SEXUAL"}, c1.ID, c2.ID), want{Code: "CONFLICT"})
		h.refuse(t, h.police, registerVictimMutation, register([]string{"SEXUAL", "FORCED_BEGGING"}, c1.ID), want{Code: "CONFLICT"})
	})
}
