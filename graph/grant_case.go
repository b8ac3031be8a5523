package graph

import (
	"context"
	"fmt"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/viewer"
)

// caseReference names the case of an emergency grant for its reviewer, who
// may not see the case itself: the reference is read as system work, and
// only the reference. The cases of the grants a request loads are looked
// up together (case_lookup.go): a DPO's page of 50 grants read each
// grant's case with a statement of its own.
func (r *emergencyGrantResolver) caseReference(ctx context.Context, g *ent.EmergencyGrant) (string, error) {
	ref, ok, err := caseLookupsOf(ctx).references.of(ctx, r.client, g.CaseID)
	if err == nil && !ok {
		// A grant's case_id is a foreign key: its case exists.
		err = fmt.Errorf("graph: emergency grant %d names case %d, which does not exist", g.ID, g.CaseID)
	}
	return ref, err
}

// caseReferences reads the references of the cases ids, as the system.
func caseReferences(ctx context.Context, client *ent.Client, ids []int) (map[int]string, error) {
	cases, err := client.CaseFile.Query().Where(casefile.IDIn(ids...)).
		Select(casefile.FieldReference).All(viewer.SystemContext(ctx))
	if err != nil {
		return nil, err
	}
	out := make(map[int]string, len(cases))
	for _, c := range cases {
		out[c.ID] = c.Reference
	}
	return out, nil
}

// noteGrantCases notes the cases of the emergency grants a request loads.
var noteGrantCases = noteCases(func(l *caseLookups) *caseFacts[string] { return l.references },
	func(g *ent.EmergencyGrant) (int, bool) { return g.CaseID, true })
