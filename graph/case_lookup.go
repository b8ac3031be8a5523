package graph

import (
	"context"
	"sync"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/internal/ctxvalue"
)

// Some fields of a record need a fact about its case that the record does
// not hold: a referral's caseID (is the case in the caller's rows,
// referral_case.go), an emergency grant's caseReference (grant_case.go).
// gqlgen resolves them one object at a time, and asked one at a time they
// cost a statement each: a DPO's page of 50 grants was 53 statements
// against 8 for 5, and 50 victims' referrals 31. So the cases of the
// records a request loads are noted as ent loads them (an interceptor,
// noteCases), and the first such field asked looks up every case noted so
// far in one statement, remembered for the request's answer: a page of
// records, nested under other lists or not, costs one statement a fact
// whatever its size.

// caseFacts is one fact about cases for one request's answer: what the
// cases looked up so far gave, and the cases of the records loaded since,
// yet to be looked up.
type caseFacts[V any] struct {
	mu      sync.Mutex
	found   map[int]V    // the cases looked up that the lookup answered for
	asked   map[int]bool // every case looked up, answered for or not
	pending map[int]bool // the cases of records loaded, not yet looked up
	// lookUp reads the fact of the cases ids in one statement, through
	// client: the mutation's transaction while one runs, so that a
	// payload reads what the mutation wrote.
	lookUp func(ctx context.Context, client *ent.Client, ids []int) (map[int]V, error)
}

func newCaseFacts[V any](lookUp func(context.Context, *ent.Client, []int) (map[int]V, error)) *caseFacts[V] {
	return &caseFacts[V]{found: map[int]V{}, asked: map[int]bool{}, pending: map[int]bool{}, lookUp: lookUp}
}

// maxCasesAskedTogether bounds the ids of one lookup.
const maxCasesAskedTogether = 1000

// of is the fact of case id, and whether the lookup answered for it. A case
// not asked yet is looked up with the pending ones (up to
// maxCasesAskedTogether in all) through the request's transaction, or
// client outside one.
func (f *caseFacts[V]) of(ctx context.Context, client *ent.Client, id int) (V, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.asked[id] {
		if tx := ent.FromContext(ctx); tx != nil {
			client = tx
		}
		ids := f.toLookUp(id)
		found, err := f.lookUp(ctx, client, ids)
		if err != nil {
			var none V
			return none, false, err
		}
		for _, id := range ids {
			f.asked[id] = true
		}
		for id, v := range found {
			f.found[id] = v
		}
	}
	v, ok := f.found[id]
	return v, ok, nil
}

// toLookUp is id and, up to maxCasesAskedTogether in all, the pending
// cases; those it takes are no longer pending.
func (f *caseFacts[V]) toLookUp(id int) []int {
	ids := []int{id}
	delete(f.pending, id)
	for p := range f.pending {
		if len(ids) == maxCasesAskedTogether {
			break
		}
		ids = append(ids, p)
		delete(f.pending, p)
	}
	return ids
}

// note keeps the cases of records just loaded for the next lookup.
func (f *caseFacts[V]) note(ids []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if !f.asked[id] {
			f.pending[id] = true
		}
	}
}

// forget drops what was found out: a mutation may have changed the
// caller's rows (a case assigned, the policy changed), and the payloads
// after it are answered under the rows as they are then.
func (f *caseFacts[V]) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.asked)
	clear(f.found)
}

// caseLookups are a request's answer's facts about cases, one a field that
// needs one.
type caseLookups struct {
	visible    *caseFacts[bool]   // referrals' caseID
	references *caseFacts[string] // emergency grants' caseReference
}

func newCaseLookups() *caseLookups {
	return &caseLookups{visible: newCaseFacts(casesVisible), references: newCaseFacts(caseReferences)}
}

// forget forgets every fact (caseFacts.forget).
func (l *caseLookups) forget() {
	l.visible.forget()
	l.references.forget()
}

var caseLookupsKey = &ctxvalue.Key[*caseLookups]{}

// withCaseLookups gives a request's answer its memory of facts about cases.
func withCaseLookups(ctx context.Context) context.Context {
	return caseLookupsKey.With(ctx, newCaseLookups())
}

// caseLookupsOf is the request's memory of facts about cases, or, outside a
// request's answer, one for this field alone.
func caseLookupsOf(ctx context.Context) *caseLookups {
	if l := caseLookupsKey.From(ctx); l != nil {
		return l
	}
	return newCaseLookups()
}

// noteCases is an ent interceptor: the cases of the records of type R a
// request loads (caseOf, false for a record without one) wait in the fact
// facts picks to be looked up together. Each list, nested or not, is
// loaded by ent in one statement (eager loading), so whatever a page
// loads before the first field asks is one lookup.
func noteCases[R any, V any](facts func(*caseLookups) *caseFacts[V], caseOf func(R) (int, bool)) ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			v, err := next.Query(ctx, q)
			records, ok := v.([]R)
			l := caseLookupsKey.From(ctx)
			if err != nil || !ok || l == nil {
				return v, err
			}
			ids := make([]int, 0, len(records))
			for _, r := range records {
				if id, ok := caseOf(r); ok {
					ids = append(ids, id)
				}
			}
			facts(l).note(ids)
			return v, err
		})
	})
}

// interceptedClients are the clients the interceptors of noteCases are
// installed on, once each (a test builds several handlers over one client).
var interceptedClients sync.Map

func installCaseLookups(c *ent.Client) {
	if _, done := interceptedClients.LoadOrStore(c, true); !done {
		c.Intercept(noteReferralCases, noteGrantCases)
	}
}
