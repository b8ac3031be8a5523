package casework_test

import "testing"

// TestHuntClosedAtFollowsOpenedAt: a case closes "the date the last of its
// proceedings ended" (README, "The case follows its proceedings"), never
// before it was opened (followProceedings clamps closedAt to openedAt). The
// clamp is derived state: when updateCase then moves openedAt earlier, the
// case must read closed on the date its last proceeding ended, not on the
// opening date it no longer has (it kept the clamped closedAt, so it read
// as closed 41 days after its only proceeding ended, and a closedAtLTE
// filter of that day missed it).
func TestHuntClosedAtFollowsOpenedAt(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := h.openCase(t) // opened on date(2, 20)
		p := h.registerProsecution(t, c.ID, date(1, 5))
		merged := date(1, 10)
		h.moveProsecution(t, p, "MERGED", &merged)
		st := h.caseState(t, c.ID)
		if st.stage != "MERGED" || st.closedAt != stamp(c.OpenedAt) {
			t.Fatalf("setup: case %+v, want MERGED and closed when it was opened (%s)", st, stamp(c.OpenedAt))
		}
		opened := date(1, 1)
		got := call[caseT](t, h, h.police, updateCaseMutation, map[string]any{"id": c.ID, "v": st.version,
			"in": map[string]any{"openedAt": stamp(opened)}})
		if !got.OpenedAt.Equal(opened) {
			t.Fatalf("openedAt = %s, want %s", got.OpenedAt, stamp(opened))
		}
		if got.ClosedAt == nil || !got.ClosedAt.Equal(merged) {
			t.Errorf("opened %s, its only proceeding merged %s: the payload says closedAt %v, want %s (the date the last proceeding ended)",
				stamp(opened), stamp(merged), got.ClosedAt, stamp(merged))
		}
		if after := h.caseState(t, c.ID); after.closedAt != stamp(merged) || after.stage != "MERGED" {
			t.Errorf("opened %s, its only proceeding merged %s: case %+v, want MERGED and closed at %s",
				stamp(opened), stamp(merged), after, stamp(merged))
		}
	})
}
