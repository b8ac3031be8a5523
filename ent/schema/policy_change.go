package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/casegraph/casegraph/rowrule"
)

// PolicyChange records one change of the access policy: who made it, why,
// and the lines added and removed. It is never updated.
type PolicyChange struct {
	ent.Schema
}

// Fields of PolicyChange.
func (PolicyChange) Fields() []ent.Field {
	return []ent.Field{
		field.Time("at").Default(time.Now).Immutable(),
		field.String("actor_subject").Immutable(),
		field.String("actor_agency").Immutable(),
		field.Text("reason").Immutable().NotEmpty(),
		field.JSON("added", [][]string{}).Immutable(),
		field.JSON("removed", [][]string{}).Immutable(),
	}
}

// Indexes of PolicyChange.
func (PolicyChange) Indexes() []ent.Index {
	return []ent.Index{index.Fields("at")}
}

// Annotations of PolicyChange: exposed through hand-written queries.
func (PolicyChange) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of PolicyChange: see package rowrule.
func (PolicyChange) Policy() ent.Policy { return rowrule.SystemOnlyPolicy() }
