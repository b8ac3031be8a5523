package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/internal/ctxvalue"
)

// referralCaseID is a referral's caseID as its caller may know it: the
// case's id when the case is in the caller's rows, null otherwise. A
// referral is seen through its victim, and the victim's other cases may be
// outside the caller's rows: their ids named cases that node(id:) says do
// not exist, and told a prosecutor that two victims shared a case they
// could not see (a helper's hunt). The cases of the referrals of one list
// are looked up together, in one statement, and remembered for the request.
func (r *Resolver) referralCaseID(ctx context.Context, obj *ent.Referral) (*int, error) {
	if obj.CaseID == nil {
		return nil, nil
	}
	seen := casesSeenKey.From(ctx)
	if seen == nil {
		seen = &casesSeen{visible: map[int]bool{}} // outside a request's answer: this field alone
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if _, known := seen.visible[*obj.CaseID]; !known {
		ids := unknownCaseIDs(ctx, seen, *obj.CaseID)
		client := ent.FromContext(ctx) // a mutation's transaction, for its own payload
		if client == nil {
			client = r.client
		}
		visible, err := client.CaseFile.Query().Where(casefile.IDIn(ids...)).IDs(ctx) // the caller's row rule applies
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			seen.visible[id] = false
		}
		for _, id := range visible {
			seen.visible[id] = true
		}
	}
	if !seen.visible[*obj.CaseID] {
		return nil, nil
	}
	return obj.CaseID, nil
}

// casesSeen remembers, for one request's answer, which cases its caller
// sees, as referrals' caseID found out.
type casesSeen struct {
	mu      sync.Mutex
	visible map[int]bool
}

var casesSeenKey = &ctxvalue.Key[*casesSeen]{}

// withCasesSeen gives a request's answer its memory of the cases seen.
func withCasesSeen(ctx context.Context) context.Context {
	return casesSeenKey.With(ctx, &casesSeen{visible: map[int]bool{}})
}

// maxCasesAskedTogether bounds the ids of one lookup (a page is at most
// 500 referrals).
const maxCasesAskedTogether = 500

// unknownCaseIDs is id and the other case ids not yet known of the list
// of referrals the field is resolved in (the referrals connection's edges,
// or a list of referrals), found through the parents' results: gqlgen
// resolves a list's items one after the other, so asking for them together
// saves a statement for each.
func unknownCaseIDs(ctx context.Context, seen *casesSeen, id int) []int {
	ids := []int{id}
	add := func(r *ent.Referral) {
		if r != nil && r.CaseID != nil && len(ids) < maxCasesAskedTogether {
			if _, known := seen.visible[*r.CaseID]; !known && *r.CaseID != id {
				ids = append(ids, *r.CaseID)
			}
		}
	}
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		switch list := fc.Result.(type) {
		case []*ent.ReferralEdge:
			for _, e := range list {
				if e != nil {
					add(e.Node)
				}
			}
			return ids
		case []*ent.Referral:
			for _, r := range list {
				add(r)
			}
			return ids
		}
	}
	return ids
}
