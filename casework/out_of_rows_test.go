package casework_test

import (
	"strings"
	"testing"
)

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
