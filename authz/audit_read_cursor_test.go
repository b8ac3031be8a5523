package authz_test

import (
	"testing"

	"github.com/casegraph/casegraph/viewer"
)

// TestHuntAuditCursorOfTheOtherOrderRefused: README says "A cursor pages
// only the list and orderBy it came from", and docs/errors.md ("Connection
// arguments ent cannot take") refuses BAD_USER_INPUT "a cursor ... that is
// of another list or a page ordered differently". auditEvents' order is
// its oldestFirst argument (newest first unless oldestFirst, schema), but
// the key its cursors carry is "Query.auditEvents" whatever the order
// (graph.ordering.key reads only orderBy), so a cursor of a newest-first
// page is taken by an oldest-first one: a DPO paging the trail newest
// first who turns the order round with the cursor in hand is answered,
// from that seq, the events on its other side (the ones already read) in
// place of a refusal. The cursor's seq is a position in both orders, so
// the page is not meaningless, but it is not the page asked for either:
// after the last event read there is nothing older, yet the answer is
// every event newer than it.
func TestHuntAuditCursorOfTheOtherOrderRefused(t *testing.T) {
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
	})
}
