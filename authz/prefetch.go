package authz

import (
	"context"
	"slices"
	"sync"

	entgo "entgo.io/ent"

	"github.com/casegraph/casegraph/ent"
	"github.com/casegraph/casegraph/ent/consent"
	"github.com/casegraph/casegraph/ent/supportservice"
	"github.com/casegraph/casegraph/ent/suspect"
)

// seen collects the ids of the rows a request has loaded, by kind, so that
// the first field check asks about all of them at once: entgql loads a
// whole page (and its nested lists) before any field resolves, so one query
// per fact answers a page of any size.
type seen struct {
	mu       sync.Mutex
	victims  []int
	cases    []int
	suspects []int // loaded without their case
	services []int // loaded without their victim
}

func (s *seen) addCase(id int)   { s.append(&s.cases, id) }
func (s *seen) addVictim(id int) { s.append(&s.victims, id) }

func (s *seen) victimIDs() []int  { return s.snapshot(&s.victims) }
func (s *seen) caseIDs() []int    { return s.snapshot(&s.cases) }
func (s *seen) suspectIDs() []int { return s.snapshot(&s.suspects) }
func (s *seen) serviceIDs() []int { return s.snapshot(&s.services) }

// append adds id to one of s's lists; snapshot copies one, so that the
// caller reads it while other queries of the request keep adding.
func (s *seen) append(list *[]int, id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*list = append(*list, id)
}

func (s *seen) snapshot(list *[]int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(*list)
}

func (s *seen) add(v ent.Value) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch rows := v.(type) {
	case []*ent.Victim:
		for _, r := range rows {
			s.victims = append(s.victims, r.ID)
		}
	case []*ent.Consent:
		for _, r := range rows {
			s.victims = append(s.victims, r.VictimID)
		}
	case []*ent.SupportService:
		byParent(rows, func(r *ent.SupportService) (int, int) { return r.ID, r.VictimID }, &s.services, &s.victims)
	case []*ent.Suspect:
		byParent(rows, func(r *ent.Suspect) (int, int) { return r.ID, r.CaseID }, &s.suspects, &s.cases)
	}
}

// byParent adds each row's parent (a service's victim, a suspect's case)
// to parents when the row was loaded with it, or else the row's own id to
// orphans, whose parent a fact fetches later.
func byParent[R any](rows []R, ids func(R) (own, parent int), orphans, parents *[]int) {
	for _, r := range rows {
		if own, parent := ids(r); parent == 0 {
			*orphans = append(*orphans, own)
		} else {
			*parents = append(*parents, parent)
		}
	}
}

// observe is an ent interceptor that tells the request in ctx which rows
// its queries returned. It also makes sure the columns that field
// conditions read (a suspect's case, a support service's victim and
// provider, a consent's victim) are selected, whatever fields the client asked for: entgql
// selects only the requested ones.
func observe() ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			if FromContext(ctx) != nil {
				switch q.(type) {
				case *ent.SuspectQuery:
					selectAlso(ctx, suspect.FieldCaseID)
				case *ent.SupportServiceQuery:
					selectAlso(ctx, supportservice.FieldVictimID, supportservice.FieldProviderID)
				case *ent.ConsentQuery:
					selectAlso(ctx, consent.FieldVictimID)
				}
			}
			v, err := next.Query(ctx, q)
			if err == nil {
				if r := FromContext(ctx); r != nil {
					r.facts.seen.add(v)
				}
			}
			return v, err
		})
	})
}

// selectAlso adds columns to the running query's selection when it selects
// only some columns (an empty selection means all of them).
func selectAlso(ctx context.Context, columns ...string) {
	qc := entgo.QueryFromContext(ctx)
	if qc == nil || len(qc.Fields) == 0 {
		return
	}
	switch qc.Op {
	case entgo.OpQueryAll, entgo.OpQueryFirst, entgo.OpQueryOnly:
	default:
		return // Exist, IDs, Count scan exactly the columns they chose.
	}
	for _, c := range columns {
		if !slices.Contains(qc.Fields, c) {
			qc.Fields = append(qc.Fields, c)
		}
	}
}

// prefetch answers a question about rows by id, asking the database about
// every row seen so far and not yet asked about, in one query.
type prefetch[V any] struct {
	mu      sync.Mutex
	asked   map[int]bool
	answers map[int]V
	ids     func() []int
	fetch   func(ctx context.Context, ids []int) (map[int]V, error)
}

func newPrefetch[V any](ids func() []int, fetch func(context.Context, []int) (map[int]V, error)) *prefetch[V] {
	return &prefetch[V]{asked: map[int]bool{}, answers: map[int]V{}, ids: ids, fetch: fetch}
}

// Load returns the answer for id (the zero value when the database has
// none).
func (p *prefetch[V]) Load(ctx context.Context, id int) (V, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.asked[id] {
		batch := []int{id}
		for _, other := range p.ids() {
			if !p.asked[other] && other != id {
				batch = append(batch, other)
			}
		}
		slices.Sort(batch)
		batch = slices.Compact(batch)
		answers, err := p.fetch(ctx, batch)
		if err != nil {
			var zero V
			return zero, err
		}
		for _, b := range batch {
			p.asked[b] = true
		}
		for k, v := range answers {
			p.answers[k] = v
		}
	}
	return p.answers[id], nil
}
