package audit

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent"

	gen "github.com/casegraph/casegraph/ent"
)

// notRecorded are the types whose changes are not recorded as mutations:
// the trail itself, bookkeeping, and changes recorded by an event of their
// own (policy lines: PolicyChange; grants: EmergencyGranted/Revoked; the
// case timeline, written with every mutation it describes).
var notRecorded = map[string]bool{
	gen.TypeAuditEvent: true, gen.TypeIdempotencyRecord: true, gen.TypePolicyRule: true,
	gen.TypePolicyChange: true, gen.TypeEmergencyGrant: true, gen.TypeCaseEvent: true,
}

// graphQLNames are the ent types GraphQL names otherwise.
var graphQLNames = map[string]string{gen.TypeCaseFile: "Case"}

// recordChanges is an ent hook that records, for a request with a
// Recorder, each record a mutation creates, updates or deletes, and the
// names of the fields and edges it sets or clears: never their values.
func recordChanges() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			rec := FromContext(ctx)
			if rec == nil || notRecorded[m.Type()] {
				return next.Mutate(ctx, m)
			}
			ids, err := targets(ctx, m)
			if err != nil {
				return nil, err
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			if recordLink(rec, m) {
				return v, nil
			}
			if m.Op().Is(ent.OpCreate) {
				if id, ok := createdID(m); ok {
					ids = []int{id}
				}
			}
			typ := m.Type()
			if n, ok := graphQLNames[typ]; ok {
				typ = n
			}
			fields := changedFields(typ, m)
			op := strings.ToLower(strings.TrimPrefix(m.Op().String(), "Op"))
			detail := fmt.Sprintf(`{"op":%q}`, op)
			if len(ids) == 0 {
				ids = []int{0} // an edge record (CaseVictim…) has no id of its own
			}
			for _, id := range ids {
				rec.Change(Mutation, typ, id, fields, func(e *Event) { e.Detail = detail })
			}
			return v, nil
		})
	}
}

// recordLink records a new link between two records (an edge record,
// which has no id of its own) as a change of both: "who linked this victim
// to that case" is then found from either.
func recordLink(rec *Recorder, m ent.Mutation) bool {
	if !m.Op().Is(ent.OpCreate) {
		return false
	}
	link := func(typeA string, idA int, edgeA, typeB string, idB int, edgeB string) {
		rec.Change(Mutation, typeA, idA, []string{typeA + "." + edgeA}, func(e *Event) {
			e.Detail = fmt.Sprintf(`{"op":"link","%s":%d}`, strings.ToLower(typeB), idB)
		})
		rec.Change(Mutation, typeB, idB, []string{typeB + "." + edgeB}, func(e *Event) {
			e.Detail = fmt.Sprintf(`{"op":"link","%s":%d}`, strings.ToLower(typeA), idA)
		})
	}
	switch lm := m.(type) {
	case *gen.CaseVictimMutation:
		v, _ := lm.VictimID()
		c, _ := lm.CaseID()
		link("Victim", v, "cases", "Case", c, "victims")
		return true
	case *gen.ProsecutionDefendantMutation:
		s, _ := lm.SuspectID()
		p, _ := lm.ProsecutionID()
		link("Suspect", s, "prosecutions", "Prosecution", p, "defendants")
		return true
	}
	return false
}

// targets returns the ids an update or delete will touch, asked before it
// runs (afterwards a delete has none left).
func targets(ctx context.Context, m ent.Mutation) ([]int, error) {
	if m.Op().Is(ent.OpCreate) {
		return nil, nil
	}
	if one, ok := m.(interface{ ID() (int, bool) }); ok && m.Op().Is(ent.OpUpdateOne|ent.OpDeleteOne) {
		if id, ok := one.ID(); ok {
			return []int{id}, nil
		}
	}
	many, ok := m.(interface {
		IDs(context.Context) ([]int, error)
	})
	if !ok {
		return nil, nil
	}
	return many.IDs(ctx)
}

func createdID(m ent.Mutation) (int, bool) {
	if one, ok := m.(interface{ ID() (int, bool) }); ok {
		return one.ID()
	}
	return 0, false
}

// changedFields names the fields and edges m sets or clears as
// "Type.field", in GraphQL's spelling.
func changedFields(typ string, m ent.Mutation) []string {
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if n == "updated_at" || n == "version" {
				continue // every update sets them
			}
			out = append(out, typ+"."+camel(n))
		}
	}
	add(m.Fields()...)
	add(m.AddedFields()...)
	add(m.ClearedFields()...)
	add(m.AddedEdges()...)
	add(m.RemovedEdges()...)
	add(m.ClearedEdges()...)
	return dedupe(out)
}

// camel turns ent's legal_name into GraphQL's legalName, case_id into caseID.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] == "id" {
			parts[i] = "ID"
		} else if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
