package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/casegraph/casegraph/rowrule"
)

// CaseVictim links a victim to a case (a victim can appear in more than one
// case). It is the edge schema of CaseFile.victims, so that the reverse
// direction has an index of its own.
type CaseVictim struct {
	ent.Schema
}

// Annotations of CaseVictim: the pair is the key; GraphQL sees the edges.
func (CaseVictim) Annotations() []schema.Annotation {
	return []schema.Annotation{field.ID("case_id", "victim_id"), entgql.Skip(entgql.SkipAll)}
}

// Fields of CaseVictim.
func (CaseVictim) Fields() []ent.Field {
	return []ent.Field{
		field.Int("case_id"),
		field.Int("victim_id"),
		field.Time("linked_at").Default(time.Now).Immutable(),
	}
}

// Edges of CaseVictim.
func (CaseVictim) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("case", CaseFile.Type).Field("case_id").Unique().Required(),
		edge.To("victim", Victim.Type).Field("victim_id").Unique().Required(),
	}
}

// Indexes of CaseVictim.
func (CaseVictim) Indexes() []ent.Index {
	return []ent.Index{index.Fields("victim_id")}
}

// Policy of CaseVictim: see package rowrule.
func (CaseVictim) Policy() ent.Policy { return rowrule.CaseVictimPolicy() }
