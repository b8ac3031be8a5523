package authz_test

import (
	"testing"

	"github.com/casegraph/casegraph/viewer"
)

// TestAuditCursorOfTheOtherOrderRefused: "a cursor pages only the list
// and orderBy it came from" (README; docs/errors.md refuses a cursor "of a
// page ordered differently" BAD_USER_INPUT). auditEvents' order is its
// oldestFirst argument, not an orderBy; until 2026-12-07 (eighteenth
// session) the key its cursors carried did not tell the order, so a DPO
// paging newest first who turned the order round with the cursor in hand
// was answered, from that seq, the events already read (a hunt). Both
// ways round are refused now; paging in one order is tested in
// TestAuditTrailReading.
func TestAuditCursorOfTheOtherOrderRefused(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		const readVictim = `query ($id: ID!) { node(id: $id) { ... on Victim { legalName } } }`
		for range 3 {
			e.do(t, e.tok(t, "prosecution-tirane", viewer.RoleProsecutor), readVictim, map[string]any{"id": gid(f.vT)}).Decode(t, &struct{}{})
		}
		national := e.tok(t, "onac", viewer.RoleDPO)
		var newest auditPage
		e.do(t, national, auditQuery, map[string]any{"first": 2}).MustOK(t).Decode(t, &newest)
		end := newest.AuditEvents.PageInfo.EndCursor
		if end == nil || len(newest.AuditEvents.Edges) != 2 {
			t.Fatalf("the newest page: %+v", newest)
		}
		r := e.s.Do(t, national, auditQuery, map[string]any{"first": 2, "after": *end, "oldest": true})
		if got := r.Codes(); len(got) != 1 || got[0] != "BAD_USER_INPUT" {
			var p auditPage
			if len(r.Errors) == 0 {
				r.Decode(t, &p)
			}
			var seqs []int
			for _, ed := range p.AuditEvents.Edges {
				seqs = append(seqs, ed.Node.Seq)
			}
			t.Errorf("a cursor of a newest-first page (seq %d) given to an oldest-first page: codes %v, events %v; want BAD_USER_INPUT on auditEvents.after",
				newest.AuditEvents.Edges[1].Node.Seq, got, seqs)
		}
		var oldest auditPage
		e.do(t, national, auditQuery, map[string]any{"first": 2, "oldest": true}).MustOK(t).Decode(t, &oldest)
		if end := oldest.AuditEvents.PageInfo.EndCursor; end == nil {
			t.Fatalf("the oldest page: %+v", oldest)
		} else if got := e.s.Do(t, national, auditQuery, map[string]any{"first": 2, "after": *end}).Codes(); len(got) != 1 || got[0] != "BAD_USER_INPUT" {
			t.Errorf("a cursor of an oldest-first page given to a newest-first page: codes %v, want BAD_USER_INPUT", got)
		}
	})
}
