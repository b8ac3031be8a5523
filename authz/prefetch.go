package authz

import (
	"context"
	"slices"
	"sync"

	"github.com/casegraph/casegraph/ent"
)

// seen collects the ids of the rows a request has loaded, by kind, so that
// the first field check asks about all of them at once: entgql loads a
// whole page (and its nested lists) before any field resolves, so one query
// per fact answers a page of any size.
type seen struct {
	mu      sync.Mutex
	victims []int
	cases   []int
}

func (s *seen) add(v ent.Value) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch rows := v.(type) {
	case []*ent.Victim:
		for _, r := range rows {
			s.victims = append(s.victims, r.ID)
		}
	case []*ent.SupportService:
		for _, r := range rows {
			s.victims = append(s.victims, r.VictimID)
		}
	case []*ent.Suspect:
		for _, r := range rows {
			s.cases = append(s.cases, r.CaseID)
		}
	}
}

func (s *seen) victimIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.victims)
}

func (s *seen) caseIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cases)
}

// observe is an ent interceptor that tells the request in ctx which rows
// its queries returned.
func observe() ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
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
