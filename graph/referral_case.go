package graph

import (
	"context"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/casefile"
)

// referralCaseID is a referral's caseID as its caller may know it: the
// case's id when the case is in the caller's rows, null otherwise. A
// referral is seen through its victim, and the victim's other cases may be
// outside the caller's rows: their ids named cases that node(id:) says do
// not exist, and told a prosecutor that two victims shared a case they
// could not see (a helper's hunt). The cases of the referrals a request
// loads are looked up together (case_lookup.go).
func (r *Resolver) referralCaseID(ctx context.Context, obj *ent.Referral) (*int, error) {
	if obj.CaseID == nil {
		return nil, nil
	}
	visible, _, err := caseLookupsOf(ctx).visible.of(ctx, r.client, *obj.CaseID)
	if err != nil || !visible {
		return nil, err
	}
	return obj.CaseID, nil
}

// casesVisible tells which of the cases ids are in the caller's rows.
func casesVisible(ctx context.Context, client *ent.Client, ids []int) (map[int]bool, error) {
	visible, err := client.CaseFile.Query().Where(casefile.IDIn(ids...)).IDs(ctx) // the caller's row rule applies
	if err != nil {
		return nil, err
	}
	out := make(map[int]bool, len(visible))
	for _, id := range visible {
		out[id] = true
	}
	return out, nil
}

// noteReferralCases notes the cases of the referrals a request loads (a
// page, or every victim's referrals of a page of victims): looked up list
// by list, a page of 50 victims' referrals cost 31 statements (a review's
// measurement).
var noteReferralCases = noteCases(func(l *caseLookups) *caseFacts[bool] { return l.visible },
	func(r *ent.Referral) (int, bool) {
		if r.CaseID == nil {
			return 0, false
		}
		return *r.CaseID, true
	})
