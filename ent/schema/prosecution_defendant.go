package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// ProsecutionDefendant links a suspect to a proceeding against them. It is
// the edge schema of Prosecution.defendants, so that the reverse direction
// has an index of its own.
type ProsecutionDefendant struct {
	ent.Schema
}

// Mixin of ProsecutionDefendant: its rows are scoped like every entity's, with no
// timestamps of its own.
func (ProsecutionDefendant) Mixin() []ent.Mixin { return []ent.Mixin{RowScope{}} }

// Annotations of ProsecutionDefendant.
func (ProsecutionDefendant) Annotations() []schema.Annotation {
	return []schema.Annotation{field.ID("prosecution_id", "suspect_id"), entgql.Skip(entgql.SkipAll)}
}

// Fields of ProsecutionDefendant.
func (ProsecutionDefendant) Fields() []ent.Field {
	return []ent.Field{field.Int("prosecution_id"), field.Int("suspect_id")}
}

// Edges of ProsecutionDefendant.
func (ProsecutionDefendant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("prosecution", Prosecution.Type).Field("prosecution_id").Unique().Required(),
		edge.To("suspect", Suspect.Type).Field("suspect_id").Unique().Required(),
	}
}

// Indexes of ProsecutionDefendant.
func (ProsecutionDefendant) Indexes() []ent.Index {
	return indexed("suspect_id")
}
