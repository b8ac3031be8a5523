package authz_test

import (
	"testing"

	"github.com/casegraph/casegraph/viewer"
)

// TestHuntRecordAskedByIDThroughAFilterIsRecorded: README, "The audit
// trail": "each record asked for by id and not shown (outside the caller's
// rows, or not existing: `RECORD_REFUSED`, or a refused mutation of it)",
// so that "who looked at this victim" (`auditEvents(where: {entity: …})`)
// finds a probe of the victim. node(id:) is recorded so; asking for the
// same record by id through a list's filter (`victims(where: {id: X})`,
// `cases(where: {idIn: [X]})`) answers exactly as node(id:) does (no such
// record) and leaves no event at all: a Durrës investigator probes a
// Tirana victim and case by their ids (hundreds at once with idIn, past
// the 20-a-request summary that node/nodes probes get) and the national
// DPO asking about that victim or case finds nothing.
func TestHuntRecordAskedByIDThroughAFilterIsRecorded(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := e.f
		investigator := e.tok(t, "police-durres", viewer.RoleInvestigator)
		national := e.tok(t, "onac", viewer.RoleDPO)
		for _, probe := range []struct {
			name, query string
			record      int
		}{
			// The control: node(id:) is recorded (this one passes today).
			{"node(id:)", `query ($id: ID!) { node(id: $id) { id } }`, f.vT2},
			{"victims(where: {id})", `query ($id: ID!) { victims(where: {id: $id}) { totalCount edges { node { id legalName } } } }`, f.vT},
			{"cases(where: {idIn})", `query ($id: ID!) { cases(where: {idIn: [$id]}) { totalCount edges { node { id } } } }`, f.caseT},
		} {
			t.Run(probe.name, func(t *testing.T) {
				r := e.do(t, investigator, probe.query, map[string]any{"id": gid(probe.record)})
				if r.Status != 200 || len(r.Errors) > 1 {
					t.Fatalf("the probe: %d %s", r.Status, r.Body)
				}
				var p auditPage
				e.do(t, national, auditQuery, map[string]any{"where": map[string]any{
					"entity": gid(probe.record), "actorAgency": "police-durres"}, "first": 50}).MustOK(t).Decode(t, &p)
				if len(p.AuditEvents.Edges) == 0 {
					t.Errorf("%s asked for record %d by id and was not shown it (%s), but the national DPO finds no event about the record from police-durres; node(id:) would have left a RECORD_REFUSED",
						probe.name, probe.record, r.Body)
				}
			})
		}
	})
}
