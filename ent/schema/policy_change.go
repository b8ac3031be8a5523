package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// PolicyChange records one change of the access policy: who made it, why,
// and the lines added and removed. It is never updated.
type PolicyChange struct {
	ent.Schema
}

// Mixin of PolicyChange: its rows are scoped like every entity's, with no
// timestamps of its own; in GraphQL, exposed through hand-written queries.
func (PolicyChange) Mixin() []ent.Mixin { return []ent.Mixin{RowScope{}, unlisted} }

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
	return indexed("at")
}
