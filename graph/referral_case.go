package graph

import (
	"context"
	"sync"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/casefile"
	"github.com/casegraph/casegraph/internal/ctxvalue"
)

// referralCaseID is a referral's caseID as its caller may know it: the
// case's id when the case is in the caller's rows, null otherwise. A
// referral is seen through its victim, and the victim's other cases may be
// outside the caller's rows: their ids named cases that node(id:) says do
// not exist, and told a prosecutor that two victims shared a case they
// could not see (a helper's hunt). Every case of the referrals the request
// has loaded so far (noteReferralCases) is looked up together, in one
// statement, and remembered for the request: a page of referrals, nested
// under other lists or not, costs one.
func (r *Resolver) referralCaseID(ctx context.Context, obj *ent.Referral) (*int, error) {
	if obj.CaseID == nil {
		return nil, nil
	}
	seen := casesSeenKey.From(ctx)
	if seen == nil {
		seen = newCasesSeen() // outside a request's answer: this field alone
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if _, known := seen.visible[*obj.CaseID]; !known {
		ids := seen.toLookUp(*obj.CaseID)
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
// sees, as referrals' caseID found out, and the cases of the referrals
// loaded since that are yet to be looked up.
type casesSeen struct {
	mu      sync.Mutex
	visible map[int]bool
	pending map[int]bool // the cases of referrals loaded, not yet looked up
}

// maxCasesAskedTogether bounds the ids of one lookup.
const maxCasesAskedTogether = 1000

// toLookUp is id and, up to maxCasesAskedTogether in all, the pending
// cases; those it takes are no longer pending.
func (s *casesSeen) toLookUp(id int) []int {
	ids := []int{id}
	delete(s.pending, id)
	for p := range s.pending {
		if len(ids) == maxCasesAskedTogether {
			break
		}
		ids = append(ids, p)
		delete(s.pending, p)
	}
	return ids
}

// forget drops what was found out of the cases seen: a mutation may have
// changed the caller's rows (a case assigned, the policy changed), and the
// payloads after it are answered under the rows as they are then.
func (s *casesSeen) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.visible)
}

var casesSeenKey = &ctxvalue.Key[*casesSeen]{}

// withCasesSeen gives a request's answer its memory of the cases seen.
func withCasesSeen(ctx context.Context) context.Context {
	return casesSeenKey.With(ctx, newCasesSeen())
}

func newCasesSeen() *casesSeen {
	return &casesSeen{visible: map[int]bool{}, pending: map[int]bool{}}
}

// noteReferralCases is an ent interceptor: the cases of the referrals a
// request loads (a page, or every victim's referrals of a page of
// victims, which ent loads in one statement) wait to be looked up together
// by the first caseID asked. gqlgen resolves each nested list on its own:
// looked up list by list, a page of 50 victims' referrals cost 31
// statements (a review's measurement).
func noteReferralCases(next ent.Querier) ent.Querier {
	return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
		v, err := next.Query(ctx, q)
		referrals, ok := v.([]*ent.Referral)
		seen := casesSeenKey.From(ctx)
		if err != nil || !ok || seen == nil {
			return v, err
		}
		seen.mu.Lock()
		defer seen.mu.Unlock()
		for _, r := range referrals {
			if r.CaseID != nil {
				if _, known := seen.visible[*r.CaseID]; !known {
					seen.pending[*r.CaseID] = true
				}
			}
		}
		return v, err
	})
}

// interceptedClients are the clients noteReferralCases is installed on,
// once each (a test builds several handlers over one client).
var interceptedClients sync.Map

func installReferralCases(c *ent.Client) {
	if _, done := interceptedClients.LoadOrStore(c, true); !done {
		c.Intercept(ent.InterceptFunc(noteReferralCases))
	}
}
